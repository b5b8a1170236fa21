#!/usr/bin/env bash
# Fuzzes every parser of outside text with libFuzzer (docs/reliability.md).
#
#   scripts/fuzz.sh                    every target, FUZZ_SECONDS each
#   scripts/fuzz.sh http_request units only these targets
#
# Builds the "fuzz" preset (clang, -fsanitize=fuzzer,address,undefined,
# build-fuzz/), replays tests/fuzz/corpus/<target>/ (seeds and the crash
# regressions), then fuzzes each target for FUZZ_SECONDS (default 30).
# New interesting inputs go to build-fuzz/fuzz-corpus/<target>/ (not into
# the repository); a crash, a leak, a timeout (> FUZZ_TIMEOUT s for one
# input) or an invariant violation fails the script and leaves the input in
# build-fuzz/fuzz-artifacts/<target>/. Once the bug is fixed, copy that file
# into tests/fuzz/corpus/<target>/: from then on it is replayed by ctest
# (fuzz.replay.<target>) in every build.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
all_targets=(kallsyms slabinfo units cache_names host_port http_request)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

scripts/setup.sh --no-build  # clang, libbpf, CLI11... (configuring needs them)

# Debian's clang only recommends the package with libFuzzer's runtime.
if ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "fuzz: libFuzzer runtime missing: apt-get install libclang-rt-14-dev (as root)" >&2
    exit 1
  fi
  echo "fuzz: installing libclang-rt-14-dev (libFuzzer runtime)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libclang-rt-14-dev >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libclang-rt-14-dev >/dev/null; }
fi

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$(nproc)" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
bin=build-fuzz/fuzz
failed=()
summary=()
for t in "${targets[@]}"; do
  exe=$bin/fuzz_$t
  [ -x "$exe" ] || { echo "fuzz: no target '$t' (have: ${all_targets[*]})" >&2; exit 2; }
  seeds=tests/fuzz/corpus/$t
  work=build-fuzz/fuzz-corpus/$t
  art=build-fuzz/fuzz-artifacts/$t
  log=build-fuzz/fuzz-logs/$t.log
  mkdir -p "$work" "$art" "$(dirname "$log")"

  # 1. The committed corpus, once: seeds and earlier crashes must pass.
  if ! "$exe" -runs=0 "$seeds" >"$log.replay" 2>&1; then
    echo "fuzz: $t: the committed corpus $seeds fails (a regression):" >&2
    tail -30 "$log.replay" >&2
    failed+=("$t (corpus replay)")
    summary+=("$(printf '%-14s %8s %8s %8s  %s' "$t" - - - "REPLAY FAILED")")
    continue
  fi

  # 2. Fuzz for a bounded time.
  max_len=8192
  [ "$t" = http_request ] && max_len=20000  # past the 8 KiB head limit
  dict=()
  [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  status=ok
  if ! "$exe" "$work" "$seeds" -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb=2048 \
      -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" >"$log" 2>&1; then
    status="CRASH"
    failed+=("$t")
    echo "fuzz: $t failed; input(s) in $art/:" >&2
    grep -E "ERROR|runtime error|fuzz check failed|Test unit written|deadly signal|timeout" "$log" | head -20 >&2 || true
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(find "$work" -type f | wc -l)
  summary+=("$(printf '%-14s %8s %8s %8s  %s' "$t" "${runs:--}" "${cov:--}" "$corpus" "$status")")
done

echo
printf '%-14s %8s %8s %8s  %s\n' target execs cov corpus result
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo
  echo "fuzz: FAILED: ${failed[*]}"
  echo "fuzz: reproduce with build-fuzz/fuzz/fuzz_<target> <file>; once fixed, keep the input as a regression:"
  echo "      cp build-fuzz/fuzz-artifacts/<target>/<file> tests/fuzz/corpus/<target>/"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${FUZZ_SECONDS}s each: no crash"
