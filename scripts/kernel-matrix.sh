#!/usr/bin/env bash
# kernel-matrix.sh - run the slableak end-to-end scenario on several Debian kernels
# under qemu (TCG, no KVM needed) and report PASS/FAIL per kernel.
#
# Usage:
#   scripts/kernel-matrix.sh [--slableak PATH] [--holder PATH] [options]
#
# Without --slableak it builds a static slableak from this checkout
#   cmake -S . -B build-static -DSLABLEAK_STATIC=ON -DSLABLEAK_TESTS=OFF -DCMAKE_BUILD_TYPE=Release
#   make -C build-static slableak
# (for --arch arm64: build-arm64-static, cross-compiled with
# cmake/toolchains/aarch64-linux-gnu.cmake) and without --holder a static holder
# (gcc -static tests/support/holder.c, or aarch64-linux-gnu-gcc, in a temp dir).
#
# Options:
#   --arch ARCH         amd64 (default) or arm64: which Debian cloud kernels (-cloud-ARCH)
#                       and which qemu (env SLABLEAK_MATRIX_ARCH). arm64 boots under
#                       qemu-system-aarch64 -machine virt -cpu max (TCG) and needs the
#                       cross toolchain (scripts/setup-cross-arm64.sh)
#   --kernels "5.10 6.1 6.12 6.18"  kernel series to test (see scripts/matrix/kernels.list;
#                                   SERIES@SUITE picks a suite for a series not listed there)
#   --slableak PATH     statically linked slableak binary   (env SLABLEAK_BIN; default: build it)
#   --holder PATH       statically linked holder test program (env HOLDER_BIN; default: build it)
#   --timeout SECS      wall-clock limit for one boot, default 300 (arm64: 900; cost: 1800)
#   --attach-timeout S  how long the guest waits for "slableak: tracing", default 60
#                       (arm64: 300)
#   --kinds "kmalloc cg msg"  hold: the holder kinds held at once, started one after
#                       another: netlink skbs (plain kmalloc), pipe rings (accounted:
#                       kmalloc-cg-2k from 5.14, kmalloc-2k before), SysV messages
#                       (accounted; the msg_msg-2k slab-bucket cache from 6.11). Default
#                       all three
#   --caches "kmalloc-2k kmalloc-cg-2k msg_msg-2k"  hold: caches slableak follows (those
#                       the guest kernel has)
#   --count N           objects each holder keeps (holder KIND N), default 3000
#   --tolerance PCT     allowed deviation of each held count, default 2 (%)
#   --func REGEX        named: expected kernel function in the holder's stack (full match
#                       on the frame's function name), default __sys_socketpair
#   --cache NAME        named: slab cache to snapshot, default sock_inode_cache
#   --method M          slableak --method (auto, kfunc, slab, derived), default auto; with
#                       auto 6.13+ kernels use kfunc, older ones slab
#   --duration D        slableak snapshot --duration, default 6s (counted from attach; must
#                       cover the holders' start-up: ~0.15 s each measured under TCG on
#                       x86-64)
#   --stop duration|signal  how the snapshot ends: at the end of --duration (default on
#                       amd64), or by SIGINT once the holder is ready (default on arm64,
#                       where the holder's start-up under TCG took 1.4 s on a quiet host
#                       and 6-16 s on a loaded one: no fixed duration is both short and
#                       safe). Either way the report must come after "ready"
#   --memory MIB        guest memory, default 1024
#   --scenario named    a named (non-kmalloc) cache instead: holder sock COUNT keeps one end
#                       of COUNT AF_UNIX socketpairs; --cache sock_inode_cache, --func
#                       __sys_socketpair. Before 6.0 a kmem_cache_alloc event carries no
#                       cache: the slab walk (auto, slab) names it from the object; with
#                       --method derived there the PASS is slableak's refusal, asserted
#                       (exit 2, one line, "from Linux 6.0 on", nothing traced).
#   --scenario hold|cost  hold (default): the kinds above, each checked against the
#                       guest's /proc/slabinfo (below). cost: no verdict on counts;
#                       the guest runs `churn OPS 0 1500` untraced, under bench/floor
#                       (empty programs on kmalloc and kfree), slableak exact, and exact
#                       --no-stack-cache, --rounds times in rotated order, and the host
#                       prints each one's added ns per kmalloc+kfree pair and its ratio
#                       to the floor of the same boot (MATRIX-COST line). Defaults to
#                       --kernels 6.18 and the cache msg_msg-2k (exact names need 6.13+)
#   --rounds N          cost: rounds (default 5)
#   --ops N             cost: churn operations per measurement (default 20000)
#   --cost-cache NAME   cost: the churned cache (default msg_msg-2k)
#   --churn PATH        cost: static churn binary (env CHURN_BIN; default: build bench/churn.c)
#   --floor PATH        cost: static bench/floor binary (env FLOOR_BIN; default: make
#                       bench_floor in the static build directory)
#   --out DIR           keep logs (console.log, data.log, slableak.json, ...) in DIR/<series>
#                       (default: a temporary directory, removed at exit)
#   --refresh           re-resolve the newest package of each series (apt update)
#                       instead of re-using the kernels already in the cache
#   --fetch-only        fetch/extract the kernels, print where they are, boot nothing
#
# Environment:
#   SLABLEAK_KERNEL_CACHE  where kernels and the private apt state live
#                          (default /var/cache/slableak-kernels; never in the source tree)
#   SLABLEAK_APT_MIRROR    override the Debian mirror URI (default: the first http(s)
#                          non-security "deb" entry of this machine's apt configuration)
#   SLABLEAK_APT_KEYRING   keyring for signed-by (default
#                          /usr/share/keyrings/debian-archive-keyring.gpg)
#
# What happens: each series is resolved to the newest linux-image-<series>.*-cloud-<arch>
# package of its suite with a PRIVATE apt configuration (own lists, cache, sources,
# status; the system's apt state is not touched), downloaded once, and only
# boot/vmlinuz-* is kept (dpkg-deb -x) under $SLABLEAK_KERNEL_CACHE/kernels/. One
# initramfs (busybox-static + scripts/matrix/init + the two payload binaries) is built per
# run (for arm64 with busybox-static:arm64, fetched once into the cache like a kernel).
# Each kernel boots with
#   qemu-system-x86_64 -accel tcg -cpu max -m 1024 -nographic -no-reboot \
#     -kernel vmlinuz -initrd initrd -append "console=ttyS0 panic=-1 quiet"
# (console = first serial port on stdio, explicitly: -serial mon:stdio) plus a second
# serial port (ttyS1) that carries the guest's data to a file; on arm64
#   qemu-system-aarch64 -machine virt -cpu max,pauth-impdef=on -accel tcg ... \
#     -append "console=ttyAMA0 ..."     (env SLABLEAK_MATRIX_CPU overrides the -cpu value)
# where the virt machine has one UART, so the data blocks share the console. The guest starts
#   slableak snapshot --duration 6s --cache C... --method auto --format json --top 0
# in the background (slableak only sees allocations made after it attaches), waits for
# "slableak: tracing" on its stderr (a load failure if it exits first), copies
# /proc/slabinfo, then for each kind starts `holder KIND 3000`, waits for "ready" and
# copies /proc/slabinfo again; waits for slableak's report, quits the holders, sends the
# files (base64, framed) over ttyS1 and powers off. The host checks
# (scripts/matrix/matrix_helper.py kinds) that each kind is counted within 2% in the
# cache whose slabinfo grew while its holder started, under stacks whose first frame is
# the kind's allocating function, that the cache grew by the count within 2%, and that
# none of it is filed elsewhere. One line per kernel:
#   MATRIX-RESULT arch=amd64 series=6.1 kernel=<uname -r> status=PASS|FAIL
#                 method=kfunc|slab|derived held=KIND:CACHE:COUNTED/GREW,... ... detail=...
# (named: held=N, checked by matrix_helper.py check against --cache and --func.)
# When slableak failed to load (or exited non-zero) its stderr, with the verifier log, is
# printed below the line, after "slableak failed to load on kernel <uname -r>".
# Exit status: 0 if every kernel passed, 1 if any failed, 2 on usage/setup errors.
#
# More: docs/kernels.md.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MATRIX_DIR=$HERE/matrix
KERNELS_LIST=$MATRIX_DIR/kernels.list
HELPER=$MATRIX_DIR/matrix_helper.py
GUEST_INIT=$MATRIX_DIR/init

