#!/usr/bin/env bash
# Installs what slableak needs to build, test and benchmark on Debian 12, then
# configures and builds it into build/. Safe to run again: it installs only
# what is missing and rebuilds incrementally.
#   scripts/setup.sh            install + build (build/slableak)
#   scripts/setup.sh --no-build install only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev   # BPF object, skeleton, static libs
  libcli11-dev nlohmann-json3-dev                                     # CLI, JSON (header-only)
  nettle-dev                                                          # SHA-256 for the pages' CSP hashes
  googletest libgtest-dev                                             # tests
  prometheus prometheus-node-exporter                                 # promtool, textfile collector tests
  qemu-system-x86 busybox-static cpio                                 # kernel matrix
  mmdebstrap                                                          # deployment test: the Debian 12 guest image
  bpftrace python3                                                    # benchmark reference, test helpers
  systemd                                                             # systemd-analyze verify of the unit
  libclang-rt-14-dev                                                  # libFuzzer and sanitizer runtimes for clang
  strace curl groff-base man-db dpkg-dev                              # ops tests: unit sandbox check, scrapes, man page, .deb
  shellcheck                                                          # ops test: every shell script
  chromium fonts-dejavu-core nodejs tmux                              # browser tests (headless), top through tmux
  xfsprogs e2fsprogs                                                  # calibration test: XFS and ext4 (ea_inode) images
  golang-go golang-github-google-pprof-dev protobuf-compiler          # pprof tests: go tool pprof, protoc + profile.proto
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian splits npm from nodejs; some nodejs builds carry it themselves.
command -v npm >/dev/null || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages: ${missing[*]}; run as root (sudo $0)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  # Installing prometheus and node_exporter must not start their services
  # on this machine: tests start their own instances on loopback ports.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
  fi
  trap '[ "$own_policy" = 1 ] && rm -f "$policy"' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The browser tests drive /usr/bin/chromium through playwright-core (pinned
# in tests/browser/package-lock.json; it downloads no browser).
if [ ! -f tests/browser/node_modules/playwright-core/package.json ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${1:-}" != "--no-build" ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc)"
  echo "setup: built build/slableak"
fi
