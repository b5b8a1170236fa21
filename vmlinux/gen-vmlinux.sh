#!/usr/bin/env bash
# Regenerates vmlinux/<arch>/vmlinux.h from the running kernel's BTF.
# The header is checked in so that a build needs no BTF on the build host; CO-RE
# relocations make the resulting BPF object portable to other kernels, so the
# header only has to be new enough to name every type the programs use.
set -euo pipefail
arch=${1:-$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')}
btf=${BTF:-/sys/kernel/btf/vmlinux}
here=$(cd "$(dirname "$0")" && pwd)
[ -r "$btf" ] || { echo "gen-vmlinux: $btf not readable; pass BTF=/path/to/vmlinux" >&2; exit 1; }
mkdir -p "$here/$arch"
tmp=$(mktemp "$here/$arch/.vmlinux.h.XXXXXX")
trap 'rm -f "$tmp"' EXIT
bpftool btf dump file "$btf" format c >"$tmp"
mv "$tmp" "$here/$arch/vmlinux.h"
trap - EXIT
echo "wrote $here/$arch/vmlinux.h from $btf ($(uname -r))"