KERNELS=
ARCH=${SLABLEAK_MATRIX_ARCH:-amd64}
SLABLEAK=${SLABLEAK_BIN:-}
HOLDER=${HOLDER_BIN:-}
TIMEOUT=
ATTACH_TIMEOUT=
FUNC=__sys_socketpair
COUNT=3000
TOLERANCE=2
CACHE_NAME=sock_inode_cache
KINDS_HELD="kmalloc cg msg"
CACHES="kmalloc-2k kmalloc-cg-2k msg_msg-2k"
METHOD=auto
DURATION=
STOP=
SCENARIO=hold
ROUNDS=5
OPS=20000
COST_CACHE=msg_msg-2k
CHURN=${CHURN_BIN:-}
FLOOR=${FLOOR_BIN:-}
MEMORY=1024
OUT=
REFRESH=0
FETCH_ONLY=0
KCACHE=${SLABLEAK_KERNEL_CACHE:-/var/cache/slableak-kernels}
KEYRING=${SLABLEAK_APT_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

log() { printf 'kernel-matrix: %s\n' "$*" >&2; }
die() { printf 'kernel-matrix: error: %s\n' "$*" >&2; exit 2; }
usage() { sed -n '2,/^# More:/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
	case "$1" in
	--kernels) KERNELS=${2:?}; shift 2 ;;
	--arch) ARCH=${2:?}; shift 2 ;;
	--slableak) SLABLEAK=${2:?}; shift 2 ;;
	--holder) HOLDER=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--attach-timeout) ATTACH_TIMEOUT=${2:?}; shift 2 ;;
	--func) FUNC=${2:?}; shift 2 ;;
	--count) COUNT=${2:?}; shift 2 ;;
	--tolerance) TOLERANCE=${2:?}; shift 2 ;;
	--cache) CACHE_NAME=${2:?}; shift 2 ;;
	--kinds) KINDS_HELD=${2:?}; shift 2 ;;
	--caches) CACHES=${2:?}; shift 2 ;;
	--method) METHOD=${2:?}; shift 2 ;;
	--duration) DURATION=${2:?}; shift 2 ;;
	--stop) STOP=${2:?}; shift 2 ;;
	--scenario) SCENARIO=${2:?}; shift 2 ;;
	--rounds) ROUNDS=${2:?}; shift 2 ;;
	--ops) OPS=${2:?}; shift 2 ;;
	--cost-cache) COST_CACHE=${2:?}; shift 2 ;;
	--churn) CHURN=${2:?}; shift 2 ;;
	--floor) FLOOR=${2:?}; shift 2 ;;
	--memory) MEMORY=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	--refresh) REFRESH=1; shift ;;
	--fetch-only) FETCH_ONLY=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done

