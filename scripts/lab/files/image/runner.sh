#!/bin/sh
# /usr/local/sbin/slableak-lab-runner, baked into the guest image (scripts/lab/image.py).
# Started once per boot by slableak-lab-runner.service: reads the payload (a tar
# written raw onto NVMe namespace 2), runs its run.sh with a results
# directory, writes that directory as a tar onto namespace 3, and powers
# the guest off. The scenario lives in the payload, so the image (cached) does
# not change when a scenario does.
set -u
out=/run/lab-results
pay=/run/lab-payload
mkdir -p "$out" "$pay"
say() { echo "LAB-GUEST $*" > /dev/ttyS0 2>/dev/null || true; }
# The disk of NVMe namespace id $1 (the host's order: 2 payload, 3 results).
# Not by name: the kernel may name namespaces in the order its scan finds them.
disk() {
	for d in /sys/block/nvme*n*; do
		[ "$(cat "$d/nsid" 2>/dev/null)" = "$1" ] && { echo "/dev/${d##*/}"; return 0; }
	done
	echo /dev/null
}
payload=$(disk 2) results=$(disk 3)
rc=-
if tar -xf "$payload" -C "$pay" 2> "$out/payload.err" && [ -x "$pay/run.sh" ]; then
	say "payload ok, running the scenario"
	(cd "$pay" && ./run.sh "$out") > "$out/run.log" 2>&1
	rc=$?
else
	say "payload unreadable: $(head -c 200 "$out/payload.err")"
fi
echo "$rc" > "$out/run.rc"
journalctl -b --no-pager -o short-monotonic > "$out/journal.txt" 2>&1 || true
tar -cf - -C "$out" . | dd of="$results" bs=1M conv=fsync status=none
sync
say "results written (run.sh rc=$rc), powering off"
systemctl poweroff --force --force
