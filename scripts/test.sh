#!/usr/bin/env bash
# The whole test suite, run as root: installs what is missing and builds, then
# runs two lanes at once and fails if either fails:
#   host lane:  CTest (unit, integration and operations tests), the suite under
#               ASan+UBSan, and the exporter soak, all on this kernel;
#   guest lane: scripts/test-guests.sh, everything that boots a qemu guest (the
#               kernel matrix on both arches, the deployment test, ...), then
#               the fuzzers.
# Guests have kernels of their own, so their allocations never reach the counts
# the host lane's tests check; the fuzzers touch no kernel at all. So the lanes
# only share CPU time, and the host lane (the longer one) keeps only what must
# run on this kernel, one test at a time: the soak counts the same netlink
# stacks as the integration tests, so it runs after them. The guest lane's
# output goes to build/guest-lane.log and is printed when it ends. Arguments go
# to ctest (e.g. -R Verdict). Under CI=true an integration test that would skip
# fails instead. Each stage prints its run time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

stage() {
  local name=$1 t0=$SECONDS
  shift
  echo "== $lane stage: $name"
  "$@"
  echo "== $lane stage: $name: $((SECONDS - t0)) s"
}

guest_lane() {
  lane=guest
  scripts/test-guests.sh
  # libFuzzer on every parser of outside text, FUZZ_SECONDS (30) per target,
  # with its own clang build in build-fuzz/. About 7 min.
  stage fuzz scripts/fuzz.sh
}

# The guest lane runs as a job of its own process group (set -m) so that a
# failing host lane can stop it (and the guests it started) by that group, and
# nothing else. Its stdin is /dev/null: a background group must not read a
# terminal.
guest_log=build/guest-lane.log
set -m
guest_lane </dev/null >"$guest_log" 2>&1 &
guest_pid=$!
set +m
stop_guest_lane() {
  kill -- -"$guest_pid" 2>/dev/null || true
  wait "$guest_pid" 2>/dev/null || true
  echo "test: the host lane failed; the guest lane was stopped. Its output so far:" >&2
  cat "$guest_log" >&2
}
trap stop_guest_lane EXIT

lane=host
stage ctest ctest --test-dir build --output-on-failure --timeout 600 "$@"
# Hardening (docs/reliability.md): the suite under ASan+UBSan, and the
# exporter soak for SOAK_SECONDS (the fuzzers run in the guest lane).
stage sanitize scripts/sanitize.sh
stage soak scripts/slk-lab soak --seconds "${SOAK_SECONDS:-300}"

echo "== host lane done; waiting for the guest lane ($guest_log)"
guest_rc=0
wait "$guest_pid" || guest_rc=$?
trap - EXIT
cat "$guest_log"
if [ "$guest_rc" -ne 0 ]; then
  echo "test: the guest lane failed (exit $guest_rc); its output is above" >&2
  exit "$guest_rc"
fi
echo "test: both lanes passed"