# -icount makes the cost scenario's guest several times slower than a plain boot.
[ -n "$TIMEOUT" ] || [ "$SCENARIO" != cost ] || TIMEOUT=1800
# Everything that differs between the architectures is set here, once.
case $ARCH in
amd64)
	QEMU=qemu-system-x86_64 QEMU_PKG=qemu-system-x86
	QEMU_MACHINE=(-accel tcg -cpu max)
	CONSOLE=ttyS0
	DATA_SERIAL=1 DATA_DEV=/dev/ttyS1 # a second 16550 carries the data blocks
	CC_TARGET=gcc
	CMAKE_CROSS=()
	STATIC_BUILD_DIR=build-static
	CUR_SUFFIX= # $KCACHE/kernels/<series>.current, as before arm64 existed
	: "${TIMEOUT:=300}" "${ATTACH_TIMEOUT:=60}" "${STOP:=duration}"
	;;
arm64)
	QEMU=qemu-system-aarch64 QEMU_PKG=qemu-system-arm
	# pauth-impdef=on: the CPU still has pointer authentication (the kernel signs
	# its return addresses as on hardware), with QEMU's cheap IMPLEMENTATION DEFINED
	# algorithm instead of emulating QARMA5. Measured side by side on 6.18: 71.7 s
	# instead of 128.4 s per boot, 8.5 instead of 20.3 CPU seconds.
	QEMU_MACHINE=(-machine virt -cpu "${SLABLEAK_MATRIX_CPU:-max,pauth-impdef=on}" -accel tcg)
	CONSOLE=ttyAMA0
	DATA_SERIAL=0 DATA_DEV=/dev/console # virt has one PL011: data shares the console
	CC_TARGET=aarch64-linux-gnu-gcc
	CMAKE_CROSS=(-DCMAKE_TOOLCHAIN_FILE="$HERE/../cmake/toolchains/aarch64-linux-gnu.cmake")
	STATIC_BUILD_DIR=build-arm64-static
	CUR_SUFFIX=-arm64
	# Emulating arm64 (pointer authentication in every kernel function on 6.1+) is
	# several times slower than x86-64 under TCG: boot 23 s and load+attach 12 s
	# on 6.18 on a quiet host, 55-105 s and 40-82 s on a loaded one.
	: "${TIMEOUT:=900}" "${ATTACH_TIMEOUT:=300}" "${STOP:=signal}"
	;;
*) die "--arch wants amd64 or arm64, got '$ARCH'" ;;
esac

