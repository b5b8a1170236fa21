#!/bin/sh
# The OOM scenario, run as run.sh inside a small Debian 12 guest by the image's
# runner (scripts/slk-lab oom). The .deb is installed and its unit started as
# shipped (reduced capabilities, ProtectSystem=strict, --capture-dir
# /var/lib/slableak/captures); then the holder leaks kmalloc-2k until the OOM
# killer fires. The holder stands for a kernel leak that no process owns: it is
# exempt from the OOM killer (oom_score_adj -1000), so the objects stay held
# whatever the killer picks, and it stops leaking at the first kill.
# After LEAK_SECONDS of leak alone (the verdict's history), a process that
# allocates 1 MiB after 1 MiB joins it, as any workload on a shrinking host
# would: a slow leak alone at the edge of memory makes the guest evict and
# re-read its page cache for minutes under TCG before the OOM killer decides
# (seen on 6.1: 4 min of soft lockups, no kill), and the test must end.
# This script decides nothing: it records into $1, and the host reads the
# captures from the guest's disk after power-off (scripts/lab/judge_oom.py).
set -u
OUT=$1
PAY=$(pwd)
. "$PAY/oom.conf"
exec 2> /dev/ttyS0
set -x
# The runner and this script must outlive the OOM storm, or nothing powers off.
echo -1000 > /proc/self/oom_score_adj
echo -1000 > /proc/$PPID/oom_score_adj

up() { cut -d' ' -f1 /proc/uptime; }
step() { # step NAME key=value...
	echo "STEP $* t=$(up)" >> "$OUT/steps.txt"
	echo "OOM-GUEST step $* t=$(up)" > /dev/ttyS0 2>/dev/null || true
}
oom_kills() { awk '$1 == "oom_kill" { print $2 }' /proc/vmstat; }
step start kernel="$(uname -r)" mem_total_kib="$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"

dpkg -i "$PAY"/slableak_*.deb > "$OUT/dpkg.txt" 2>&1
step installed rc=$?
echo "SLABLEAK_OPTS=\"$SLABLEAK_OPTS\"" > /etc/default/slableak
systemctl enable --now slableak-exporter.service > "$OUT/enable.txt" 2>&1
ready=no
for _ in $(seq 180); do
	if journalctl -u slableak-exporter.service --no-pager -q | grep -q 'slableak: exporting'; then
		ready=yes
		break
	fi
	sleep 1
done
step exporter ready=$ready pid="$(systemctl show -P MainPID slableak-exporter.service)"

# Prometheus and node_exporter are not part of this test: stopped, so that
# the memory the leak takes is the guest's, not a TSDB's.
systemctl stop prometheus.service prometheus-node-exporter.service
base=$(oom_kills)
mkfifo /run/holder.in
sh -c 'echo -1000 > /proc/self/oom_score_adj; exec "$0" drip 0 "$1"' "$PAY/holder" "$RATE" \
	< /run/holder.in > "$OUT/holder.txt" 2>&1 &
holder=$!
exec 3> /run/holder.in
step leak pid=$holder rate="$RATE" oom_kill="$base"
sleep "$LEAK_SECONDS"
# shellcheck disable=SC2046 # the awk prints several k=v words
step push oom_kill="$(oom_kills)" $(awk '/^(MemAvailable|SUnreclaim):/ { printf "%s=%s ", $1, $2 }' /proc/meminfo)
sh -c 'echo 1000 > /proc/self/oom_score_adj; exec perl -e "my @a; while (1) { push @a, q(x) x (1 << 20) }"' &
push=$!
end=$(($(date +%s) + LEAK_LIMIT))
outcome=timeout
set +x  # checks every half second: not traced
while [ "$(date +%s)" -lt "$end" ]; do
	if [ "$(oom_kills)" -gt "$base" ]; then
		outcome=oom
		break
	fi
	kill -0 "$holder" 2> /dev/null || { outcome="holder-exited"; break; }
	sleep 0.5
done
set -x
kill -9 "$push" 2> /dev/null
echo stop >&3
step leak-stopped outcome=$outcome oom_kill="$(oom_kills)"
sleep "$SETTLE"
step settled oom_kill="$(oom_kills)" exporter="$(systemctl is-active slableak-exporter.service)" \
	nrestarts="$(systemctl show -P NRestarts slableak-exporter.service)"
slableak captures > "$OUT/captures.txt" 2>&1
step listed rc=$?
grep -E '^(MemTotal|MemFree|MemAvailable|Slab|SUnreclaim):' /proc/meminfo > "$OUT/meminfo.txt"
journalctl -u slableak-exporter.service --no-pager -o short-monotonic > "$OUT/exporter.txt" 2>&1
# The captures stay on the root disk, which the host reads after power-off; the
# exporter is stopped first so that nothing writes there any more.
systemctl stop slableak-exporter.service
step "done"
# A copy on the root disk too: the host reads it after power-off (scripts/lab/oom.py).
mkdir -p /root/oom-results
cp "$OUT"/* /root/oom-results/
sync
