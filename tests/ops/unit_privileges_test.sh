#!/usr/bin/env bash
# Are the privileges of deploy/systemd/slableak-exporter.service enough, and
# is each one needed? Tried for real on this kernel, without systemd:
#   1. `slableak export --once` under `setpriv --bounding-set` limited to the
#      unit's CapabilityBoundingSet (uid 0, as the unit runs it), with
#      no_new_privs and umask 0022: it must attach, write a textfile that
#      node_exporter (another user) can read, and serve --listen;
#   2. every system call it made (strace -f) must be allowed by the unit's
#      SystemCallFilter (groups expanded by `systemd-analyze syscall-filter`),
#      and every file it opened must be visible (and writable, if written)
#      in the unit's mount sandbox (unit_sandbox_check.py);
#   3. without any one of those capabilities `slableak check` must fail
#      (CAP_SYSLOG only where /proc/kallsyms hides addresses without it);
#   4. the non-root variant in docs/operations.md (uid 65534 with the same
#      capabilities plus CAP_DAC_READ_SEARCH as ambient capabilities) works.
#
#   unit_privileges_test.sh UNIT SLABLEAK [SYSTEMD_ANALYZE [HOLDER]]
# HOLDER (build/holder) makes kmalloc-2k allocations during the export, so
# that symbolized stacks can be checked too.
# Exit 77 (skip) without root or BTF; under CI=true that is a failure.
set -uo pipefail
unit=$1 bin=$2 analyze=${3:-systemd-analyze} holder=${4:-}

skip() {
  if [ "${CI:-}" = true ]; then echo "FAIL: CI=true but $*" >&2; exit 1; fi
  echo "SKIP: $*"; exit 77
}
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "not root: cannot load BPF programs"
[ -r /sys/kernel/btf/vmlinux ] || skip "no /sys/kernel/btf/vmlinux"
command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
command -v strace >/dev/null || skip "strace is missing (apt-get install strace)"

tmp=$(mktemp -d /tmp/slableak-unit-priv.XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

# --- the unit's settings
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tail -1)
ambient=$(sed -n 's/^AmbientCapabilities=//p' "$unit" | tail -1)
filter=$(sed -n 's/^SystemCallFilter=//p' "$unit")
[ -n "$caps" ] || fail "no CapabilityBoundingSet= in $unit"
[ "$caps" = "$ambient" ] || fail "AmbientCapabilities= ($ambient) differs from CapabilityBoundingSet= ($caps)"
[ -n "$filter" ] || fail "no SystemCallFilter= in $unit"
grep -q '^NoNewPrivileges=yes' "$unit" || fail "NoNewPrivileges=yes missing"
grep -q '^User=root' "$unit" || fail "expected User=root (see the comment in the unit)"
echo "unit: capabilities: $caps"
echo "unit: system calls: $filter"

to_setpriv() {  # "CAP_BPF CAP_PERFMON" -> "+bpf,+perfmon"
  local out="" c
  for c in "$@"; do c=${c#CAP_}; out+=",+${c,,}"; done
  echo "${out#,}"
}
read -ra cap_list <<<"$caps"
bounding=$(to_setpriv "${cap_list[@]}")

port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo "")
listen=()
[ -n "$port" ] && listen=(--listen "127.0.0.1:$port")

# --- 1. export with exactly the unit's capabilities, under strace
mkdir -m 755 "$tmp/textfile"
( umask 0022
  strace -f -qq -y -o "$tmp/strace.log" \
    setpriv --no-new-privs --bounding-set="-all,$bounding" -- \
    "$bin" export --once --interval 4s --sample-every 1 --textfile-dir "$tmp/textfile" "${listen[@]}" \
      --capture-dir "$tmp/captures" ) \
  >"$tmp/export.out" 2>"$tmp/export.err" &
export_pid=$!
# The flight recorder under the same capabilities: SIGUSR1 once exporting
# (the OOM watcher is loaded by then) writes a capture. setpriv has exec'd
# slableak: the process whose command line starts with the binary.
( for _ in $(seq 150); do
    grep -q '^slableak: exporting' "$tmp/export.err" 2>/dev/null && break
    sleep 0.2
  done
  sleep 1
  pid=$(pgrep -n -f "^$bin export --once --interval 4s" || true)
  [ -n "$pid" ] && kill -USR1 "$pid" ) &
signal_pid=$!
if [ -n "$holder" ]; then
  # slableak sees only allocations made after it attached, and says when it
  # has ("exporting ..."); under strace that can take a while.
  for _ in $(seq 100); do
    grep -q '^slableak: exporting' "$tmp/export.err" 2>/dev/null && break
    sleep 0.2
  done
  (sleep 5) | "$holder" kmalloc 100 >"$tmp/holder.out" 2>&1 &
  holder_pid=$!
