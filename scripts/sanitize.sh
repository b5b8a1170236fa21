#!/usr/bin/env bash
# Builds with AddressSanitizer + UndefinedBehaviorSanitizer (the "asan"
# preset, build-asan/, at -O1 -g1) and runs the test suite under them: unit
# tests, the fuzz corpus replays, and the integration tests, which start
# build-asan/slableak and build-asan/holder, so the tool itself runs
# instrumented against the real kernel. Run as root (integration tests load
# BPF programs); under CI=true an integration test that would skip fails.
#
#   scripts/sanitize.sh              unit, fuzz replay and integration tests
#   scripts/sanitize.sh -L unit      arguments replace the default label filter
#
# The ops tests (packaging, the systemd unit's syscall list under strace) are
# left out by default: they judge the build and its sanitizer runtime, not
# slableak's memory safety.
#
# The integration tests that spend their time waiting for paced intervals
# (Verdict.*, StackLifecycle.TurnoverThenAFreshLeakIsNamed: about 170 s of the
# plain run) run in the plain build only: their code paths (the verdict rules,
# stack retirement) run under the sanitizers in the unit tests and in every
# other exporter and snapshot test, so here they would add minutes of sleep.
#
# Any ASan report (overflow, use-after-free, leak at exit) or UBSan report
# aborts the process that hit it, which fails its test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --no-build

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

cmake --preset asan >/dev/null
# The default run builds only what it runs: the unit tests, the fuzz corpus
# replays, and the integration tests with the slableak and holder they start
# (not the ops tests, the benchmark programs or the man page). With arguments,
# everything.
targets=()
[ $# -gt 0 ] || targets=(--target unit_tests integration_tests slableak holder fuzzers)
cmake --build --preset asan -j"$(nproc)" "${targets[@]}"
# The environment above reaches every process the tests start.
[ $# -gt 0 ] || set -- -L 'unit|integration' -E '^integration\.(Verdict\.|StackLifecycle\.TurnoverThenAFreshLeakIsNamed)'
ctest --test-dir build-asan --output-on-failure --timeout 900 "$@"