[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds, got '$TIMEOUT'"
[[ $ATTACH_TIMEOUT =~ ^[0-9]+$ ]] || die "--attach-timeout wants whole seconds, got '$ATTACH_TIMEOUT'"
[[ $COUNT =~ ^[0-9]+$ ]] || die "--count wants a number, got '$COUNT'"
[[ $MEMORY =~ ^[0-9]+$ ]] || die "--memory wants MiB, got '$MEMORY'"
[[ $CACHE_NAME =~ ^[A-Za-z0-9._-]+$ ]] || die "bad --cache '$CACHE_NAME'"
[[ $CACHES =~ ^[A-Za-z0-9._-]+(\ [A-Za-z0-9._-]+)*$ ]] || die "bad --caches '$CACHES'"
[[ $KINDS_HELD =~ ^(kmalloc|cg|msg)(\ (kmalloc|cg|msg))*$ ]] || die "--kinds wants kmalloc, cg, msg, got '$KINDS_HELD'"
[[ $METHOD =~ ^(auto|kfunc|slab|derived)$ ]] || die "--method wants auto, kfunc, slab or derived, got '$METHOD'"
[[ $SCENARIO =~ ^(hold|cost|named)$ ]] || die "--scenario wants hold, cost or named, got '$SCENARIO'"
# The guest holds KINDS and follows GUEST_CACHES (scripts/matrix/init).
GUEST_KINDS=$KINDS_HELD GUEST_CACHES=$CACHES
[ "$SCENARIO" != named ] || GUEST_KINDS=sock GUEST_CACHES=$CACHE_NAME
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive number, got '$ROUNDS'"
[[ $OPS =~ ^[1-9][0-9]*$ ]] || die "--ops wants a positive number, got '$OPS'"
[[ $COST_CACHE =~ ^[A-Za-z0-9._-]+$ ]] || die "bad --cost-cache '$COST_CACHE'"
if [ -z "$KERNELS" ]; then
	[ "$SCENARIO" = cost ] && KERNELS=6.18 || KERNELS="5.10 6.1 6.12 6.18"
fi
[[ $STOP =~ ^(duration|signal)$ ]] || die "--stop wants duration or signal, got '$STOP'"
# Under --stop signal the duration is only a backstop; the guest's timeout ends it sooner.
[ -n "$DURATION" ] || { [ "$STOP" = signal ] && DURATION=1h || DURATION=6s; }
[[ $DURATION =~ ^[0-9a-z.]+$ ]] || die "bad --duration '$DURATION'"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kernel-matrix.XXXXXX")
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ host tools
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

busybox_path() {
	local b
	for b in /bin/busybox /usr/bin/busybox; do
		if [ -x "$b" ] && command -v "$PY" >/dev/null &&
			[ "$("$PY" "$HELPER" elfkind "$b")" = static ]; then
			echo "$b"
			return 0
		fi
	done
	return 1
}

ensure_tools() {
	local need=() apt_updated=0
	command -v "$QEMU" >/dev/null || need+=("$QEMU_PKG")
	command -v "$PY" >/dev/null || need+=(python3)
	command -v dpkg-deb >/dev/null || need+=(dpkg)
	command -v timeout >/dev/null || need+=(coreutils)
	command -v flock >/dev/null || need+=(util-linux)
	[ -r "$KEYRING" ] || need+=(debian-archive-keyring)
	if [ ${#need[@]} -gt 0 ]; then
		log "installing missing host packages: ${need[*]}"
		[ "$(id -u)" = 0 ] || die "need root to apt-get install ${need[*]}"
		apt-get update -qq && apt_updated=1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 ||
			die "apt-get install ${need[*]} failed"
	fi
	if [ "$ARCH" = amd64 ] && ! busybox_path >/dev/null; then
		log "installing busybox-static (a statically linked busybox is needed in the guest)"
		[ "$(id -u)" = 0 ] || die "need root to apt-get install busybox-static"
		[ $apt_updated = 1 ] || apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >&2 ||
			die "apt-get install busybox-static failed"
		busybox_path >/dev/null || die "no static busybox after installing busybox-static"
	fi
	[ -r "$KEYRING" ] || die "keyring $KEYRING not readable"
}

# ------------------------------------------------------------------ kernels
# Private apt configuration per suite (and architecture) under $KCACHE/apt/<suite>[-arm64].
APT_OPTS=()
apt_private() { # apt_private SUITE
	local suite=$1 d=$KCACHE/apt/$1$CUR_SUFFIX
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/sources.list.d" \
		"$d/preferences.d" "$d/state"
	: > "$d/status"
	printf 'deb [arch=%s signed-by=%s] %s %s main\n' "$ARCH" "$KEYRING" "$MIRROR" "$suite" \
		> "$d/sources.list"
	APT_OPTS=(
		-o "Dir::State=$d/state"
		-o "Dir::State::Lists=$d/lists"
		-o "Dir::State::status=$d/status"
		-o "Dir::Cache=$d/cache"
		-o "Dir::Cache::archives=$d/cache/archives"
		-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
		-o "Dir::Etc::sourcelist=$d/sources.list"
		-o "Dir::Etc::sourceparts=$d/sources.list.d"
		-o "Dir::Etc::preferences=$d/preferences"
		-o "Dir::Etc::preferencesparts=$d/preferences.d"
		-o "APT::Architecture=$ARCH"
		-o "Acquire::Languages=none"
		-o "APT::Sandbox::User=root"
	)
}

series_suite() { # series_suite SERIES -> "SUITE REGEX"
	local series=$1 s suite regex
	if [[ $series == *@* ]]; then
		echo "${series#*@} -"
		return 0
	fi
	while read -r s suite regex; do
		[[ -z $s || $s == \#* ]] && continue
		if [ "$s" = "$series" ]; then
			echo "$suite ${regex:--}"
			return 0
		fi
	done < "$KERNELS_LIST"
	return 1
}

MIRROR=
find_mirror() {
	if [ -z "$MIRROR" ]; then
		MIRROR=${SLABLEAK_APT_MIRROR:-$("$PY" "$HELPER" mirror)} || die "no Debian mirror found"
		log "mirror (from the apt configuration): $MIRROR"
	fi
}

# A static busybox for a foreign guest: busybox-static of that architecture from
# bookworm, fetched once with the private apt configuration (never installed on the
# host, where it would replace the host's own busybox).
BUSYBOX_SUITE=bookworm
fetch_busybox() { # fetch_busybox -> path of the guest's static busybox
	local d=$KCACHE/busybox/$ARCH work deb
	if [ $REFRESH = 0 ] && [ -s "$d/busybox" ]; then
		echo "$d/busybox"
		return 0
	fi
	find_mirror
	apt_private "$BUSYBOX_SUITE"
	log "busybox-static:$ARCH: apt update of $BUSYBOX_SUITE"
	apt-get "${APT_OPTS[@]}" -qq update >&2 || die "apt-get update of suite $BUSYBOX_SUITE failed"
	work=$(mktemp -d "$KCACHE/tmp.XXXXXX")
	(cd "$work" && apt-get "${APT_OPTS[@]}" -qq download busybox-static >&2) ||
		{ rm -rf "$work"; die "apt-get download busybox-static ($ARCH) failed"; }
	deb=$(ls "$work"/*.deb)
	dpkg-deb -x "$deb" "$work/x"
	[ "$("$PY" "$HELPER" elfarch "$work/x/bin/busybox")" = "$ARCH" ] ||
		{ rm -rf "$work"; die "busybox-static from $BUSYBOX_SUITE is not a $ARCH binary"; }
	mkdir -p "$d"
	install -m 0755 "$work/x/bin/busybox" "$d/busybox.new"
	mv "$d/busybox.new" "$d/busybox"
	echo "deb=$(basename "$deb") sha256=$(sha256sum "$deb" | cut -d' ' -f1)" > "$d/package.txt"
	rm -rf "$work"
	echo "$d/busybox"
}

declare -A KDIRS=()
fetch_kernel() { # fetch_kernel SERIES -> sets KDIRS[SERIES] to the kernel directory
	local spec=$1 series=${1%@*} ss suite regex cur pkg ver kdir work deb bin='' binver=''
	ss=$(series_suite "$spec") ||
		die "kernel series '$spec' is not in $KERNELS_LIST (use SERIES@SUITE or add a line)"
	read -r suite regex <<< "$ss"
	[[ $series =~ ^[0-9]+\.[0-9]+$ ]] || die "bad kernel series '$series'"
	cur=$KCACHE/kernels/$series$CUR_SUFFIX.current
	if [ $REFRESH = 0 ] && [ -f "$cur" ] && [ -s "$KCACHE/kernels/$(cat "$cur")/vmlinuz" ]; then
		KDIRS[$spec]=$KCACHE/kernels/$(cat "$cur")
		log "$series: cached $(cat "$cur")"
		return 0
	fi
	find_mirror
	[ "$regex" != - ] || regex="^linux-image-${series//./\\.}\\.[0-9][^ ]*-cloud-$ARCH\$"
	apt_private "$suite"
	log "$series: apt update of $suite (private state in $KCACHE/apt/$suite$CUR_SUFFIX)"
	apt-get "${APT_OPTS[@]}" -qq update >&2 || die "apt-get update of suite $suite failed"
	pkg=$(apt-cache "${APT_OPTS[@]}" pkgnames linux-image- | grep -E "$regex" | sort -V | tail -n1) || true
	[ -n "$pkg" ] || die "no package matching /$regex/ in $suite on $MIRROR"
	ver=$(apt-cache "${APT_OPTS[@]}" show --no-all-versions "$pkg" | sed -n 's/^Version: //p' | head -n1)
	[ -n "$ver" ] || die "no version for $pkg in $suite"
	kdir=$KCACHE/kernels/${pkg}_${ver//:/%3a}
	if [ ! -s "$kdir/vmlinuz" ]; then
		log "$series: downloading $pkg $ver from $suite"
		work=$(mktemp -d "$KCACHE/tmp.XXXXXX")
		(cd "$work" && apt-get "${APT_OPTS[@]}" -qq download "$pkg=$ver" >&2) ||
			{ rm -rf "$work"; die "apt-get download $pkg=$ver failed"; }
		deb=$(ls "$work"/*.deb)
		dpkg-deb -x "$deb" "$work/x"
		if ! ls "$work"/x/boot/vmlinuz-* > /dev/null 2>&1; then
			# Since 6.19 Debian ships the kernel binary in linux-binary-<abi>, which the
			# linux-image-<abi> package depends on.
			bin=$(dpkg-deb -f "$deb" Depends | grep -oE 'linux-binary-[^ ,(]+' | head -n1) || true
			[ -n "$bin" ] || { rm -rf "$work"; die "$pkg has no boot/vmlinuz-* and no linux-binary-* dependency"; }
			log "$series: kernel binary is in $bin"
			mkdir -p "$work/bin"
			(cd "$work/bin" && apt-get "${APT_OPTS[@]}" -qq download "$bin" >&2) ||
				{ rm -rf "$work"; die "apt-get download $bin failed"; }
			dpkg-deb -x "$work"/bin/*.deb "$work/x"
			binver=$(dpkg-deb -f "$work"/bin/*.deb Version)
		fi
		mkdir -p "$kdir.new"
		cp "$work"/x/boot/vmlinuz-* "$kdir.new/vmlinuz" ||
			{ rm -rf "$work" "$kdir.new"; die "$pkg has no boot/vmlinuz-*"; }
		cp "$work"/x/boot/config-* "$kdir.new/config" 2>/dev/null || true
		{
			echo "package=$pkg"
			echo "version=$ver"
			echo "suite=$suite"
			echo "deb=$(basename "$deb")"
			echo "sha256=$(sha256sum "$deb" | cut -d' ' -f1)"
			[ -z "$bin" ] || echo "binary_package=$bin"
			[ -z "$bin" ] || echo "binary_version=$binver"
		} > "$kdir.new/package.txt"
		rm -rf "$work" "$kdir"
		mv "$kdir.new" "$kdir"
	fi
	basename "$kdir" > "$cur.new" && mv "$cur.new" "$cur"
	KDIRS[$spec]=$kdir
}

# ------------------------------------------------------------------ initramfs
add_binary() { # add_binary SRC STAGING NAME
	local src=$1 st=$2 name=$3 kind lib elfarch
	[ -f "$src" ] || die "$name not found: '$src' (give --$name PATH)"
	elfarch=$("$PY" "$HELPER" elfarch "$src")
	case $elfarch in
	"$ARCH" | not-elf) ;;
	*) die "$name '$src' is built for $elfarch, the guests are $ARCH (give an $ARCH --$name)" ;;
	esac
	install -m 0755 "$src" "$st/payload/$name"
	kind=$("$PY" "$HELPER" elfkind "$src")
	case $kind in
	static) ;;
	dynamic)
		# ldd cannot list a foreign binary's libraries, and the host's would not do
		[ "$ARCH" = amd64 ] || die "$name '$src' is dynamically linked; an $ARCH guest needs a static one"
		log "warning: $src is dynamically linked; copying its libraries (static is expected)"
		for lib in $(ldd "$src" | grep -oE '/[^ ]+'); do
			[ -e "$st$lib" ] || { mkdir -p "$st$(dirname "$lib")" && cp -L "$lib" "$st$lib"; }
		done
		;;
	*) log "warning: $src is not an ELF binary (stand-in script?)" ;;
	esac
}

build_initramfs() { # build_initramfs OUT
	local st=$TMP/initramfs bb
	if [ "$ARCH" = amd64 ]; then bb=$(busybox_path); else bb=$BUSYBOX; fi
	mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,payload}
	install -m 0755 "$bb" "$st/bin/busybox"
	ln -s busybox "$st/bin/sh"
	install -m 0755 "$GUEST_INIT" "$st/init"
	add_binary "$SLABLEAK" "$st" slableak
	add_binary "$HOLDER" "$st" holder
	if [ "$SCENARIO" = cost ]; then
		add_binary "$CHURN" "$st" churn
		add_binary "$FLOOR" "$st" floor
	fi
	{
		printf 'KINDS="%s"\n' "$GUEST_KINDS"
		printf 'DATA_DEV=%s\n' "$DATA_DEV"
		printf 'HOLDER_COUNT=%s\n' "$COUNT"
		printf 'CACHES="%s"\n' "$GUEST_CACHES"
		printf 'DURATION=%s\n' "$DURATION"
		printf 'STOP=%s\n' "$STOP"
		printf 'SCENARIO=%s\n' "$SCENARIO"
		printf 'ROUNDS=%s\n' "$ROUNDS"
		printf 'OPS=%s\n' "$OPS"
		printf 'COST_CACHE=%s\n' "$COST_CACHE"
		printf 'METHOD=%s\n' "$METHOD"
		printf 'ATTACH_TIMEOUT=%s\n' "$ATTACH_TIMEOUT"
		printf 'READY_TIMEOUT=%s\n' "$((TIMEOUT / 3))"
		printf 'RUN_TIMEOUT=%s\n' "$((TIMEOUT * 2 / 3))"
	} > "$st/matrix.conf"
	"$PY" "$HELPER" mkinitramfs "$st" "$1"
}

# ------------------------------------------------------------------ boot + verdict
named_refused_on() { # named_refused_on KVER: true before 6.0 under --method derived (no cache in kmem_cache_alloc)
	[ "$METHOD" = derived ] || return 1
	local maj=${1%%.*} rest=${1#*.}
	[[ $maj =~ ^[0-9]+$ ]] && [ "$maj" -lt 6 ]
}
kv() { # kv KEY LINE -> value of KEY=value in LINE
	sed -n "s/.*[[:space:]]$1=\\([^[:space:]]*\\).*/\\1/p" <<< " $2" | head -n1
}

FAILED=()
SUMMARY=()

run_kernel() { # run_kernel SERIES KDIR INITRD
	local series=$1 kdir=$2 initrd=$3 d console data t0 t1 rc=0 info guest holder_line
	local kver status method held func detail boot total check sl_rc pkg sl_state
	local attach ready done_t started load
	d=$LOGDIR/$series
	mkdir -p "$d"
	console=$d/console.log data=$d/data.log
	: > "$data"
	pkg=$(sed -n 's/^package=//p;s/^version=/ /p' "$kdir/package.txt" 2>/dev/null | paste -sd' ')
	log "$series: booting $pkg (timeout ${TIMEOUT}s)"
	t0=$(date +%s.%N)
	local dataport=()
	[ $DATA_SERIAL = 0 ] ||
		dataport=(-chardev "file,id=matrixdata,path=${data//,/,,}" -serial chardev:matrixdata)
	# cost: guest time counts executed instructions (1 ns each), not host time, so
	# other load on the host does not move the figures (measured without it: one
	# round's untraced churn ranged 12-115 us/op on a loaded host).
	local icount=()
	[ "$SCENARIO" != cost ] || icount=(-icount shift=0,sleep=off)
	timeout -k 10 "$TIMEOUT" "$QEMU" "${QEMU_MACHINE[@]}" "${icount[@]}" -m "$MEMORY" \
		-nographic -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$initrd" \
		-append "console=$CONSOLE panic=-1 quiet" \
		-serial mon:stdio "${dataport[@]}" \
		< /dev/null > "$console" 2> "$d/qemu.stderr" || rc=$?
	t1=$(date +%s.%N)
	total=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	tr -d '\r' < "$console" > "$console.tmp" && mv "$console.tmp" "$console"
	"$PY" "$HELPER" extract "$d" "$data" "$console" > /dev/null

	# (no ^ anchors: firmware escape sequences can precede the first guest line)
	info=$(grep -ao -m1 'MATRIX-INFO kernel=.*' "$console" || true)
	guest=$(grep -ao -m1 'MATRIX-GUEST .*' "$console" || true)
	holder_line=$(grep -ao 'MATRIX-INFO holder=.*' "$console" || true)
	kver=$(kv kernel "$info")
	kver=${kver:-unknown}
	boot=$(kv uptime "$info")
	sl_rc=$(kv slableak_rc "$guest")
	sl_state=$(kv slableak "$guest")
	attach=$(kv attached "$guest") ready=$(kv ready "$guest") done_t=$(kv done "$guest")
	started=$(grep -ao -m1 'MATRIX-INFO slableak=.*' "$console" || true)
	started=$(kv started "$started")
	method=- held=- func=-
	if [ "$SCENARIO" = named ] && named_refused_on "$kver"; then
		# No cache pointer in kmem_cache_alloc before 6.0: the refusal is the result.
		local lines
		lines=$(grep -c . "$d/slableak.stderr" 2>/dev/null || echo 0)
		if [ "$sl_state" = exited ] && [ "$sl_rc" = 2 ] && [ "$lines" = 1 ] &&
			grep -q 'from Linux 6.0 on' "$d/slableak.stderr"; then
			status=PASS method=refused detail=refused-in-one-line-exit-2
		else
			status=FAIL detail="expected-one-line-refusal-exit-2:slableak=$sl_state,rc=$sl_rc,lines=$lines"
		fi
	elif [ -z "$guest" ]; then
		status=FAIL
		if [ $rc = 124 ] || [ $rc = 137 ]; then
			detail="timeout-after-${TIMEOUT}s"
		else
			detail="no-guest-verdict(qemu-rc=$rc)"
		fi
	elif [ "$(kv status "$guest")" != RAN ]; then
		status=FAIL
		detail=guest:$(kv detail "$guest")
	elif [ "$SCENARIO" = cost ]; then
		check=$("$PY" "$HELPER" cost "$d/cost.tsv") || true
		status=$(kv status "$check")
		detail=$(kv detail "$check")
		[ -n "$status" ] || { status=FAIL; detail=cost-helper-error; }
		echo "MATRIX-COST arch=$ARCH series=$series kernel=$kver rounds=$ROUNDS ops=$OPS cache=$COST_CACHE $check"
	elif [ "$SCENARIO" = hold ]; then
		check=$("$PY" "$HELPER" kinds "$d" --kinds "$KINDS_HELD" \
			--count "$COUNT" --tolerance "$TOLERANCE") || true
		status=$(kv status "$check")
		method=$(kv method "$check")
		held=$(kv held "$check")
		func=$(kv func "$check")
		detail=$(kv detail "$check")
		[ -n "$status" ] || { status=FAIL; detail=checker-error; }
	else
		check=$("$PY" "$HELPER" check "$d/slableak.json" --cache "$CACHE_NAME" \
			--count "$COUNT" --tolerance "$TOLERANCE" --func "$FUNC") || true
		status=$(kv status "$check")
		method=$(kv method "$check")
		held=$(kv held "$check")
		func=$(kv func "$check")
		detail=$(kv detail "$check")
		[ -n "$status" ] || { status=FAIL; detail=checker-error; }
	fi
	# load = guest seconds from starting slableak to "slableak: tracing" (load+attach)
	load=$(awk -v a="$started" -v b="$attach" 'BEGIN { if (a == "" || b == "" || b == "-") print "?"; else printf "%.1f", b - a }')
	local expected_func=$FUNC
	[ "$SCENARIO" != hold ] || expected_func=per-kind
	printf 'MATRIX-RESULT arch=%s series=%s kernel=%s status=%s method=%s held=%s expected=%s func=%s expected_func=%s btf=%s kfunc_sym=%s boot=%ss load=%ss holder_ready=%s slableak_done=%s total=%ss detail=%s\n' \
		"$ARCH" "$series" "$kver" "$status" "${method:--}" "${held:--}" "$COUNT" "${func:--}" \
		"$expected_func" "$(kv btf "$info")" "$(kv kfunc_sym "$info")" "${boot:-?}" "$load" \
		"${ready:--}" "${done_t:--}" "$total" "$detail"
	if [ "$SCENARIO" = hold ]; then
		SUMMARY+=("$(printf '%-5s %-27s %-4s method=%-7s held=%s load=%5ss total=%6ss' \
			"$series" "$kver" "$status" "${method:--}" "${held:--}" "$load" "$total")")
	else
		SUMMARY+=("$(printf '%-5s %-27s %-4s method=%-7s held=%5s/%-5s func=%-16s load=%5ss total=%6ss' \
			"$series" "$kver" "$status" "${method:--}" "${held:--}" "$COUNT" "${func:--}" "$load" "$total")")
	fi
	if [ "$status" != PASS ]; then
		FAILED+=("$series")
		if { [ -n "$sl_state" ] && [ "$sl_state" != tracing ]; } ||
			{ [ -n "$sl_rc" ] && [ "$sl_rc" != 0 ] && [ "$sl_rc" != - ]; }; then
			case $sl_state in
			exited) echo "  slableak failed to load on kernel $kver (exit $sl_rc); its stderr:" ;;
			attach-timeout) echo "  slableak did not attach within ${ATTACH_TIMEOUT}s on kernel $kver; its stderr:" ;;
			*) echo "  slableak exited $sl_rc on kernel $kver; its stderr:" ;;
			esac
			sed 's/^/  | /' "$d/slableak.stderr" 2>/dev/null | tail -n 200 || true
		elif [ -s "$d/slableak.json" ]; then
			local top_cache=(--cache "$CACHE_NAME")
			[ "$SCENARIO" != hold ] || top_cache=()
			"$PY" "$HELPER" top "$d/slableak.json" "${top_cache[@]}" | sed 's/^/  /' || true
		elif [ -z "$guest" ]; then
			echo "  last console lines:"
			tail -n 40 "$console" | sed 's/^/  | /'
		fi
		[ -z "$holder_line" ] || printf '  %s\n' "$holder_line"
		local f
		for f in "$d"/holder.*.out; do
			[ ! -s "$f" ] || head -n 5 "$f" | sed "s/^/  $(basename "$f") | /"
		done
		for f in "$d"/holder.*.err; do
			[ ! -s "$f" ] || tail -n 20 "$f" | sed "s/^/  $(basename "$f") | /"
		done
		if [ -n "$OUT" ]; then
			echo "  logs: $d"
		else
			echo "  (rerun with --out DIR to keep console.log, dmesg.txt, slableak.json)"
		fi
	fi
}

# ------------------------------------------------------------------ payload builds
REPO=$(cd "$HERE/.." && pwd)
build_slableak() { # static slableak from this checkout into $REPO/$STATIC_BUILD_DIR
	local b=$REPO/$STATIC_BUILD_DIR blog=$TMP/build-slableak.log
	log "building static $ARCH slableak in $b (log: $blog)"
	if ! { cmake -S "$REPO" -B "$b" "${CMAKE_CROSS[@]}" -DSLABLEAK_STATIC=ON \
		-DSLABLEAK_TESTS=OFF -DCMAKE_BUILD_TYPE=Release &&
		make -C "$b" -j"$(nproc)" slableak; } > "$blog" 2>&1; then
		tail -n 40 "$blog" >&2
		die "building the static slableak failed"
	fi
	SLABLEAK=$b/slableak
}
build_floor() { # static bench/floor from this checkout, next to the static slableak
	local b=$REPO/$STATIC_BUILD_DIR blog=$TMP/build-floor.log
	log "building static $ARCH floor in $b (log: $blog)"
	if ! { cmake -S "$REPO" -B "$b" "${CMAKE_CROSS[@]}" -DSLABLEAK_STATIC=ON \
		-DSLABLEAK_TESTS=OFF -DCMAKE_BUILD_TYPE=Release &&
		make -C "$b" -j"$(nproc)" bench_floor; } > "$blog" 2>&1; then
		tail -n 40 "$blog" >&2
		die "building the static floor failed"
	fi
	FLOOR=$b/bench/floor
}
build_churn() { # static churn (bench/churn.c) into the run's temp dir
	log "building static $ARCH churn"
	command -v "$CC_TARGET" > /dev/null ||
		die "$CC_TARGET not found (for arm64: scripts/setup-cross-arm64.sh)"
	"$CC_TARGET" -std=gnu11 -O2 -static -o "$TMP/churn" "$REPO/bench/churn.c" ||
		die "building the static churn failed"
	CHURN=$TMP/churn
}
build_holder() { # static holder into the run's temp dir
	log "building static $ARCH holder"
	command -v "$CC_TARGET" > /dev/null ||
		die "$CC_TARGET not found (for arm64: scripts/setup-cross-arm64.sh)"
	"$CC_TARGET" -std=c11 -O2 -static -o "$TMP/holder" "$REPO/tests/support/holder.c" ||
		die "building the static holder failed"
	HOLDER=$TMP/holder
}

# ------------------------------------------------------------------ main
ensure_tools
case "$(realpath -m "$KCACHE")/" in
"$(cd "$HERE/.." && pwd -P)"/*) die "SLABLEAK_KERNEL_CACHE ($KCACHE) must be outside the source tree" ;;
esac
if ! mkdir -p "$KCACHE/kernels" 2>/dev/null || [ ! -w "$KCACHE" ]; then
	die "kernel cache $KCACHE is not writable (set SLABLEAK_KERNEL_CACHE)"
fi

if [ $FETCH_ONLY = 0 ]; then
	[ -n "$SLABLEAK" ] || build_slableak
	[ -n "$HOLDER" ] || build_holder
	[ "$SCENARIO" != cost ] || [ -n "$CHURN" ] || build_churn
	[ "$SCENARIO" != cost ] || [ -n "$FLOOR" ] || build_floor
	[ -f "$SLABLEAK" ] || die "slableak not found: '$SLABLEAK' (give --slableak PATH)"
	[ -f "$HOLDER" ] || die "holder not found: '$HOLDER' (give --holder PATH)"
fi

exec 9> "$KCACHE/.lock"
flock 9
for k in $KERNELS; do
	fetch_kernel "$k"
done
BUSYBOX=
[ "$ARCH" = amd64 ] || BUSYBOX=$(fetch_busybox)
flock -u 9

if [ $FETCH_ONLY = 1 ]; then
	for k in $KERNELS; do
		printf '%-6s %s\n' "$k" "${KDIRS[$k]}"
		sed 's/^/         /' "${KDIRS[$k]}/package.txt" 2>/dev/null || true
	done
	exit 0
fi

if [ -n "$OUT" ]; then
	mkdir -p "$OUT"
	LOGDIR=$(cd "$OUT" && pwd)
else
	LOGDIR=$TMP/logs
fi
build_initramfs "$TMP/initrd.gz"
log "initramfs: $(du -h "$TMP/initrd.gz" | cut -f1)"

for k in $KERNELS; do
	run_kernel "${k%@*}" "${KDIRS[$k]}" "$TMP/initrd.gz"
done

echo
if [ "$SCENARIO" = cost ]; then
	echo "kernel matrix cost summary ($ARCH; MATRIX-COST lines above):"
else
	if [ "$SCENARIO" = hold ]; then
		echo "kernel matrix summary ($ARCH; $COUNT objects of each kind: $KINDS_HELD; held=KIND:CACHE-THAT-GREW:COUNTED/GREW):"
	else
		echo "kernel matrix summary ($ARCH; expected $COUNT objects in $CACHE_NAME, frame ~ /$FUNC/):"
	fi
fi
printf '  %s\n' "${SUMMARY[@]}"
[ -z "$OUT" ] || echo "logs: $LOGDIR"
if [ ${#FAILED[@]} -gt 0 ]; then
	echo "FAILED: ${FAILED[*]}"
	exit 1
fi
echo "all ${#SUMMARY[@]} kernels passed"
