#!/usr/bin/env bash
# slableak benchmark: what tracing costs, in added nanoseconds per
# kmalloc+kfree pair, next to the floor (empty programs) and bpftrace; plus
# attach time, RSS, kernel map memory, userspace CPU per refresh (10k
# stacks), the daemon's CPU, a 1M-object scale run and the accuracy of the
# sampled estimate. Not a test: it prints figures (docs/performance.md says
# how to read them). Run as root on an otherwise idle machine.
#
#   scripts/bench.sh [--quick] [--build-dir DIR] [--out DIR] [--rounds N]
#                    [--ops N] [--cpu N] [--daemon-secs N] [--scale-count N]
#                    [--estimate-runs N] [--only LIST] [--no-build]
#                    [--cache NAME --other-cache NAME --bytes N]
#                    [--wait-quiet SECS] [--metric cpu|wall]
#   (also: make -C build bench / bench-quick, from bench/CMakeLists.txt)
#
#   --quick          ~1.5 min instead of ~5: 5 rounds of 150k ops, no 1/16,
#                    1/256 and exact-nocache configs, 30 s daemon run,
#                    15 synthetic refreshes, 3 estimate runs
#   --build-dir DIR  where slableak, holder, bench/* are (default: build)
#   --out DIR        keep raw results there (default: a new /tmp/slableak-bench.*)
#   --rounds N       alternating rounds (default 15; 5 with --quick)
#   --ops N          churn operations per measurement (default 300000)
#   --cpu N          CPU the churn is pinned to (default 1; tracers run on the others)
#   --cache NAME --other-cache NAME --bytes N
#                    churned cache, the untracked one for "other", and the
#                    message size that lands in NAME (default msg_msg-2k,
#                    kmalloc-2k, 1500; e.g. msg_msg-1k, kmalloc-1k, 900 when
#                    someone else traces msg_msg-2k on a shared machine)
#   --only LIST      comma-separated sections: attach,overhead,progs,naming,caches,refresh,daemon,scale,estimate
#   --no-build       use the binaries as they are (default: make slableak holder first)
#   --wait-quiet S   first wait up to S seconds for a quiet machine: no other
#                    BPF program on kmem events and 1-min load below 0.5
#   --metric cpu|wall  which churn figure the table is built on (default cpu:
#                    the churn thread's own CPU time, immune to other tasks
#                    preempting it on a shared machine; wall is shown too)
#
# Method (overhead): each round runs every configuration once, in an order
# rotated by one per round, the untraced baseline included; one measurement
# = start the tracer (pinned away from the churn CPU), wait until it says it
# is attached, run `churn OPS CPU` (msgsnd+msgrcv of 1500 bytes: one kmalloc
# and one kfree in msg_msg-2k per op), stop the tracer with SIGINT and wait
# for it to exit. Added ns per pair = median(config) - median(untraced);
# the median of the per-round differences is printed too. A round during
# which another process had BPF programs on kmem events (bpftool perf list)
# is left out when 5 clean rounds remain. Raw rows: OUT/overhead.tsv; every
# figure as "key value": OUT/figures.txt; last: PASS/FAIL per target.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
OUT=
QUICK=0
ROUNDS=
OPS=
CPU=1
CACHE=msg_msg-2k
OTHER_CACHE=kmalloc-2k
BYTES=1500
DAEMON_SECS=
SCALE_COUNT=1000000
ESTIMATE_RUNS=
ESTIMATE_COUNT=50000
ONLY=attach,overhead,progs,naming,caches,refresh,daemon,scale,estimate
DO_BUILD=1
METRIC=cpu
WAIT_QUIET=0

die() { echo "bench: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) QUICK=1 ;;
    --build-dir) BUILD=$(cd "$2" && pwd); shift ;;
    --out) OUT=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --ops) OPS=$2; shift ;;
    --cpu) CPU=$2; shift ;;
    --cache) CACHE=$2; shift ;;
    --other-cache) OTHER_CACHE=$2; shift ;;
    --bytes) BYTES=$2; shift ;;
    --daemon-secs) DAEMON_SECS=$2; shift ;;
    --scale-count) SCALE_COUNT=$2; shift ;;
    --estimate-runs) ESTIMATE_RUNS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --no-build) DO_BUILD=0 ;;
    --metric) METRIC=$2; shift ;;
    --wait-quiet) WAIT_QUIET=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
if [[ $QUICK == 1 ]]; then
  : "${ROUNDS:=5}" "${OPS:=150000}" "${DAEMON_SECS:=30}" "${ESTIMATE_RUNS:=3}"
else
  : "${ROUNDS:=15}" "${OPS:=300000}" "${DAEMON_SECS:=120}" "${ESTIMATE_RUNS:=5}"
fi
want() { [[ ,$ONLY, == *,$1,* ]]; }

[[ $(id -u) == 0 ]] || die "run as root (loads BPF programs)"
command -v python3 >/dev/null || die "python3 is needed for the statistics"
command -v taskset >/dev/null || die "taskset (util-linux) is needed"
NCPU=$(nproc)
((NCPU >= 2)) || die "needs 2+ CPUs: the churn gets one, the tracers the rest"
((CPU < NCPU)) || die "--cpu $CPU: this machine has $NCPU CPUs"
TRACER_CPUS=$(seq 0 $((NCPU - 1)) | grep -vx "$CPU" | paste -sd, -)

