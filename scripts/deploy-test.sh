#!/usr/bin/env bash
# deploy-test.sh - slableak deployed for real: a Debian 12 guest under qemu (TCG)
# with systemd as PID 1, the project's .deb installed with apt, the exporter
# started by systemd, node_exporter and Prometheus from Debian scraping it, the
# project's alert rules loaded. Verdict on the host, one line per check.
#
# Usage:
#   scripts/deploy-test.sh [--deb PATH] [--holder PATH] [--out DIR] [options]
#
# Without --deb it packages the build tree (cpack -G DEB --config build/CPackConfig.cmake,
# the same .deb tests/ops/package_test.sh checks); without --holder it builds a static
# tests/support/holder.c.
#
# Options:
#   --build DIR      build tree to package (default build/)
#   --deb PATH       slableak_*.deb to install in the guest (default: package --build)
#   --holder PATH    statically linked holder (default: build it)
#   --out DIR        keep the results (console.log, results/, verdict.txt) in DIR
#                    (default: a temporary directory, removed at exit)
#   --timeout SECS   wall-clock limit for the guest, default 1500
#   --memory MIB     guest memory, default 2048
#   --scenario FILE  run FILE in the guest instead of scripts/deploy/scenario.sh (debugging;
#                    the verdict then checks what FILE recorded)
#   --image-only     build (or find) the cached guest image, print its path, boot nothing
#   --rebuild-image  build the image again even if cached
#
# Environment:
#   SLABLEAK_DEPLOY_CACHE  where the guest image lives (default /var/cache/slableak-deploy;
#                          never in the source tree)
#   SLABLEAK_KERNEL_CACHE, SLABLEAK_APT_MIRROR, SLABLEAK_APT_KEYRING: as for
#                          scripts/slk-lab matrix, which fetches the guest kernel
#                          (Debian 12's linux-image-6.1 cloud kernel; NVMe and ext4 are
#                          built in, so it boots the image without an initramfs)
#
# The guest image: mmdebstrap --variant=minbase of bookworm from the mirror of this
# machine's apt configuration, with systemd, prometheus, prometheus-node-exporter,
# bpftool, curl and libbpf1 (the .deb's run-time library), customised by
# scripts/deploy/customize.sh, as an ext4 file system image; cached under
# $SLABLEAK_DEPLOY_CACHE/images/<hash of its recipe>/ and booted with snapshot=on
# (the cached image is never written). One NVMe controller, three namespaces:
#   nvme0n1  the root file system
#   nvme0n2  the payload: a raw tar of the .deb, the holder, scripts/deploy/scenario.sh
#            (as run.sh), the Prometheus configuration and the test-only rules copy
#   nvme0n3  the results: the guest writes a raw tar of its results directory
# The scenario (scripts/deploy/scenario.sh) runs under systemd in the guest and
# records evidence; scripts/deploy/check.py asserts on it here, on the host.
# Exit status: 0 if every check passed, 1 if any failed, 2 on usage/setup errors.
#
# More: docs/operations.md ("Deployment test").

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
DDIR=$HERE/deploy

BUILD=$REPO/build
DEB=
HOLDER=
OUT=
TIMEOUT=1500
MEMORY=2048
IMAGE_ONLY=0
REBUILD=0
SCENARIO=$HERE/deploy/scenario.sh
CACHE=${SLABLEAK_DEPLOY_CACHE:-/var/cache/slableak-deploy}
KEYRING=${SLABLEAK_APT_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
SUITE=bookworm
KERNEL_SERIES=6.1
# Packages in the guest beyond minbase. libbpf1 (and its libelf1/zlib1g) is what a
# dynamically linked slableak .deb depends on: the guest has no network, so apt
# must find the .deb's dependencies installed.
GUEST_PACKAGES=systemd,systemd-sysv,udev,prometheus,prometheus-node-exporter,bpftool,curl,procps,libbpf1,ca-certificates

log() { printf 'deploy-test: %s\n' "$*" >&2; }
die() { printf 'deploy-test: error: %s\n' "$*" >&2; exit 2; }
usage() { sed -n '2,/^# More:/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
	case "$1" in
	--build) BUILD=${2:?}; shift 2 ;;
	--deb) DEB=${2:?}; shift 2 ;;
	--holder) HOLDER=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--memory) MEMORY=${2:?}; shift 2 ;;
	--scenario) SCENARIO=${2:?}; shift 2 ;;
	--image-only) IMAGE_ONLY=1; shift ;;
	--rebuild-image) REBUILD=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds, got '$TIMEOUT'"
