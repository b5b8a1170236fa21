#!/usr/bin/env bash
# The whole test suite, run as root: installs what is missing and builds, then
# runs two lanes at once and fails if either fails:
#   host lane:  CTest (unit, integration and operations tests), the suite under
#               ASan+UBSan, the fuzzers and the exporter soak, all on this kernel;
#   guest lane: scripts/test-guests.sh, everything that boots a qemu guest (the
#               kernel matrix on both arches, the deployment test, ...).
# Guests have kernels of their own, so their allocations never reach the counts
# the host lane's tests check; the lanes only share CPU time. The guest lane's
# output goes to build/guest-lane.log and is printed when it ends. Arguments go
# to ctest (e.g. -R Verdict). Under CI=true an integration test that would skip
# fails instead. Each stage prints its run time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# The guest lane gets a process group of its own so that a failing host lane
# can stop it (and the guests it started) by that group, and nothing else.
guest_log=build/guest-lane.log
setsid scripts/test-guests.sh >"$guest_log" 2>&1 &
guest_pid=$!
stop_guest_lane() {
  # (setsid may not have run yet if the host lane failed at once: retry.)
  kill -- -"$guest_pid" 2>/dev/null || { sleep 1; kill -- -"$guest_pid" 2>/dev/null; } || true
  wait "$guest_pid" 2>/dev/null || true
  echo "test: the host lane failed; the guest lane was stopped. Its output so far:" >&2
  cat "$guest_log" >&2
}
trap stop_guest_lane EXIT

stage() {
  local name=$1 t0=$SECONDS
  shift
  echo "== host stage: $name"
  "$@"
  echo "== host stage: $name: $((SECONDS - t0)) s"
}

stage ctest ctest --test-dir build --output-on-failure --timeout 600 "$@"
# Hardening (docs/reliability.md): the suite under ASan+UBSan, each fuzz target
# for FUZZ_SECONDS (30), and the exporter soak for SOAK_SECONDS.
stage sanitize scripts/sanitize.sh
stage fuzz scripts/fuzz.sh
stage soak env SOAK_SECONDS="${SOAK_SECONDS:-300}" scripts/soak.sh

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
