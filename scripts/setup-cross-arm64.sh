#!/usr/bin/env bash
# Installs what building and proving slableak for arm64 on this x86-64 Debian 12
# machine needs: the cross compilers, the arm64 (multiarch) builds of the libraries
# slableak links statically, and qemu-system-aarch64 for the arm64 kernel matrix.
# Safe to run again: it installs only what is missing. Then
#   cmake --preset arm64-static && cmake --build --preset arm64-static   # build-arm64-static/slableak
#   scripts/slk-lab matrix --arch arm64
set -euo pipefail

packages=(
  gcc-aarch64-linux-gnu g++-aarch64-linux-gnu                     # cross compilers (libstdc++ too)
  libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 libzstd-dev:arm64   # static libs for arm64
  nettle-dev:arm64                                                  # SHA-256 (CSP hashes), as on amd64
  qemu-system-arm                                                   # qemu-system-aarch64: arm64 matrix
)

need_arch=0
dpkg --print-foreign-architectures | grep -qx arm64 || need_arch=1
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ $need_arch = 0 ] && [ ${#missing[@]} = 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-cross-arm64: run as root (sudo $0) to add the arm64 architecture and install: ${missing[*]:-nothing else}" >&2
  exit 1
fi
if [ $need_arch = 1 ]; then
  echo "setup-cross-arm64: dpkg --add-architecture arm64"
  dpkg --add-architecture arm64
fi
echo "setup-cross-arm64: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
