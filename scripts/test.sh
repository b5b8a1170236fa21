#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs unit,
# integration and operations tests (CTest), the sanitizer build, the fuzzers,
# the exporter soak, the kernel matrix and the qemu deployment test. Run as root: integration tests load BPF programs. Under CI=true an
# integration test that would skip fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir build --output-on-failure --timeout 600 "$@"
# Hardening (docs/reliability.md): the suite under ASan+UBSan, each fuzz
# target for FUZZ_SECONDS (30), and the exporter soak for SOAK_SECONDS.
scripts/sanitize.sh
scripts/fuzz.sh
SOAK_SECONDS=${SOAK_SECONDS:-300} scripts/soak.sh
# Kernel matrix: the end-to-end scenario (slableak attached, then 3000 objects each of
# plain kmalloc, an accounted kind and SysV messages, each checked against the guest's
# /proc/slabinfo growth) on Debian 5.10, 6.1, 6.12 and 6.18 kernels under qemu TCG;
# fails if any kernel fails. Builds a static slableak in build-static/ and a static
# holder; kernels are fetched once into /var/cache/slableak-kernels. About 57 s when
# cached (46 s for the single-kind scenario before). See docs/kernels.md. All qemu
# guests run through one harness, scripts/slk-lab (scripts/lab/README.md).
scripts/slk-lab matrix
# A named cache (sock_inode_cache, held through socketpair) on the same four kernels:
# counted exactly on all four (5.10: the object's slab names the cache; with
# --method derived it is refused in one line). Reuses the static slableak; about
# as long as the run above (55.8 s measured).
scripts/slk-lab matrix --scenario named --slableak build-static/slableak
# The same scenario on Debian's arm64 cloud kernels (same four series) under
# qemu-system-aarch64 -machine virt -cpu max (TCG), with a static arm64 slableak
# cross-built in build-arm64-static/ (scripts/setup-cross-arm64.sh installs the cross
# toolchain, arm64 libraries and qemu). Kernels and an arm64 busybox are cached
# next to the x86-64 ones. See docs/kernels.md for its run time.
scripts/setup-cross-arm64.sh
scripts/slk-lab matrix --arch arm64
# Deployment: the .deb packaged from build/ installed with apt in a Debian 12 guest
# (systemd as PID 1, Debian's prometheus and node_exporter, the project's alert
# rules) under qemu TCG, then the exporter killed, its textfile directory removed,
# node_exporter stopped, a second unit started, the package removed; fails if any
# check fails. The guest image is built once into /var/cache/slableak-deploy (2-4.5
# min); a run takes about 7.5 min on an idle machine. See docs/operations.md
# ("Deployment test").
scripts/deploy-test.sh
