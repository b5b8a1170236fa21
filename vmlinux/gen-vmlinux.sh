#!/usr/bin/env bash
# Regenerates vmlinux/<arch>/vmlinux.h (arch: x86 or arm64) from a kernel's BTF.
# The header is checked in so that a build needs no BTF on the build host; CO-RE
# relocations make the resulting BPF object portable to other kernels, so the
# header only has to be new enough to name every type the programs use.
#
#   vmlinux/gen-vmlinux.sh            this machine's architecture, from the running
#                                     kernel (/sys/kernel/btf/vmlinux)
#   vmlinux/gen-vmlinux.sh arm64      another architecture: from the .BTF section of
#                                     Debian's newest cloud kernel of that architecture
#                                     in the matrix (scripts/slk-lab matrix --arch
#                                     arm64 --fetch-only; no boot, no root needed if the
#                                     kernel is already in the cache)
#   BTF=FILE vmlinux/gen-vmlinux.sh ARCH     from a raw BTF file or an ELF vmlinux
#   IMAGE=FILE vmlinux/gen-vmlinux.sh ARCH   from a kernel image (vmlinux/extract-btf.py)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
host_arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
arch=${1:-$host_arch}
case $arch in
x86) deb_arch=amd64 ;;
arm64) deb_arch=arm64 ;;
*) echo "gen-vmlinux: unknown architecture '$arch' (x86 or arm64)" >&2; exit 2 ;;
esac
series=${SERIES:-6.18} # the newest kernel of the matrix names every type we use

tmpd=$(mktemp -d)
trap 'rm -rf "$tmpd"' EXIT
btf=${BTF:-}
image=${IMAGE:-}
if [ -z "$btf" ] && [ -z "$image" ]; then
	if [ "$arch" = "$host_arch" ]; then
		btf=/sys/kernel/btf/vmlinux
		from="running kernel $(uname -r)"
	else
		kdir=$("$here/../scripts/slk-lab" matrix --arch "$deb_arch" --kernels "$series" \
			--fetch-only | awk -v s="$series" '$1 == s { print $2; exit }')
		{ [ -n "$kdir" ] && [ -s "$kdir/vmlinuz" ]; } ||
			{ echo "gen-vmlinux: no $deb_arch $series kernel from scripts/slk-lab matrix" >&2; exit 1; }
		image=$kdir/vmlinuz
		from="$(sed -n 's/^package=//p;s/^version=//p' "$kdir/package.txt" | paste -sd' ')"
	fi
fi
if [ -n "$image" ]; then
	python3 "$here/extract-btf.py" "$image" "$tmpd/btf"
	btf=$tmpd/btf
	from=${from:-$(basename "$image")}
fi
from=${from:-$btf}
[ -r "$btf" ] || { echo "gen-vmlinux: $btf not readable; pass BTF=/path/to/vmlinux" >&2; exit 1; }
mkdir -p "$here/$arch"
{
	echo "/* vmlinux/gen-vmlinux.sh $arch: BTF of $from */"
	bpftool btf dump file "$btf" format c
} > "$tmpd/vmlinux.h"
mv "$tmpd/vmlinux.h" "$here/$arch/vmlinux.h"
echo "wrote $here/$arch/vmlinux.h from $from"