fi
wait "$export_pid"
rc=$?
wait "$signal_pid"
[ -n "$holder" ] && wait "$holder_pid"
cat "$tmp/export.err"
[ "$rc" -eq 0 ] || fail "slableak export exited $rc with only $caps"
prom="$tmp/textfile/slableak.prom"
[ -f "$prom" ] || fail "no $prom written"
grep -q '^slableak_build_info{' "$prom" || fail "$prom lacks slableak_build_info"
if [ -n "$holder" ]; then
  grep -q '^slableak_stack_info{.*frames="[^"]*netlink_sendmsg+0x' "$prom" ||
    fail "$prom has no symbolized stack for the holder's netlink_sendmsg allocations"
fi
mode=$(stat -c %a "$prom")
[ "$mode" = 644 ] || fail "$prom has mode $mode; node_exporter (user prometheus) needs 644"
echo "ok: export --once with $caps wrote $prom (mode $mode)"
if grep -q 'no OOM trigger' "$tmp/export.err"; then fail "the OOM watcher did not load with only $caps"; fi
n=$(find "$tmp/captures" -mindepth 1 -maxdepth 1 -name '*-sigusr1' | wc -l)
[ "$n" -eq 1 ] || fail "SIGUSR1 under $caps: $n captures in $tmp/captures (want 1)"
capture=$(find "$tmp/captures" -mindepth 1 -maxdepth 1 -name '*-sigusr1')
for f in report.json flamegraph.svg meminfo slabinfo metrics.prom capture.json; do
  [ -s "$capture/$f" ] || fail "capture lacks $f"
done
echo "ok: with $caps the OOM watcher loaded and SIGUSR1 wrote a whole capture"

# --- 2. system calls and file accesses against the unit's sandbox
expand() {  # prints the system calls of a group, recursively
  "$analyze" syscall-filter "$1" 2>/dev/null | sed -e 's/^ *//' -e '/^#/d' -e '/^$/d' | while read -r x; do
    [ "$x" = "$1" ] && continue
    case $x in @*) expand "$x" ;; *) echo "$x" ;; esac
  done
}
allowed="$tmp/allowed.txt"
: >"$allowed"
for f in $filter; do
  case $f in
    ~*) fail "deny-list SystemCallFilter=$f is not handled by this test" ;;
    @*) expand "$f" >>"$allowed" ;;
    *) echo "$f" >>"$allowed" ;;
  esac
done
sort -u -o "$allowed" "$allowed"
[ "$(wc -l <"$allowed")" -gt 100 ] || fail "systemd-analyze syscall-filter expanded only $(wc -l <"$allowed") calls"
python3 "$(dirname "$0")/unit_sandbox_check.py" "$unit" "$tmp/strace.log" "$allowed" "$bin" "$tmp/textfile" "$tmp/captures" ||
  fail "slableak would not work inside the unit's sandbox (above)"

# --- 3. each capability is needed
kallsyms_needs_syslog=1
if [ "$(cat /proc/sys/kernel/kptr_restrict)" = 0 ] && [ "$(cat /proc/sys/kernel/perf_event_paranoid)" -le 1 ]; then
  kallsyms_needs_syslog=0  # kallsyms_show_value(): addresses visible to everyone
fi
for drop in "${cap_list[@]}"; do
  rest=()
  for c in "${cap_list[@]}"; do [ "$c" = "$drop" ] || rest+=("$c"); done
  if [ "$drop" = CAP_SYSLOG ] && [ "$kallsyms_needs_syslog" = 0 ]; then
    echo "note: kptr_restrict=0 and perf_event_paranoid<=1 here: CAP_SYSLOG is not needed on this host"
    continue
  fi
  set_rest=$(to_setpriv "${rest[@]}")
  if setpriv --no-new-privs --bounding-set="-all${set_rest:+,$set_rest}" -- "$bin" check >"$tmp/drop.out" 2>&1; then
    fail "slableak check still works without $drop: the unit grants more than needed"
  fi
  echo "ok: without $drop: $(tail -1 "$tmp/drop.out")"
done

# --- 4. the non-root variant from docs/operations.md
nobody=65534
chown "$nobody:$nobody" "$tmp/textfile"
ambient_nr="$bounding,+dac_read_search"
if setpriv --reuid=$nobody --regid=$nobody --clear-groups --no-new-privs \
     --inh-caps="-all,$ambient_nr" --ambient-caps="-all,$ambient_nr" --bounding-set="-all,$ambient_nr" -- \
     "$bin" export --once --interval 1s --textfile-dir "$tmp/textfile" >"$tmp/nr.out" 2>&1; then
  grep -q '^slableak_build_info{' "$prom" || fail "non-root export wrote no metrics"
  echo "ok: non-root (uid $nobody) with $caps CAP_DAC_READ_SEARCH as ambient capabilities"
else
  cat "$tmp/nr.out" >&2
  fail "non-root variant failed"
fi
echo "PASS"
