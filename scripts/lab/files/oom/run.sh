#!/bin/sh
# The OOM scenario, run as run.sh inside a small Debian 12 guest by the image's
# runner (scripts/slk-lab oom). The .deb is installed and its unit started as
# shipped (reduced capabilities, ProtectSystem=strict, --capture-dir
# /var/lib/slableak/captures); then the holder leaks kmalloc-2k until the OOM
# killer fires.
# The holder (holder drip-oom) stands for a kernel leak that no process owns:
# it is exempt from the OOM killer (oom_score_adj -1000), so the objects stay
# held whatever the killer picks; it stops by itself at the first OOM kill
# (oom_kill in /proc/vmstat, read every 20 ms) and frees nothing when a send
# fails. After LEAK_SECONDS of leak alone (the verdict's history), a process
# that allocates 1 MiB after 1 MiB (oom_score_adj 1000: the first victim; it
# took BALLAST_MIB before the leak began, which its death gives back)
# joins it, as any workload on a shrinking host would: a slow leak alone at
# the edge of memory makes the guest evict and re-read its page cache for
# minutes under TCG before the OOM killer decides (seen on 6.1: 4 min of soft
# lockups, no kill), and the test must end.
# This script and the runner that started it are exempt from the killer too and
# run at a higher priority; the script waits on the holder's own "held" line
# (a blocking read, no polling), writes its results, then the runner powers
# off. It decides nothing: the host reads the captures and the results from the
# guest's disks after power-off (scripts/lab/judge_oom.py).
set -u
OUT=$1
PAY=$(pwd)
. "$PAY/oom.conf"
exec 2> /dev/ttyS0
set -x
# The runner and this script must outlive the OOM and keep their CPU, or
# nothing powers off.
echo -1000 > /proc/self/oom_score_adj
echo -1000 > /proc/$PPID/oom_score_adj
renice -n -10 -p $$ $PPID > /dev/null

up() { cut -d' ' -f1 /proc/uptime; }
step() { # step NAME key=value...
	echo "STEP $* t=$(up)" | tee -a /root/oom-results/steps.txt >> "$OUT/steps.txt"
	echo "OOM-GUEST step $* t=$(up)" > /dev/ttyS0 2>/dev/null || true
}
# The steps also go to the root disk as they happen: the host reads them
# there if the guest had to be stopped (scripts/lab/oom.py).
mkdir -p /root/oom-results
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
# The hog (oom_score_adj 1000: the first victim) takes BALLAST_MIB now and
# sleeps until SIGUSR1, then allocates 1 MiB after 1 MiB. Its ballast is what
# the kill gives back: the guest has room to run again after the OOM. It runs
# as a unit of its own: systemd stops the unit of a process the OOM killer
# killed (OOMPolicy=stop, the default), and in the runner's unit that stopped
# this script, the runner and the holder (which freed its objects) a moment
# after the kill, so the guest never powered off.
systemd-run --quiet --unit=slableak-lab-hog -p OOMScoreAdjust=1000 perl "$PAY/hog.pl" "$BALLAST_MIB"
# Thrashing prevention (multi-gen LRU, 6.1+): the OOM killer fires when the
# working set of the last MIN_TTL_MS cannot be kept, instead of every task
# stalling in reclaim while file pages are evicted and read again (seen
# without it: a minute of soft lockups before the kill, the leak flat all
# that time, so the report judged it a full pool).
if [ -w /sys/kernel/mm/lru_gen/min_ttl_ms ]; then
	echo y > /sys/kernel/mm/lru_gen/enabled
	echo "$MIN_TTL_MS" > /sys/kernel/mm/lru_gen/min_ttl_ms
fi
step lru-gen enabled="$(cat /sys/kernel/mm/lru_gen/enabled 2>/dev/null)" min_ttl_ms="$(cat /sys/kernel/mm/lru_gen/min_ttl_ms 2>/dev/null)"
mkfifo /run/holder.in /run/holder.out
# The holder's priority is back to normal (nice +10 of -10).
# shellcheck disable=SC2016 # expanded by the inner sh
nice -n 10 sh -c 'echo -1000 > /proc/self/oom_score_adj; exec "$0" drip-oom "$1" "$2"' \
	"$PAY/holder" "$HOLD_MAX" "$RATE" < /run/holder.in > /run/holder.out 2>&1 &
holder=$!
exec 3> /run/holder.in 4< /run/holder.out
step leak pid=$holder rate="$RATE" oom_kill="$(oom_kills)"
sleep "$LEAK_SECONDS"
# shellcheck disable=SC2046 # the awk prints several k=v words
step push oom_kill="$(oom_kills)" $(awk '/^(MemAvailable|SUnreclaim):/ { printf "%s=%s ", $1, $2 }' /proc/meminfo)
systemctl kill -s USR1 --kill-whom=main slableak-lab-hog.service
# The holder's lines until it says why it stopped (EOF if it died).
outcome="holder-exited"
while read -r line <&4; do
	echo "$line" | tee -a /root/oom-results/holder.txt >> "$OUT/holder.txt"
	case $line in held\ *)
		outcome=$(echo "$line" | sed -n 's/.* stopped=\([^ ]*\).*/\1/p')
		break ;;
	esac
done
systemctl stop slableak-lab-hog.service 2> /dev/null
alive=no
kill -0 "$holder" 2> /dev/null && alive=yes
step leak-stopped outcome="$outcome" holder_alive=$alive oom_kill="$(oom_kills)"
sleep "$SETTLE"
alive=no
kill -0 "$holder" 2> /dev/null && alive=yes
step settled oom_kill="$(oom_kills)" holder_alive=$alive exporter="$(systemctl is-active slableak-exporter.service)" \
	nrestarts="$(systemctl show -P NRestarts slableak-exporter.service)"
journalctl -u slableak-exporter.service --no-pager -o short-monotonic > "$OUT/exporter.txt" 2>&1
# The captures stay on the root disk, which the host reads after power-off; the
# exporter is stopped first so that nothing writes there any more.
systemctl stop slableak-exporter.service
slableak captures > "$OUT/captures.txt" 2>&1
step listed rc=$?
grep -E '^(MemTotal|MemFree|MemAvailable|Slab|SUnreclaim):' /proc/meminfo > "$OUT/meminfo.txt"
step "done"
# A copy on the root disk too: the host reads it after power-off (scripts/lab/oom.py).
cp "$OUT"/* /root/oom-results/
sync
