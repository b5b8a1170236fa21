#!/bin/sh
# systemd-analyze verify on deploy/systemd/slableak-exporter.service.
#   verify_unit.sh UNIT BUILT_SLABLEAK MAN_PAGE [SYSTEMD_ANALYZE]
# Works offline (no systemd as PID 1 needed). verify wants ExecStart= to
# exist and Documentation=man:slableak(8) to resolve, so it checks a copy
# whose ExecStart points at the built binary, with the man page on MANPATH.
# systemd-analyze exits 0 on unknown keys and bad values (it only warns), so
# any output at all is a failure here.
set -eu
unit=$1 bin=$2 man=$3 analyze=${4:-systemd-analyze}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

grep -q '^ExecStart=/usr/sbin/slableak export' "$unit" || {
  echo "FAIL: ExecStart= of $unit is not /usr/sbin/slableak export ..." >&2; exit 1; }
# Only a bad command line is final: exit 3 (the host at start) can change,
# and a service that is never restarted after it stays down for good.
grep -qx 'RestartPreventExitStatus=2' "$unit" || {
  echo "FAIL: $unit must prevent restarts for exit 2 only (RestartPreventExitStatus=2)" >&2; exit 1; }
# Exit 4 (the textfile directory re-created, unreachable in this namespace)
# recovers only by a restart.
grep -qx 'Restart=on-failure' "$unit" || {
  echo "FAIL: $unit must restart on failure (exit 4 recovers a re-created textfile directory that way)" >&2; exit 1; }
mkdir -p "$tmp/man/man8"
cp "$man" "$tmp/man/man8/slableak.8"
sed "s#^ExecStart=/usr/sbin/slableak #ExecStart=$bin #" "$unit" >"$tmp/slableak-exporter.service"

status=0
MANPATH="$tmp/man" "$analyze" verify "$tmp/slableak-exporter.service" >"$tmp/out" 2>&1 || status=$?
if [ "$status" -ne 0 ] || [ -s "$tmp/out" ]; then
  cat "$tmp/out" >&2
  echo "FAIL: systemd-analyze verify (exit $status)" >&2
  exit 1
fi

# The hardening that the unit promises, as systemd parsed it.
"$analyze" security --offline=yes "$tmp/slableak-exporter.service" >"$tmp/security" 2>&1 || true
grep -E 'Overall exposure level' "$tmp/security" || true
for want in 'CapabilityBoundingSet=~CAP_SYS_ADMIN' 'NoNewPrivileges=' 'ProtectSystem=' 'ProtectHome=' 'PrivateTmp=' \
            'CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)' 'RestrictSUIDSGID=' 'PrivateDevices='; do
  line=$(grep -F -- "$want " "$tmp/security" | head -1 || true)
  case "$line" in
    *✓*) ;;
    *) echo "FAIL: systemd-analyze security: '$want' is not hardened: $line" >&2; exit 1 ;;
  esac
done
echo "ok: systemd-analyze verify clean; hardening checks pass"