[[ $MEMORY =~ ^[0-9]+$ ]] || die "--memory wants MiB, got '$MEMORY'"
[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap builds the image as root; the matrix cache is root's)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/deploy-test.XXXXXX")
QEMU_PID=
cleanup() {
	[ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for t in qemu-system-x86_64 mmdebstrap mkfs.ext4 python3 tar; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/setup.sh --no-build installs it)"
done
[ -r "$KEYRING" ] || die "keyring $KEYRING not readable"
case "$(realpath -m "$CACHE")/" in
"$(cd "$REPO" && pwd -P)"/*) die "SLABLEAK_DEPLOY_CACHE ($CACHE) must be outside the source tree" ;;
esac
mkdir -p "$CACHE/images" 2>/dev/null && [ -w "$CACHE" ] ||
	die "image cache $CACHE is not writable (set SLABLEAK_DEPLOY_CACHE)"

# ------------------------------------------------------------------ guest image
# The recipe's hash names the image: a change to the package list, the suite or
# the customisation builds a new one.
recipe_hash() {
	{
		echo "$SUITE $GUEST_PACKAGES"
		cat "$DDIR/customize.sh" "$DDIR/runner.sh" "$DDIR/runner.service"
	} | sha256sum | cut -c1-16
}

IMAGE=
build_image() {
	local h dir work mirror t0 t1
	h=$(recipe_hash)
	dir=$CACHE/images/$SUITE-$h
	if [ $REBUILD = 0 ] && [ -s "$dir/root.img" ]; then
		IMAGE=$dir/root.img
		log "guest image: cached $dir"
		return 0
	fi
	mirror=${SLABLEAK_APT_MIRROR:-$(PYTHONPATH=$HERE python3 -B -c "from lab import debian; print(debian.mirror())")} || die "no Debian mirror found"
	log "building the guest image ($SUITE, mirror from the apt configuration: $mirror)"
	t0=$(date +%s)
	work=$(mktemp -d "$CACHE/tmp.XXXXXX")
	if ! nice mmdebstrap --variant=minbase --mode=root --include="$GUEST_PACKAGES" \
		--aptopt='Acquire::Languages "none"' \
		--customize-hook="sh '$DDIR/customize.sh' \"\$1\" '$DDIR'" \
		"$SUITE" "$work/root" "deb [signed-by=$KEYRING] $mirror $SUITE main" \
		> "$work/mmdebstrap.log" 2>&1; then
		tail -n 40 "$work/mmdebstrap.log" >&2
		rm -rf "$work"
		die "mmdebstrap failed"
	fi
	chroot "$work/root" dpkg-query -W -f='${Package} ${Version}\n' > "$work/packages.txt"
	# 3 GiB, sparse: room for apt, Prometheus' TSDB and the journal.
	truncate -s 3G "$work/root.img"
	nice mkfs.ext4 -q -F -L slableak-root -d "$work/root" "$work/root.img" ||
		{ rm -rf "$work"; die "mkfs.ext4 -d failed"; }
	rm -rf "$work/root" "$dir"
	t1=$(date +%s)
	{
		echo "suite=$SUITE"
		echo "mirror=$mirror"
		echo "packages=$GUEST_PACKAGES"
		echo "built=$(date -u +%FT%TZ) seconds=$((t1 - t0))"
	} > "$work/image.txt"
	mv "$work" "$dir"
	IMAGE=$dir/root.img
	log "guest image built in $((t1 - t0)) s: $dir"
}

exec 9> "$CACHE/.lock"
flock 9
build_image
flock -u 9
if [ $IMAGE_ONLY = 1 ]; then
	echo "$IMAGE"
	exit 0
fi

# ------------------------------------------------------------------ kernel (the matrix's cache)
kdir=$("$HERE/slk-lab" matrix --kernels "$KERNEL_SERIES" --fetch-only | awk -v s="$KERNEL_SERIES" '$1 == s { print $2 }')
[ -n "$kdir" ] && [ -s "$kdir/vmlinuz" ] || die "no $KERNEL_SERIES kernel from scripts/slk-lab matrix --fetch-only"
KERNEL=$kdir/vmlinuz

# ------------------------------------------------------------------ payload
P=$TMP/payload
mkdir -p "$P"
if [ -z "$DEB" ]; then
	[ -f "$BUILD/CPackConfig.cmake" ] || die "$BUILD/CPackConfig.cmake missing: build first (scripts/setup.sh) or give --deb"
	log "packaging $BUILD (cpack -G DEB)"
	nice cmake --build "$BUILD" -j2 --target slableak > "$TMP/build.log" 2>&1 ||
		{ tail -n 30 "$TMP/build.log" >&2; die "building slableak failed"; }
	cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$TMP/deb" > "$TMP/cpack.log" 2>&1 ||
		{ tail -n 30 "$TMP/cpack.log" >&2; die "cpack -G DEB failed"; }
	DEB=$(ls "$TMP"/deb/slableak_*.deb)
fi
[ -f "$DEB" ] || die "no .deb at '$DEB'"
case $(basename "$DEB") in slableak_*.deb) ;; *) die "--deb wants a slableak_*.deb, got $DEB" ;; esac
cp "$DEB" "$P/"
if [ -z "$HOLDER" ]; then
	gcc -std=c11 -O2 -static -o "$TMP/holder" "$REPO/tests/support/holder.c" || die "building the static holder failed"
	HOLDER=$TMP/holder
fi
install -m 0755 "$HOLDER" "$P/holder"
install -m 0755 "$SCENARIO" "$P/run.sh"
cp "$DDIR/scenario.conf" "$DDIR/prometheus.yml" "$P/"
# The test-only rules copy: the project's rules, SlableakStackDominatesGrowth's
# `for: 1h` shortened (nothing else changes), checked by promtool here first.
python3 "$DDIR/check.py" shorten-for "$REPO/deploy/prometheus/slableak-rules.yml" \
	SlableakStackDominatesGrowth 10s > "$P/slableak-rules.deploy-test.yml" || die "cannot shorten for: in the rules"
if command -v promtool > /dev/null; then
	promtool check rules "$P/slableak-rules.deploy-test.yml" > "$TMP/promtool.log" 2>&1 ||
		{ cat "$TMP/promtool.log" >&2; die "the test rules copy does not pass promtool check rules"; }
fi
tar -cf "$TMP/payload.tar" -C "$P" .
truncate -s 256M "$TMP/results.img"

# ------------------------------------------------------------------ boot
if [ -n "$OUT" ]; then
	mkdir -p "$OUT"
	D=$(cd "$OUT" && pwd)
else
	D=$TMP/out
	mkdir -p "$D"
fi
rm -rf "$D/results" && mkdir -p "$D/results"
log "booting $(sed -n 's/^package=//p' "$kdir/package.txt") with systemd (image $(dirname "$IMAGE"), timeout ${TIMEOUT}s)"
t0=$(date +%s)
rc=0
# -smp 2: two vCPUs (multi-threaded TCG) so a guest service's CPU burst does not
# stall the scenario; no NIC: everything in the guest is on loopback.
timeout -k 10 "$TIMEOUT" nice qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m "$MEMORY" \
	-nographic -no-reboot -nic none \
	-kernel "$KERNEL" \
	-append "console=ttyS0 root=/dev/nvme0n1 rootfstype=ext4 rw panic=-1 quiet systemd.show_status=error" \
	-serial mon:stdio \
	-device nvme,id=nvme0,serial=slableak-deploy \
	-drive "if=none,id=root,format=raw,snapshot=on,file=${IMAGE//,/,,}" \
	-device nvme-ns,drive=root,bus=nvme0,nsid=1 \
	-drive "if=none,id=payload,format=raw,readonly=on,file=${TMP//,/,,}/payload.tar" \
	-device nvme-ns,drive=payload,bus=nvme0,nsid=2 \
	-drive "if=none,id=results,format=raw,file=${TMP//,/,,}/results.img" \
	-device nvme-ns,drive=results,bus=nvme0,nsid=3 \
	< /dev/null > "$D/console.log" 2> "$D/qemu.stderr" || rc=$?
t1=$(date +%s)
tr -d '\r' < "$D/console.log" > "$D/console.tmp" && mv "$D/console.tmp" "$D/console.log"
tar -xf "$TMP/results.img" -C "$D/results" 2> /dev/null || true
log "guest ran $((t1 - t0)) s (qemu exit $rc)"
if [ ! -s "$D/results/steps.txt" ]; then
	echo "DEPLOY-RESULT status=FAIL detail=no-results(qemu-rc=$rc,seconds=$((t1 - t0)))"
	echo "last console lines:"
	tail -n 60 "$D/console.log" | sed 's/^/  | /'
	[ -n "$OUT" ] && echo "logs: $D"
	exit 1
fi
vrc=0
python3 "$DDIR/check.py" verdict "$D/results" --expected $(($(sed -n 's/^HOLDERS=//p' "$DDIR/scenario.conf") * $(sed -n 's/^HOLDER_COUNT=//p' "$DDIR/scenario.conf"))) \
	--guest-seconds $((t1 - t0)) | tee "$D/verdict.txt" || vrc=$?
[ -z "$OUT" ] || echo "logs: $D"
exit $vrc
