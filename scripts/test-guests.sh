#!/usr/bin/env bash
# Every test that boots a qemu guest (the "guest lane" of scripts/test.sh; also
# runnable alone, as root, after scripts/setup.sh). Each stage prints its run
# time; a failing stage fails the lane. Guests run under qemu TCG and never touch
# the host kernel's slab, so this lane runs next to the host lane's tests.
# Add a guest stage here, with a comment saying what it proves and its run time.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() {
  local name=$1 t0=$SECONDS
  shift
  echo "== guest stage: $name"
  "$@"
  echo "== guest stage: $name: $((SECONDS - t0)) s"
}

# Kernel matrix: slableak attached, then 3000 objects each of plain kmalloc, an
# accounted kind and SysV messages, each checked against the guest's
# /proc/slabinfo growth, on Debian 5.10, 6.1, 6.12 and 6.18 kernels; fails if any
# kernel fails. Builds a static slableak in build-static/ and a static holder;
# kernels are fetched once into /var/cache/slableak-kernels. About a minute when
# cached. See docs/kernels.md.
stage matrix scripts/slk-lab matrix
# A named cache (sock_inode_cache, held through socketpair) on the same four
# kernels: counted exactly on all four (5.10: the object's slab names the cache;
# with --method derived it is refused in one line). Reuses the static slableak.
stage named scripts/slk-lab matrix --scenario named --slableak build-static/slableak
# kmalloc-large on the same four kernels: 3000 held 20000-byte "user" keys
# (kmallocs above kmalloc-8k, served by the page allocator) counted within 2 %
# under user_preparse at 32 KiB each, their freed kvmalloc copies not held, and
# /proc/meminfo Slab: minus the slab caches' pages grown by the same bytes.
# Reuses the static slableak. 47.5 s of guests for the four (8.8-14.2 s each,
# measured 2026-12-06 under load); see docs/kernels.md.
stage large scripts/slk-lab matrix --scenario large --slableak build-static/slableak
# The kernel's own books: the four kernels booted with slub_debug=U on the followed
# caches, four kinds held and one path churned; slableak's objects per stack must
# match the kernel's alloc_traces (call sites in alloc_calls on 5.10) within 1 % or
# 2 objects, with no stack the kernel does not list, and fingerprints must serve at
# least 0.1 of tracked allocations. One boot per kernel: 199 s for the four guests
# at a load average of about 15 on 2 cores (43-62 s each; hold took 30-41 s each
# in the same hour). Reuses the static slableak. See docs/kernels.md.
stage books scripts/slk-lab matrix --scenario books --slableak build-static/slableak
# Modules loaded after the exporter started are symbolized although it has
# dropped CAP_SYSLOG: on 5.10 and 6.18, slableak export attaches, then Debian's
# tun module is loaded and 500 opens of /dev/net/tun held; the textfile must name
# tun_chr_open+0x.. [tun] for all 500 (slabinfo growth checks the cache); tun is
# unloaded, loaded again at another address, and checked again. One boot per
# kernel: 21 s for both (8.4 and 10.8 s) at a load average of about 14 on 2 cores.
stage modules scripts/slk-lab modules --slableak build-static/slableak
# The same on Debian's arm64 cloud kernels under qemu-system-aarch64 -machine virt
# -cpu max (TCG), with a static arm64 slableak cross-built in
# build-arm64-static/ (setup-cross-arm64.sh installs the cross toolchain, arm64
# libraries and qemu). See docs/kernels.md for its run time.
stage cross-setup scripts/setup-cross-arm64.sh
stage matrix-arm64 scripts/slk-lab matrix --arch arm64
# Deployment and fleet (scripts/slk-lab deploy; docs/operations.md "Deployment
# test", "Fleet test"): the .deb packaged from build/ installed with apt in a
# Debian 12 guest on 6.1 (systemd as PID 1, Debian's prometheus and
# node_exporter, the project's alert rules), then the exporter killed, its
# textfile directory removed, node_exporter stopped, a second unit started, the
# package removed; beside it a second guest on 6.12 with the same .deb, both
# leaking through one netlink path while this host's Prometheus scrapes both:
# one stack_fn_id, two hosts affected, the fleet alert, both /debug/pprof/slab
# profiles decoded and merged by go tool pprof. Fails if any of the 21 checks
# fails. The guest image is built once into /var/cache/slableak-deploy (4-8 min).
# 375 s and 369 s in two runs (both guests, image cached; the alert fired 34 s
# into the leak), measured 2026-12-07 on the 2-core development VM under load.
stage deploy scripts/slk-lab deploy
# The flight recorder at a real OOM (scripts/slk-lab oom; docs/operations.md
# "OOM guest test"): the .deb's unit as shipped in two 320 MiB Debian 12 guests
# on 6.1 and 6.12 (one before the bpf_get_kmem_cache kfunc of 6.13), booted at
# once from the deploy stage's image; holder drip-oom leaks kmalloc-2k until
# the OOM killer kills a memory hog; the host reads each root disk after the
# guest powered itself off. Fails unless the capture on disk names the hog,
# names the holder's stack as the top leaking kmalloc-2k stack, and was on disk
# within 5 s of the first kill, with the holder's objects still held.
# Measured 2026-12-07: 131 s and 149 s for the stage in two runs (10-18 s
# packaging; guests 113-128 s from boot to power-off, load average 5-6 on 2 cores).
stage oom scripts/slk-lab oom