[[ -n $OUT ]] || OUT=$(mktemp -d /tmp/slableak-bench.XXXXXX)
mkdir -p "$OUT/bin" "$OUT/logs"
RESULTS=$OUT/overhead.tsv
KV=$OUT/figures.txt  # "key value" lines, everything measured
: >"$KV"
kv() { echo "$1 $2" >>"$KV"; }
log() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- processes
# Every PID we start is recorded; the exit trap stops only those.
declare -a STARTED=()
alive() { [[ -e /proc/$1 ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
# Sends SIGINT to our child $1 and waits up to $2 s for it to exit, then
# SIGTERM, then SIGKILL. Sets STOP_MS (SIGINT -> exit) and STOP_RC.
stop_pid() {
  local pid=$1 limit=${2:-30} t0 end i
  t0=$EPOCHREALTIME
  end=$((${t0%.*} + limit))
  kill -INT "$pid" 2>/dev/null || true
  while alive "$pid" && ((${EPOCHREALTIME%.*} < end)); do sleep 0.01; done
  if alive "$pid"; then
    log "bench: pid $pid ignored SIGINT for ${limit}s: SIGTERM"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do alive "$pid" || break; sleep 0.01; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  STOP_MS=$(ms_since "$t0")
  STOP_RC=0
  wait "$pid" 2>/dev/null || STOP_RC=$?
  local keep=() p  # reaped: never signal that number again
  for p in "${STARTED[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  STARTED=("${keep[@]}")
}
PREV_BPF_STATS=
cleanup() {
  local pid
  [[ -z $PREV_BPF_STATS ]] || sysctl -q kernel.bpf_stats_enabled="$PREV_BPF_STATS" || true
  for pid in "${STARTED[@]}"; do
    if alive "$pid"; then
      kill -INT "$pid" 2>/dev/null || true
      sleep 0.5
      if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Milliseconds (one decimal) since $1, an $EPOCHREALTIME value; pure bash,
# so that no process start lands inside the interval.
ms_since() {
  local now=${EPOCHREALTIME/./} then=${1/./} d
  d=$(((10#$now - 10#$then) / 100))
  printf '%d.%d\n' $((d / 10)) $((d % 10))
}
ms_between() {
  local d=$(((10#${2/./} - 10#${1/./}) / 100))
  printf '%d.%d\n' $((d / 10)) $((d % 10))
}
# Waits until file $1 has a line matching ERE $2 while $3 is alive. Sets WAIT_T.
wait_line() {
  local file=$1 re=$2 pid=$3 limit=${4:-60} i
  for ((i = 0; i < limit * 200; i++)); do
    if grep -qE "$re" "$file" 2>/dev/null; then WAIT_T=$EPOCHREALTIME; return 0; fi
    alive "$pid" || { log "bench: pid $pid exited before '$re':"; tail -5 "$file" "$file".err 2>/dev/null >&2; return 1; }
    sleep 0.005
  done
  log "bench: no '$re' after ${limit}s"
  return 1
}
status_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # utime + stime
json() { python3 -c "import json,sys;d=json.load(open(sys.argv[1]));print(eval(sys.argv[2]))" "$@"; }

# ---------------------------------------------------------------- binaries
if [[ $DO_BUILD == 1 ]]; then
  [[ -f $BUILD/Makefile ]] || cmake -S "$ROOT" -B "$BUILD" >"$OUT/logs/cmake.log" 2>&1 || die "cmake failed: $OUT/logs/cmake.log"
  make -C "$BUILD" -j2 slableak holder slableak_core >"$OUT/logs/build.log" 2>&1 ||
    die "build failed (someone editing?): see $OUT/logs/build.log, retry, or --no-build"
  if make -C "$BUILD" help 2>/dev/null | grep -q '\.\.\. refresh_bench$'; then  # bench/CMakeLists.txt is in
    make -C "$BUILD" -j2 bench_churn bench_holder refresh_bench >>"$OUT/logs/build.log" 2>&1 ||
      die "bench build failed: $OUT/logs/build.log"
  fi
fi
[[ -x $BUILD/slableak ]] || die "no $BUILD/slableak: build first (cmake -S . -B build && make -C build)"
# A private copy (the BPF object is embedded): a rebuild during the run
# must not change the binary between rounds.
cp "$BUILD/slableak" "$OUT/bin/slableak"
SLABLEAK=$OUT/bin/slableak
pick() { # first existing of the CMake-built one, or build it into $OUT/bin
  local name=$1
  if [[ -x $BUILD/bench/$name ]]; then echo "$BUILD/bench/$name"; return; fi
  if [[ -x $BUILD/$name ]]; then echo "$BUILD/$name"; return; fi
  case $name in
    churn) gcc -std=c11 -O2 -Wall -o "$OUT/bin/churn" "$ROOT/bench/churn.c" ;;
    holder) gcc -std=c11 -O2 -Wall -o "$OUT/bin/holder" "$ROOT/tests/support/holder.c" ;;
    floor) make -C "$BUILD" bench_floor >>"$OUT/logs/build.log" 2>&1 && cp "$BUILD/bench/floor" "$OUT/bin/" ;;
    refresh_bench) make -C "$BUILD" refresh_bench >>"$OUT/logs/build.log" 2>&1 && cp "$BUILD/bench/refresh_bench" "$OUT/bin/" ;;
  esac >&2 || die "could not build $name"
  echo "$OUT/bin/$name"
}
CHURN=$(pick churn)
HOLDER=$(pick holder)
FLOOR=$(pick floor)
[[ -x $CHURN && -x $HOLDER ]] || die "churn or holder missing"
BPFTRACE=$(command -v bpftrace || true)

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing || log "bench: could not mount tracefs (bpftrace configs will fail)"

# ---------------------------------------------------------------- machine
{
  echo "== machine"
  echo "kernel $(uname -r)  cpus $NCPU  mem $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "virt $(systemd-detect-virt 2>/dev/null || echo unknown)  cpu model: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "slableak $("$SLABLEAK" --version 2>/dev/null | head -1)  built $(date -r "$BUILD/slableak" '+%F %T') sha1 $(sha1sum "$SLABLEAK" | cut -c1-12)  bpf source sha1 $(sha1sum "$ROOT/bpf/slableak.bpf.c" | cut -c1-12)"
  echo "bpftrace ${BPFTRACE:+$("$BPFTRACE" --version 2>/dev/null)}"
  echo "churn on CPU $CPU, tracers on CPU $TRACER_CPUS; raw results in $OUT"
} | tee "$OUT/machine.txt"
foreign_kmem() {
  { bpftool perf list 2>/dev/null | grep -E 'kmalloc|kfree|kmem'
    bpftool link list 2>/dev/null | grep -B1 -E "tp '(kmalloc|kfree|kmem_)"; } || true
}
if ((WAIT_QUIET > 0)); then
  for ((i = 0; i < WAIT_QUIET; i += 5)); do
    [[ -z $(foreign_kmem) ]] && awk '{ exit !($1 < 0.5) }' /proc/loadavg && break
    ((i % 60 == 0)) && log "bench: waiting for a quiet machine (load $(cut -d' ' -f1 /proc/loadavg))"
    sleep 5
  done
fi
FOREIGN=$(foreign_kmem)
# Number of other processes with BPF programs on kmem events, except $1.
foreign_pids() {
  bpftool perf list 2>/dev/null | awk -v me="$1" '/kmalloc|kfree|kmem/ && $2 + 0 != me + 0 { print $2 }' | sort -u | wc -l
}
if [[ -n $FOREIGN ]]; then
  echo "WARNING: other BPF programs are attached to kmem events; every figure includes their cost:"
  printf '  %s\n' "${FOREIGN//$'\n'/$'\n'  }"
fi | tee -a "$OUT/machine.txt"
LOAD=$(cut -d' ' -f1 /proc/loadavg)
echo "load average at start: $LOAD" | tee -a "$OUT/machine.txt"

# Starts a tracer in the background, pinned to the tracer CPUs, and waits
# until it is attached. $1 = log prefix, rest = command. Sets TPID, TOUT,
# TERR, ATTACH_MS.
start_tracer() {
  local prefix=$1
  shift
  TOUT=$OUT/logs/$prefix.out
  TERR=$OUT/logs/$prefix.out.err
  local t0=$EPOCHREALTIME
  taskset -c "$TRACER_CPUS" "$@" >"$TOUT" 2>"$TERR" &
  TPID=$!
  STARTED+=("$TPID")
  if [[ $1 == env || $1 == "$BPFTRACE" ]]; then
    wait_line "$TOUT" '^Attaching' "$TPID" 60 || return 1
    ATTACH_MS=$(ms_between "$t0" "$WAIT_T")
    sleep 1  # bpftrace: probes are live shortly after the line
  else
    wait_line "$TERR" '^slableak: (tracing|exporting)' "$TPID" 60 || return 1
    ATTACH_MS=$(ms_between "$t0" "$WAIT_T")
  fi
}
# "wall_ns_per_op cpu_ns_per_op"
run_churn() { "$CHURN" "$OPS" "$CPU" "$BYTES" | awk '{ print $2, ($6 == "" ? $2 : $6) }'; }

# ================================================================ attach
if want attach; then
  echo
  echo "== attach time (slableak check -c $CACHE, 7 runs)"
  : >"$OUT/attach.txt"
  for i in 1 2 3 4 5 6 7; do
    t0=$EPOCHREALTIME
    line=$(taskset -c "$TRACER_CPUS" "$SLABLEAK" check -c "$CACHE")
    wall=$(ms_since "$t0")
    echo "$(sed -E 's/.*attached in ([0-9]+) ms.*/\1/' <<<"$line") $wall" >>"$OUT/attach.txt"
  done
  echo "last: $line"
  read -r a_int a_wall < <(python3 -c '
import statistics as s,sys
r=[l.split() for l in open(sys.argv[1])]
print(s.median(float(x[0]) for x in r), s.median(float(x[1]) for x in r))' "$OUT/attach.txt")
  echo "median: attach (load+attach, as check reports) ${a_int} ms; whole check command (exec to exit) ${a_wall} ms"
  kv attach_check_ms "$a_int"
  kv check_wall_ms "$a_wall"
  kv kernel_map_bytes_check_default "$(sed -E 's/.*kernel map memory ([^;]*);.*/\1/' <<<"$line" | tr ' ' _)"
fi

# ================================================================ overhead
if want overhead; then
  CONFIGS=(untraced floor floor1 exact s64 other bt-count bt-stacks)
  [[ $QUICK == 1 ]] || CONFIGS=(untraced floor floor1 exact s16 s64 s256 other bt-count bt-stacks)
  # exact mode with --by comm (the task's slot per tracked allocation), where the binary has it
  if "$SLABLEAK" snapshot --help 2>/dev/null | grep -q -- --by-limit; then
    CONFIGS+=(exact-bycomm)
  fi
  # exact mode without the stack-fingerprint cache, where the binary has one
  if [[ $QUICK == 0 ]] && "$SLABLEAK" snapshot --help 2>/dev/null | grep -q -- --no-stack-cache; then
    CONFIGS+=(exact-nocache)
  fi
  if [[ -z $BPFTRACE ]]; then
    log "bench: bpftrace not installed: bt-count and bt-stacks skipped"
    CONFIGS=("${CONFIGS[@]/bt-*/}")
  fi
  BT_COUNT='tracepoint:kmem:kmalloc { @n = count(); }'
  # END clears the map so that bpftrace does not print (and symbolize) every
  # still-live allocation of the machine at exit; it does not run before.
  BT_STACKS='tracepoint:kmem:kmalloc { @a[args->ptr] = (args->bytes_alloc, kstack, nsecs); } tracepoint:kmem:kfree { delete(@a[args->ptr]); } END { clear(@a); }'
  SNAP=("$SLABLEAK" snapshot -d 1h --format json)
  echo
  echo "== overhead: ${#CONFIGS[@]} configs x $ROUNDS alternating rounds, churn $OPS ops of $BYTES bytes ($CACHE) on CPU $CPU"
  printf 'round\tconfig\tns_per_op\tcpu_ns_per_op\tattach_ms\tstop_ms\trss_kib\thwm_kib\tselected\ttracked\tkernel_map_bytes\trecursion_misses\tforeign\tstacks_from_cache\n' >"$RESULTS"
  n=${#CONFIGS[@]}
  for ((r = 0; r < ROUNDS; r++)); do
    order=()
    for ((i = 0; i < n; i++)); do order+=("${CONFIGS[(i + r) % n]}"); done
    log "round $((r + 1))/$ROUNDS: ${order[*]}"
    for c in "${order[@]}"; do
      [[ -n $c ]] || continue
      cmd=()
      case $c in
        untraced) ;;
        floor) cmd=("$FLOOR") ;;
        floor1) cmd=("$FLOOR" --alloc-only) ;;  # kmalloc only, as bt-count
        exact) cmd=("${SNAP[@]}" -c "$CACHE") ;;
        exact-nocache) cmd=("${SNAP[@]}" -c "$CACHE" --no-stack-cache) ;;
        exact-bycomm) cmd=("${SNAP[@]}" -c "$CACHE" --by comm) ;;
        s16) cmd=("${SNAP[@]}" -c "$CACHE" --sample-every 16) ;;
        s64) cmd=("${SNAP[@]}" -c "$CACHE" --sample-every 64) ;;
        s256) cmd=("${SNAP[@]}" -c "$CACHE" --sample-every 256) ;;
        other) cmd=("${SNAP[@]}" -c "$OTHER_CACHE") ;;
        bt-count) cmd=("$BPFTRACE" -e "$BT_COUNT") ;;
        bt-stacks) cmd=(env BPFTRACE_MAP_KEYS_MAX=1000000 "$BPFTRACE" -e "$BT_STACKS") ;;
      esac
      am=- sm=- rss=- hwm=- sel=- trk=- kmb=- rm=- sfc=- TPID=0
      if ((${#cmd[@]})); then
        start_tracer "r$r-$c" "${cmd[@]}" || die "could not start $c"
        am=$ATTACH_MS
      fi
      # Steady state, not start-up: slableak learns each allocation site's
      # stack fingerprint from two samples taken by userspace 250 ms apart;
      # until then it unwinds every allocation. Two short warm-up churns with
      # a pause after each give it both samples (every config gets the same).
      for _ in 1 2; do "$CHURN" $((OPS / 6 + 1)) "$CPU" "$BYTES" >/dev/null; sleep 0.35; done
      f1=$(foreign_pids "${TPID:-0}")
      read -r ns cns < <(run_churn)
      f2=$(foreign_pids "${TPID:-0}")
      if ((${#cmd[@]})); then
        if [[ $c != bt-* ]]; then rss=$(status_kib "$TPID" VmRSS); hwm=$(status_kib "$TPID" VmHWM); fi
        # bpftrace 0.17 has been seen to ignore a SIGINT (2 of 48 runs here):
        # it gets SIGTERM after 10 s; the churn figure is already taken.
        stop_after=60
        [[ $c != bt-* ]] || stop_after=10
        stop_pid "$TPID" "$stop_after"
        sm=$STOP_MS
        # bench/floor prints no report (it is not slableak since it moved out).
        if [[ $c != bt-* && $c != floor* ]]; then
          [[ $STOP_RC == 0 ]] || die "$c: slableak exited $STOP_RC: $(tail -3 "$TERR")"
          read -r sel trk kmb rm sfc < <(json "$TOUT" '"%d %d %d %d %s" % (d["tracer"]["allocs_selected"], d["tracer"]["allocs_tracked"], d["tracer"]["kernel_map_bytes"], d["tracer"]["recursion_misses"], d["tracer"].get("stacks_from_cache", "-"))')
        fi
        [[ $c != bt-* ]] || rm -f "$TOUT"  # bpftrace map dumps can be large
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$c" "$ns" "$cns" "$am" "$sm" "$rss" "$hwm" "$sel" "$trk" "$kmb" "$rm" "$((f1 > f2 ? f1 : f2))" "$sfc" >>"$RESULTS"
    done
  done
  python3 - "$RESULTS" "$KV" "$METRIC" <<'EOF'
import csv, statistics as st, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
kv = open(sys.argv[2], "a")
col = "cpu_ns_per_op" if sys.argv[3] == "cpu" else "ns_per_op"
other_col = "ns_per_op" if col == "cpu_ns_per_op" else "cpu_ns_per_op"
# A round in which another process had BPF programs on kmem events during
# any measurement is left out, as long as 5 clean rounds remain.
dirty = {r["round"] for r in rows if r.get("foreign", "0") not in ("0", "")}
all_rounds = {r["round"] for r in rows}
if dirty and len(all_rounds - dirty) >= 5:
    print("left out %d of %d rounds: another process traced kmem events during them" % (len(dirty), len(all_rounds)))
    rows = [r for r in rows if r["round"] not in dirty]
elif dirty:
    print("WARNING: in %d of %d rounds another process traced kmem events; kept (fewer than 5 clean rounds)" % (
        len(dirty), len(all_rounds)))
kv.write("rounds_used %d\nrounds_dirty %d\n" % (len({r["round"] for r in rows}), len(dirty)))
by = {}
for r in rows:
    by.setdefault(r["config"], []).append(r)
med = {c: st.median(float(x[col]) for x in v) for c, v in by.items()}
med_o = {c: st.median(float(x[other_col]) for x in v) for c, v in by.items()}
print("\nmetric: %s (the other one, %s, is in the last column)" % (
    "churn CPU time per op (user+sys of the churn thread)" if col == "cpu_ns_per_op" else "churn wall time per op",
    other_col))
base = med["untraced"]
rounds = sorted({r["round"] for r in rows})
def per_round_added(c):
    out = []
    for rd in rounds:
        u = [float(x[col]) for x in by["untraced"] if x["round"] == rd]
        v = [float(x[col]) for x in by.get(c, []) if x["round"] == rd]
        if u and v: out.append(v[0] - u[0])
    return out
added = {c: med[c] - base for c in med}
def ratio(a, b):
    return "%.2f" % (added[a] / added[b]) if b in added and added[b] > 0 else "-"
print("config       ns/op(med)  added   per-round added [min..max] (median)  x floor  x bt-count  x bt-stacks  attach_ms(med)  added(other metric)")
for c in ["untraced", "floor", "floor1", "exact", "exact-nocache", "exact-bycomm", "s16", "s64", "s256", "other", "bt-count", "bt-stacks"]:
    if c not in med: continue
    pr = per_round_added(c)
    am = [float(x["attach_ms"]) for x in by[c] if x["attach_ms"] != "-"]
    print("%-11s %10.1f %+7.1f   [%+7.1f .. %+7.1f] (%+7.1f)     %6s  %9s  %11s  %14s  %+.1f" % (
        c, med[c], added[c], min(pr), max(pr), st.median(pr), ratio(c, "floor"), ratio(c, "bt-count"), ratio(c, "bt-stacks"),
        "%.0f" % st.median(am) if am else "-", med_o[c] - med_o["untraced"]))
    kv.write("added_ns_paired_%s %.1f\n" % (c, st.median(pr)))
    kv.write("ns_per_op_%s %.1f\nadded_ns_%s %.1f\nadded_min_%s %.1f\nadded_max_%s %.1f\nadded_ns_%s_%s %.1f\n" % (
        c, med[c], c, added[c], c, min(pr), c, max(pr), other_col.replace("_ns_per_op", "").replace("ns_per_op", "wall"), c,
        med_o[c] - med_o["untraced"]))
    if am: kv.write("attach_to_line_ms_%s %.0f\n" % (c, st.median(am)))
for c in ["exact", "s64", "floor"]:
    if c in by:
        rss = [int(x["rss_kib"]) for x in by[c] if x["rss_kib"] not in ("-", "")]
        hwm = [int(x["hwm_kib"]) for x in by[c] if x["hwm_kib"] not in ("-", "")]
        kmb = [int(x["kernel_map_bytes"]) for x in by[c] if x["kernel_map_bytes"] not in ("-", "")]
        if rss and kmb:  # bench/floor has no report, so no kernel map figure
            print("slableak snapshot %-6s VmRSS %.1f MiB  VmHWM %.1f MiB  kernel maps %.1f MiB (median)" % (
                c, st.median(rss) / 1024, st.median(hwm) / 1024, st.median(kmb) / 1048576))
            kv.write("snapshot_rss_kib_%s %d\nsnapshot_hwm_kib_%s %d\nkernel_map_bytes_%s %d\n" % (
                c, st.median(rss), c, st.median(hwm), c, st.median(kmb)))
# sanity: did the tracer see the churn?
for c in ["exact", "exact-nocache", "exact-bycomm", "s64", "other"]:
    if c in by:
        x = by[c][-1]
        print("sanity %-6s allocs_selected %s tracked %s stacks_from_cache %s recursion_misses %s (last round)" % (
            c, x["selected"], x["tracked"], x.get("stacks_from_cache", "-"), x["recursion_misses"]))
EOF
fi

# ================================================================ progs
# Where the time goes inside the programs: with kernel.bpf_stats_enabled the
# kernel times every program run (run_time_ns / run_cnt in bpftool). The
# timing itself adds a constant (two clock reads), which the empty floor
# programs show; body = average - floor average. The sysctl is restored.
if want progs; then
  echo
  echo "== program bodies (kernel.bpf_stats_enabled, churn $OPS ops; body = avg - empty program avg)"
  PREV_BPF_STATS=$(cat /proc/sys/kernel/bpf_stats_enabled)  # the exit trap restores it too
  prog_stats() { bpftool prog show -j 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    n = p.get("name", "")
    if n.startswith(("kmalloc_", "kfree_", "kmem_cache_free_")):
        print(p["id"], n, p.get("run_time_ns", 0), p.get("run_cnt", 0))'; }
  : >"$OUT/progs.txt"
  sysctl -q kernel.bpf_stats_enabled=1
  for c in floor s64 other exact; do
    case $c in
      floor) args=() ;;
      s64) args=(-c "$CACHE" --sample-every 64) ;;
      other) args=(-c "$OTHER_CACHE") ;;
      exact) args=(-c "$CACHE") ;;
    esac
    if [[ $c == floor ]]; then tracer=("$FLOOR"); else tracer=("$SLABLEAK" snapshot -d 1h "${args[@]}"); fi
    start_tracer "progs-$c" "${tracer[@]}" || die "progs: $c did not start"
    for _ in 1 2; do "$CHURN" $((OPS / 6 + 1)) "$CPU" "$BYTES" >/dev/null; sleep 0.35; done
    before=$(prog_stats)
    "$CHURN" "$OPS" "$CPU" "$BYTES" >/dev/null
    after=$(prog_stats)
    stop_pid "$TPID" 60
    python3 - "$c" "$before" "$after" >>"$OUT/progs.txt" <<'EOF2'
import sys
c, before, after = sys.argv[1:4]
b = {l.split()[0]: l.split() for l in before.splitlines() if l}
for l in after.splitlines():
    i, n, t, k = l.split()
    if i in b:
        dt, dk = int(t) - int(b[i][2]), int(k) - int(b[i][3])
        if dk: print(c, n, dk, "%.1f" % (dt / dk))
EOF2
  done
  sysctl -q kernel.bpf_stats_enabled="$PREV_BPF_STATS"
  PREV_BPF_STATS=
  python3 - "$OUT/progs.txt" "$KV" "$OPS" <<'EOF2'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
ops = int(sys.argv[3])
empty = [float(r[3]) for r in rows if r[0] == "floor"]
base = sum(empty) / len(empty) if empty else 0
kv = open(sys.argv[2], "a")
print("empty program, timed: %.1f ns per run (the timing's own cost)" % base)
print("config  program                 runs/op   avg ns   body ns   body ns per op")
for c, n, k, avg in rows:
    per_op = int(k) / ops
    body = float(avg) - base
    print("%-7s %-22s %7.2f %8.1f %9.1f %12.1f" % (c, n, per_op, float(avg), body, body * per_op))
    kv.write("prog_body_ns_%s_%s %.1f\nprog_runs_per_op_%s_%s %.2f\n" % (c, n, body, c, n, per_op))
EOF2
fi

# ================================================================ naming (kfunc vs slab walk)
# What naming the cache costs per event with the walk to the object's slab
# (bpf/slab_walk.h, every kernel) against the kernel's bpf_get_kmem_cache
# kfunc (6.13+): the same exact tracer with --method kfunc and --method
# slab, rounds alternated with an untraced run, following CACHE (every
# churned object named, then tracked: stack + insert) and OTHER_CACHE (every
# churned object named, then let go: the naming is most of the program).
# Two figures per configuration, both from the same rounds: the kmalloc
# program's average run time (kernel.bpf_stats_enabled; only the naming
# differs between the kfunc and slab programs, and both include the
# timing's own cost), and the churn's CPU ns per op over untraced. Compare
# the methods as ratios within one run; absolute figures move with the host.
# Needs a kernel with the kfunc.
if want naming; then
  echo
  echo "== naming the cache: --method kfunc vs --method slab ($CACHE, churn $OPS ops of $BYTES bytes)"
  if ! awk '$3 == "bpf_get_kmem_cache" { f = 1 } END { exit !f }' /proc/kallsyms; then
    echo "skipped: this kernel has no bpf_get_kmem_cache (6.13+) to compare the slab walk with"
  else
    NAMING_ROUNDS=$((QUICK ? 3 : 7))
    PREV_BPF_STATS=$(cat /proc/sys/kernel/bpf_stats_enabled)
    sysctl -q kernel.bpf_stats_enabled=1
    # Only the programs of our tracer ($1): another slableak on the machine
    # has programs of the same names (bpftool here cannot show pids, so the
    # ids come from the tracer's own fds).
    kmalloc_stats() {
      local ids
      mapfile -t ids < <(awk '/^prog_id:/ { print $2 }' /proc/"$1"/fdinfo/* 2>/dev/null)
      bpftool prog show -j 2>/dev/null | python3 -c '
import json, sys
ids = {int(x) for x in sys.argv[1:]}
t = k = 0
for p in json.load(sys.stdin):
    if p.get("id") in ids and p.get("name", "") in ("kmalloc_kfunc", "kmalloc_slab"):
        t += p.get("run_time_ns", 0); k += p.get("run_cnt", 0)
print(t, k)' "${ids[@]}"; }
    : >"$OUT/naming.txt"
    NAMING=(untraced kfunc slab kfunc-other slab-other)
    for ((r = 0; r < NAMING_ROUNDS; r++)); do
      for ((i = 0; i < ${#NAMING[@]}; i++)); do
        m=${NAMING[(i + r) % ${#NAMING[@]}]}
        if [[ $m == untraced ]]; then
          for _ in 1 2; do "$CHURN" $((OPS / 6 + 1)) "$CPU" "$BYTES" >/dev/null; sleep 0.35; done
          read -r ns cns < <(run_churn)
          echo "untraced $r $cns 0 0 -" >>"$OUT/naming.txt"
          continue
        fi
        follow=$CACHE
        [[ $m != *-other ]] || follow=$OTHER_CACHE
        start_tracer "naming-$m-$r" "$SLABLEAK" snapshot -d 1h -f json -c "$follow" --method "${m%-other}" ||
          die "naming: $m did not start"
        for _ in 1 2; do "$CHURN" $((OPS / 6 + 1)) "$CPU" "$BYTES" >/dev/null; sleep 0.35; done
        read -r t0 k0 < <(kmalloc_stats "$TPID")
        read -r ns cns < <(run_churn)
        read -r t1 k1 < <(kmalloc_stats "$TPID")
        ((k1 > k0)) || die "naming: no run of $m's kmalloc program was counted (bpf_stats?)"
        stop_pid "$TPID" 60
        [[ $STOP_RC == 0 ]] || die "naming: slableak --method $m exited $STOP_RC: $(tail -3 "$TERR")"
        meth=$(json "$TOUT" 'd["cache_method"]')
        [[ $meth == "${m%-other}" ]] || die "naming: asked for --method ${m%-other}, the report says $meth"
        unnamed=$(json "$TOUT" 'd["tracer"].get("cache_unnamed", 0)' 2>/dev/null || echo "?")
        echo "$m $r $cns $((t1 - t0)) $((k1 - k0)) $unnamed" >>"$OUT/naming.txt"
      done
    done
    sysctl -q kernel.bpf_stats_enabled="$PREV_BPF_STATS"
    PREV_BPF_STATS=
    python3 - "$OUT/naming.txt" "$KV" "$OPS" <<'EOF2'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
ops = int(sys.argv[3])
kv = open(sys.argv[2], "a")
def med(m, f):
    v = [f(r) for r in rows if r[0] == m]
    return st.median(v) if v else float("nan")
base = med("untraced", lambda r: float(r[2]))
print("untraced: %.0f churn CPU ns per op (median of %d rounds)" % (base, sum(r[0] == "untraced" for r in rows)))
print("config       churn CPU ns/op  added/op  kmalloc prog runs/op  kmalloc prog avg ns  cache_unnamed (last)")
res = {}
for m in ("kfunc", "slab", "kfunc-other", "slab-other"):
    cpu = med(m, lambda r: float(r[2]))
    avg = med(m, lambda r: int(r[3]) / int(r[4]) if int(r[4]) else float("nan"))
    runs = med(m, lambda r: int(r[4]) / ops)
    last = [r for r in rows if r[0] == m][-1]
    res[m] = (cpu - base, avg)
    print("%-12s %16.0f %+9.0f %21.2f %20.1f  %s" % (m, cpu, cpu - base, runs, avg, last[5]))
    key = m.replace("-", "_")
    kv.write("naming_%s_added_cpu_ns_per_op %.0f\nnaming_%s_kmalloc_prog_avg_ns %.1f\n" % (key, cpu - base, key, avg))
for suffix, what in (("", "followed, tracked"), ("-other", "not followed")):
    (ak, pk), (asl, psl) = res["kfunc" + suffix], res["slab" + suffix]
    print("slab walk vs kfunc (%s): kmalloc program %+.1f ns per event (x%.2f); added per op x%s" % (
        what, psl - pk, psl / pk, "%.2f" % (asl / ak) if ak > 0 else "-"))
    key = suffix.replace("-", "_")
    kv.write("naming_slab_minus_kfunc_prog_ns%s %.1f\nnaming_slab_over_kfunc_prog%s %.2f\n" % (key, psl - pk, key, psl / pk))
EOF2
  fi
fi

# ================================================================ caches (1/16/64 followed)
# The cost of a miss (an allocation in a cache not followed) must not grow
# with the number of followed caches (bpf/cache_verdict.h). Follow 1, 16 or
# 64 named caches that the churn does not touch and run `holder churn-named`
# (socketpairs, epoll insertions, netlink messages: kmem_cache_alloc and
# kmem_cache_free in sock_inode_cache, filp, skbuff_head_cache, ...), so that
# every kmem_cache_alloc event is a miss. Figures: the kmem_cache_alloc
# program's average run time (kernel.bpf_stats_enabled; includes the
# timing's own cost, ~the empty program of the progs section), and the
# churn's CPU ns per op against an untraced run, rounds alternated.
if want caches; then
  echo
  echo "== followed caches: miss cost with 1, 16 and 64 named caches (holder churn-named)"
  CACHE_OPS=$((QUICK ? 20000 : 50000))
  CACHE_ROUNDS=$((QUICK ? 3 : 5))
  # Caches the churn allocates from (or may), and kmalloc: never followed here.
  mapfile -t FOLLOW < <(awk 'NR > 2 { print $1 }' /proc/slabinfo |
    grep -vE '^(kmalloc|dma-kmalloc|sock_inode_cache|filp|dentry|skbuff_|signal_cache|UNIX|eventpoll|ep_head|extent_status|bio|anon_vma|task_struct|pid|cred_jar|files_cache|mm_struct|vm_area_struct|sighand_cache|fs_cache|inode_cache|lsm_|msg_msg|memdup_user|buffer_head|radix_tree_node|xfs|ext4|btrfs|jbd2)' |
    head -64)
  [[ ${#FOLLOW[@]} -ge 64 ]] || die "caches: only ${#FOLLOW[@]} candidate caches"
  PREV_BPF_STATS=$(cat /proc/sys/kernel/bpf_stats_enabled)
  sysctl -q kernel.bpf_stats_enabled=1
  : >"$OUT/caches.txt"
  churn_cpu_ns() { # CPU ns per op of one churn-named run
    python3 - "$HOLDER" "$CACHE_OPS" "$CPU" <<'EOF2'
import os, resource, subprocess, sys
holder, ops, cpu = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
subprocess.run(["taskset", "-c", cpu, holder, "churn-named", str(ops)], stdin=subprocess.DEVNULL,
               stdout=subprocess.DEVNULL, check=True)
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.1f" % ((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1e9 / ops))
EOF2
  }
  named_stats() { bpftool prog show -j 2>/dev/null | python3 -c '
import json, sys
t = k = 0
for p in json.load(sys.stdin):
    if p.get("name", "").startswith("kmem_cache_allo"):  # kmem_cache_alloc_named (15-char names)
        t += p.get("run_time_ns", 0); k += p.get("run_cnt", 0)
print(t, k)'; }
  for ((round = 0; round < CACHE_ROUNDS; round++)); do
    for n in 0 1 16 64; do
      if [[ $n == 0 ]]; then
        echo "untraced $n $(churn_cpu_ns) 0 0" >>"$OUT/caches.txt"
        continue
      fi
      args=()
      for c in "${FOLLOW[@]:0:$n}"; do args+=(-c "$c"); done
      start_tracer "caches-$n" "$SLABLEAK" snapshot -d 1h -f json "${args[@]}" || die "caches: $n did not start"
      churn_cpu_ns >/dev/null  # warm-up: verdicts learned, memo filled
      read -r t0 k0 < <(named_stats)
      ns=$(churn_cpu_ns)
      read -r t1 k1 < <(named_stats)
      stop_pid "$TPID" 60
      sel=$(json "$TOUT" '"%d" % d["tracer"]["allocs_selected"]' 2>/dev/null || echo "?")
      echo "named $n $ns $((t1 - t0)) $((k1 - k0)) $sel" >>"$OUT/caches.txt"
    done
  done
  sysctl -q kernel.bpf_stats_enabled="$PREV_BPF_STATS"
  PREV_BPF_STATS=
  python3 - "$OUT/caches.txt" "$KV" "$CACHE_OPS" <<'EOF2'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
ops = int(sys.argv[3])
kv = open(sys.argv[2], "a")
base = st.median(float(r[2]) for r in rows if r[0] == "untraced")
print("untraced churn-named: %.0f CPU ns per op (median)" % base)
print("followed  CPU ns/op(med)  added   kmem_cache_alloc runs/op  avg ns per run (med)  hits (allocs_selected, last)")
for n in ("1", "16", "64"):
    rs = [r for r in rows if r[0] == "named" and r[1] == n]
    if not rs:
        continue
    cpu = st.median(float(r[2]) for r in rs)
    avg = st.median(int(r[3]) / int(r[4]) for r in rs if int(r[4]))
    runs = st.median(int(r[4]) / ops for r in rs)
    print("%8s  %14.0f  %+6.0f   %22.2f  %20.1f  %s" % (n, cpu, cpu - base, runs, avg, rs[-1][5]))
    kv.write("caches_%s_added_cpu_ns_per_op %.0f\ncaches_%s_alloc_prog_avg_ns %.1f\n" % (n, cpu - base, n, avg))
EOF2
fi

# ================================================================ refresh (synthetic 10k stacks)
if want refresh; then
  echo
  echo "== userspace refresh, synthetic 10,000 stacks x 4 epochs (bench/refresh_bench)"
  RB=$(pick refresh_bench)
  [[ -x $RB ]] || die "refresh_bench missing"
  taskset -c "$TRACER_CPUS" "$RB" --stacks 10000 --epochs 4 --refreshes $((QUICK ? 15 : 40)) --interval 15 \
    --sample-every 64 | tee "$OUT/refresh.txt"
  sed 's/^/refresh_/' "$OUT/refresh.txt" >>"$KV"
fi

# ================================================================ daemon
if want daemon; then
  echo
  echo "== daemon: slableak export --interval 15s -c $CACHE (exporter defaults) for ${DAEMON_SECS}s, churn running on CPU $CPU"
  mkdir -p "$OUT/textfile"
  "$CHURN" 0 "$CPU" "$BYTES" >"$OUT/logs/daemon-churn.out" 2>&1 &
  CPID=$!
  STARTED+=("$CPID")
  start_tracer daemon "$SLABLEAK" export --interval 15s --textfile-dir "$OUT/textfile" -c "$CACHE" ||
    die "export did not start"
  DPID=$TPID
  hz=$(getconf CLK_TCK)
  t0=$EPOCHREALTIME
  c0=$(cpu_ticks "$DPID")
  sleep "$DAEMON_SECS"
  c1=$(cpu_ticks "$DPID")
  wall=$(ms_since "$t0")
  rss=$(status_kib "$DPID" VmRSS)
  hwm=$(status_kib "$DPID" VmHWM)
  prom=$OUT/textfile/slableak.prom
  kmb=$(awk '$1 == "slableak_tracer_kernel_memory_bytes" { printf "%d", $2 }' "$prom" 2>/dev/null || echo 0)
  nstk=$(awk '$1 == "slableak_tracer_map_entries{map=\"stacks\"}" { print $2 }' "$prom" 2>/dev/null || true)
  cp "$prom" "$OUT/daemon-last.prom" 2>/dev/null || true
  stop_pid "$DPID" 30
  stop_pid "$CPID" 10
  cns=$(awk '{ print $2 "/" $6 }' "$OUT/logs/daemon-churn.out")
  python3 - "$c0" "$c1" "$hz" "$wall" "$rss" "$hwm" "$kmb" "$nstk" "$cns" "$KV" <<'EOF'
import sys
c0, c1, hz, wall, rss, hwm, kmb, nstk, cns = sys.argv[1:10]
cpu_s = (int(c1) - int(c0)) / int(hz)
pct = cpu_s / (float(wall) / 1000) * 100
print("daemon CPU %.2f s over %.0f s = %.3f%% of one core (tick resolution 1/%s s)" % (cpu_s, float(wall) / 1000, pct, hz))
print("daemon VmRSS %.1f MiB  VmHWM %.1f MiB  kernel maps %.1f MiB  kernel stacks held %s" % (int(rss) / 1024, int(hwm) / 1024, int(kmb) / 1048576, nstk))
print("churn under the daemon (whole run): %s ns/op wall/cpu" % cns)
with open(sys.argv[10], "a") as kv:
    kv.write("daemon_cpu_percent %.3f\ndaemon_rss_kib %s\ndaemon_hwm_kib %s\nkernel_map_bytes_export %s\ndaemon_churn_ns_per_op %s\n" % (pct, rss, hwm, kmb, cns))
EOF
fi

# Holder helpers: start `holder VECTOR COUNT` with its stdin on a fifo we
# keep open; wait for "ready". Sets HPID, HFD, HOLD_MS.
start_holder() {
  local fifo=$OUT/holder.in
  rm -f "$fifo"
  mkfifo "$fifo"
  local t0=$EPOCHREALTIME
  "$HOLDER" "$1" "$2" <"$fifo" >"$OUT/logs/holder.out" 2>"$OUT/logs/holder.out.err" &
  HPID=$!
  STARTED+=("$HPID")
  exec {HFD}>"$fifo"
  wait_line "$OUT/logs/holder.out" '^ready' "$HPID" 600 || die "holder failed: $(cat "$OUT/logs/holder.out.err")"
  HOLD_MS=$(ms_between "$t0" "$WAIT_T")
}
stop_holder() {
  echo quit >&"$HFD" || true
  exec {HFD}>&-
  stop_pid "$HPID" 60
  rm -f "$OUT/holder.in"
}
# Outstanding objects of the holder's stacks (netlink_sendmsg) in a JSON report.
holder_objects() { json "$1" 'sum(s["objects"] for s in d["stacks"] if any("netlink_sendmsg" in f for f in s["frames"]))'; }

# ================================================================ scale
if want scale; then
  echo
  echo "== scale: $SCALE_COUNT objects held (holder kmalloc), slableak -c kmalloc-2k --max-tracked 2M (exact)"
  start_tracer scale "$SLABLEAK" snapshot -d 1h --format json -c kmalloc-2k --max-tracked 2M || die "scale: slableak did not start"
  SPID=$TPID
  SOUT=$TOUT
  start_holder kmalloc "$SCALE_COUNT"
  echo "holder allocated $SCALE_COUNT in $(python3 -c "print(round($HOLD_MS/1000,1))") s (traced)"
  sleep 2
  # snapshot mode collects once a second: CPU over 10 s = ~10 collects
  c0=$(cpu_ticks "$SPID"); t0=$EPOCHREALTIME
  sleep 10
  c1=$(cpu_ticks "$SPID"); w=$(ms_since "$t0")
  rss=$(status_kib "$SPID" VmRSS)
  stop_pid "$SPID" 120
  final_ms=$STOP_MS
  [[ $STOP_RC == 0 ]] || die "scale: slableak exited $STOP_RC"
  stop_holder
  read -r kmb live held drops cache_obj < <(json "$SOUT" '"%d %d %d %d %d" % (d["tracer"]["kernel_map_bytes"], d["tracer"]["live_objects"], sum(s["objects"] for s in d["stacks"] if any("netlink_sendmsg" in f for f in s["frames"])), d["tracer"]["drop_live_map_full"] + d["tracer"]["drop_aggregate_map_full"], d["caches"][0]["attributed_objects"])')
  hz=$(getconf CLK_TCK)
  python3 - "$c0" "$c1" "$hz" "$w" "$final_ms" "$kmb" "$live" "$held" "$drops" "$cache_obj" "$rss" "$SCALE_COUNT" "$KV" <<'EOF'
import sys
c0, c1, hz, w, fin, kmb, live, held, drops, cobj, rss, n = sys.argv[1:13]
per = (int(c1) - int(c0)) / int(hz) / (float(w) / 1000) * 1000
print("reported: %s objects on the holder's stacks (of %s held), %s live in the map, cache total %s, drops %s" % (held, n, live, cobj, drops))
print("kernel maps %.1f MiB; slableak VmRSS %.1f MiB" % (int(kmb) / 1048576, int(rss) / 1024))
print("refresh: %.1f ms CPU per 1-s collect (avg over %.0f s); SIGINT -> final collect + JSON + detach + exit: %s ms" % (per, float(w) / 1000, fin))
with open(sys.argv[13], "a") as kv:
    kv.write("scale_held %s\nscale_reported %s\nscale_live %s\nscale_drops %s\nscale_kernel_map_bytes %s\nscale_collect_cpu_ms %.1f\nscale_final_report_ms %s\nscale_rss_kib %s\n" % (n, held, live, drops, kmb, per, fin, rss))
EOF
fi

# ================================================================ estimate
if want estimate; then
  echo
  echo "== sampled estimate: $ESTIMATE_COUNT objects held, slableak -c kmalloc-2k --sample-every 64, $ESTIMATE_RUNS runs"
  errs=()
  for ((i = 1; i <= ESTIMATE_RUNS; i++)); do
    start_tracer "est$i" "$SLABLEAK" snapshot -d 1h --format json -c kmalloc-2k --sample-every 64 || die "estimate: slableak did not start"
    EPID=$TPID
    EOUT=$TOUT
    start_holder kmalloc "$ESTIMATE_COUNT"
    sleep 1
    stop_pid "$EPID" 60
    stop_holder
    est=$(holder_objects "$EOUT")
    err=$(python3 -c "print('%+.1f' % (($est - $ESTIMATE_COUNT) / $ESTIMATE_COUNT * 100))")
    echo "run $i: estimate $est for $ESTIMATE_COUNT held: error $err%"
    errs+=("$err")
  done
  kv estimate_errors_pct "$(IFS=,; echo "${errs[*]}")"
fi

echo
echo "== all figures (key value): $KV"
cat "$KV"
echo
echo "== targets (docs/performance.md)"
python3 - "$KV" <<'EOF'
import sys
f = {}
for line in open(sys.argv[1]):
    k, _, v = line.strip().partition(" ")
    f[k] = v
def num(k):
    try: return float(f[k])
    except (KeyError, ValueError): return None
def verdict(name, ok, detail):
    print("%-5s %s: %s" % ("-" if ok is None else ("PASS" if ok else "FAIL"), name, detail))
s64, fl, btc, bts, ex = (num("added_ns_" + c) for c in ("s64", "floor", "bt-count", "bt-stacks", "exact"))
if None not in (s64, fl, btc):
    verdict("sampled 1/64 <= bt-count and <= 1.5x floor", s64 <= btc and s64 <= 1.5 * fl,
            "%+.0f ns vs bt-count %+.0f, 1.5x floor %+.0f" % (s64, btc, 1.5 * fl))
if None not in (ex, bts):
    verdict("exact <= bt-stacks (aim: half)", ex <= bts, "%+.0f ns vs %+.0f (%.2fx; half %s)" % (
        ex, bts, ex / bts if bts else 0, "met" if ex <= bts / 2 else "not met"))
if "estimate_errors_pct" in f:
    errs = [float(x) for x in f["estimate_errors_pct"].split(",") if x]
    verdict("sampled estimate of 50k within 10%", all(abs(e) <= 10 for e in errs),
            "errors " + ", ".join("%+.1f%%" % e for e in errs))
rc, dc = num("refresh_cpu_percent_at_interval"), num("daemon_cpu_percent")
if rc is not None or dc is not None:
    ok = all(x < 1 for x in (rc, dc) if x is not None)
    verdict("daemon < 1% of a core at 15 s, 10k stacks", ok,
            "synthetic 10k-stack refresh %s%%, real daemon (few stacks) %s%%" % (rc, dc))
rss = {k: num(k) for k in ("snapshot_rss_kib_exact", "daemon_hwm_kib", "refresh_peak_rss_kib") if num(k) is not None}
if rss:
    verdict("RSS <= 32 MiB", all(v <= 32768 for v in rss.values()),
            ", ".join("%s %.1f MiB" % (k, v / 1024) for k, v in rss.items()))
at, cw, tl = num("attach_check_ms"), num("check_wall_ms"), num("attach_to_line_ms_exact")
if cw is not None or tl is not None:
    verdict("attached within 150 ms", None if cw is None else cw <= 150,
            "whole 'check' run (exec, attach, read, detach, exit) %s ms; load+attach as check reports it %s ms; "
            "exec to 'tracing' line of snapshot in the rounds %s ms" % (cw, at, tl))
EOF
echo "load average at end: $(cut -d' ' -f1 /proc/loadavg) (start $LOAD); runtime ${SECONDS}s"
