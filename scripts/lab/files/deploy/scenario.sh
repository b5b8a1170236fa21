#!/bin/sh
# The deployment scenario, run as run.sh inside the guest by slableak-lab-runner
# (scripts/slk-lab deploy). It does what an operator does and records what the
# system shows into the results directory $1; it decides nothing: the PASS/FAIL
# verdict is taken on the host by scripts/lab/judge_deploy.py from these files.
# Waits are bounded (a condition that never comes is recorded as "timeout" and
# the scenario goes on), so one failure still leaves evidence of the rest.
#
# Files written (all in $1): steps.txt (one "STEP name key=value..." line per
# step), and per step the raw outputs (apt, systemctl show/status, Prometheus API
# JSON, bpftool JSON, the textfile, /proc/slabinfo lines, journal excerpts).
set -u
OUT=$1
PAY=$(pwd)
. "$PAY/scenario.conf"
# role.conf (written by the host per guest): LAB_ROLE=deploy runs every step;
# LAB_ROLE=fleet stops after the fleet phase. LAB_FLEET=yes: the fleet phase runs.
LAB_ROLE=deploy LAB_FLEET=no
# shellcheck source=/dev/null # written by the host
[ -r "$PAY/role.conf" ] && . "$PAY/role.conf"
UNIT=slableak-exporter.service
TEXTDIR=/var/lib/prometheus/node-exporter
TEXTFILE=$TEXTDIR/slableak.prom
PROM=http://127.0.0.1:9090
LISTEN=127.0.0.1:9435
export DEBIAN_FRONTEND=noninteractive
# The trace goes to the serial console (the host keeps it as console.log): when the
# guest hangs or times out, it shows where.
exec 2> /dev/ttyS0
set -x

up() { cut -d' ' -f1 /proc/uptime; }
step() { # step NAME key=value...
	echo "STEP $* t=$(up)" >> "$OUT/steps.txt"
	echo "DEPLOY-GUEST step $* t=$(up)" > /dev/ttyS0 2>/dev/null || true
}
# wait_until SECS CMD... -> 0 as soon as CMD succeeds, 1 after SECS seconds
wait_until() {
	_end=$(($(date +%s) + $1))
	shift
	while ! "$@" > /dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 1
	done
	return 0
}
prop() { systemctl show -P "$2" "$1" 2> /dev/null; }
show() { # show UNIT FILE: the unit's state as key=value lines
	systemctl show "$1" -p ActiveState,SubState,MainPID,NRestarts,ExecMainStatus,ExecMainCode,Result > "$2" 2>&1
}
# query NAME PROMQL: instant query through the HTTP API, JSON into NAME.json
query() {
	curl -sS --max-time 20 -G "$PROM/api/v1/query" --data-urlencode "query=$2" > "$OUT/$1.json" 2> "$OUT/$1.err"
}
nonempty_result() { # the last query's JSON has at least one series
	query "$1" "$2" && grep -q '"result":\[{' "$OUT/$1.json"
}
textfile_newer_than() { # textfile_newer_than EPOCH
	[ -f "$TEXTFILE" ] && [ "$(stat -c %Y "$TEXTFILE")" -gt "$1" ]
}
journal_unit() { # journal_unit UNIT FILE [SINCE]
	journalctl -u "$1" --no-pager -o short-monotonic ${3:+--since "$3"} > "$2" 2>&1
}
# Program ids of slableak's BPF programs, recognised by their names (the BPF
# program names in bpf/slableak.bpf.c, truncated to 15 characters by the kernel).
slableak_prog_ids() {
	bpftool prog show 2> /dev/null | awk '
		/^[0-9]+:/ {
			id = $1; sub(":", "", id)
			for (i = 1; i < NF; i++) if ($i == "name") n = $(i + 1)
			if (n ~ /^(kmalloc_kfunc|kfree_kfunc|kmem_cache_free|kmalloc_derived|kmalloc_node_de|kfree_derived|kmalloc_floor|kfree_floor)$/) print id
		}'
}
none_of_ids_loaded() { # none_of_ids_loaded "ID ID..."
	_now=" $(slableak_prog_ids | tr '\n' ' ') "
	for _i in $1; do
		case $_now in *" $_i "*) return 1 ;; esac
	done
	return 0
}
active_with_new_pid() { # active_with_new_pid UNIT OLDPID
	[ "$(prop "$1" ActiveState)" = active ] && _p=$(prop "$1" MainPID) && [ "$_p" != 0 ] && [ "$_p" != "$2" ]
}
settled_pair() { # both units left "activating"/"reloading": one active, the other not
	a=$(prop "$UNIT" ActiveState) b=$(prop slableak-exporter-second.service ActiveState)
	case "$a $b" in *activating*) return 1 ;; esac # deactivating too
	[ "$(prop "$UNIT" SubState)" != auto-restart ] && [ "$(prop slableak-exporter-second.service SubState)" != auto-restart ] &&
		{ [ "$a" = active ] || [ "$b" = active ]; } &&
		{ [ "$a" = failed ] || [ "$b" = failed ] || [ "$a" = inactive ] || [ "$b" = inactive ]; }
}

# ------------------------------------------------------------------ the host
uname -r > "$OUT/kernel.txt"
[ -r /sys/kernel/btf/vmlinux ] && btf=yes || btf=no
timeout 180 systemctl is-system-running --wait > "$OUT/system-state.txt" 2>&1
systemctl --failed --no-legend --plain > "$OUT/failed-units.txt" 2>&1
dpkg-query -W -f='${Package} ${Version}\n' systemd prometheus prometheus-node-exporter bpftool apt > "$OUT/versions.txt"
step boot kernel="$(uname -r)" btf="$btf" pid1="$(cat /proc/1/comm)" state="$(cat "$OUT/system-state.txt")"

# ------------------------------------------------------------------ Prometheus on loopback
cp "$PAY/prometheus.yml" /etc/prometheus/prometheus.yml
cp "$PAY/slableak-rules.deploy-test.yml" /etc/prometheus/slableak-rules.deploy-test.yml
promtool check config /etc/prometheus/prometheus.yml > "$OUT/promtool-check.txt" 2>&1
rc_check=$?
# The image set both to listen on loopback; the test configuration is loaded by
# a reload (SIGHUP), as an operator adding rule files would.
ready=timeout
wait_until 180 curl -sf "$PROM/-/ready" && ready=yes
systemctl reload prometheus.service
config=timeout
wait_until 60 sh -c "curl -sf '$PROM/api/v1/status/config' | grep -q slableak-rules.deploy-test.yml" && config=loaded
step prometheus check_rc=$rc_check ready=$ready config=$config node_exporter="$(prop prometheus-node-exporter.service ActiveState)"

# ------------------------------------------------------------------ apt install ./slableak_*.deb
deb=$(ls "$PAY"/slableak_*.deb)
cp "$deb" /root/ && { cd /root || exit 1; }
apt install -y "./$(basename "$deb")" > "$OUT/apt-install.txt" 2>&1
rc_install=$?
cd "$PAY" || exit 1
dpkg-query -W -f='${Status} ${Version}\n' slableak > "$OUT/dpkg-status.txt" 2>&1
step install rc=$rc_install status="$(cut -d' ' -f1-3 "$OUT/dpkg-status.txt" | tr ' ' _)" enabled="$(systemctl is-enabled $UNIT 2>&1)"

# ------------------------------------------------------------------ enable --now
echo "SLABLEAK_OPTS=\"$SLABLEAK_OPTS\"" > /etc/default/slableak
# Serving --listen to another host (the host's Prometheus, through qemu's port
# forward from 10.0.2.2) is the drop-in the unit file names.
mkdir -p /etc/systemd/system/$UNIT.d
printf '[Service]\nIPAddressAllow=10.0.2.0/24\n' > /etc/systemd/system/$UNIT.d/listen.conf
systemctl daemon-reload
t_enable=$(date +%s)
systemctl enable --now $UNIT > "$OUT/enable.txt" 2>&1
rc_enable=$?
written=timeout
wait_until 240 textfile_newer_than "$((t_enable - 1))" && written=yes
show $UNIT "$OUT/started.txt"
scraped=timeout
wait_until 120 nonempty_result up-slableak 'slableak_last_update_timestamp_seconds' && scraped=yes
step enable rc=$rc_enable textfile=$written scraped=$scraped state="$(prop $UNIT ActiveState)" enabled="$(systemctl is-enabled $UNIT 2>&1)"

# ------------------------------------------------------------------ fleet (host-driven)
# The host (scripts/lab/fleet.py) scrapes this guest's exporter through a port
# forward and says what to do next, one line at a time on /dev/ttyS2; each line
# is answered on the console ("LAB-GUEST fleet ..."). A paced leak (holder drip,
# sendmsg: a stack of its own) runs from "drip" to "stop", is then held still
# while the host reads the profiles, and is freed on "done".
# One reader keeps the control line open and appends every line the host sends
# to a file (a reader per line could take the next one's bytes with it).
host_line() { # host_line N SECS: the host's Nth line (empty after SECS)
	wait_until "$2" sh -c "[ \$(wc -l < /run/host.lines) -ge $1 ]"
	sed -n "${1}p" /run/host.lines
}
if [ "$LAB_FLEET" = yes ]; then
	: > /run/host.lines
	{ stty raw -echo && exec cat; } < /dev/ttyS2 > /run/host.lines 2> "$OUT/control.err" &
	host_reader=$!
	echo "LAB-GUEST fleet waiting" > /dev/ttyS0
	c1=$(host_line 1 1500)
	mkfifo /run/drip.in
	sleep 100000 > /run/drip.in &
	drip_sleep=$!
	"$PAY/holder" drip 0 "$FLEET_RATE" < /run/drip.in > "$OUT/drip.out" 2> "$OUT/drip.err" &
	drip_pid=$!
	wait_until 60 grep -q '^ready' "$OUT/drip.out"
	echo "LAB-GUEST fleet dripping" > /dev/ttyS0
	c2=$(host_line 2 900)
	echo stop > /run/drip.in
	wait_until 60 grep -q '^held' "$OUT/drip.out"
	held=$(sed -n 's/^held //p' "$OUT/drip.out")
	echo "LAB-GUEST fleet held=$held" > /dev/ttyS0
	c3=$(host_line 3 900)
	kill "$drip_sleep"
	wait "$drip_pid"
	kill "$host_reader"
	step fleet commands="$c1,$c2,$c3" held="$held" freed="$(tr '\n' ' ' < "$OUT/drip.out" | tr -s ' ' _)"
fi
if [ "$LAB_ROLE" = fleet ]; then
	journal_unit $UNIT "$OUT/journal-slableak.txt"
	step "done"
	exit 0
fi

# ------------------------------------------------------------------ a held leak, growing
grep '^kmalloc-2k ' /proc/slabinfo > "$OUT/slabinfo-before.txt"
HOLDER_PIDS='' SLEEP_PIDS=''
i=1
while [ "$i" -le "$HOLDERS" ]; do
	# stdin held open by a sleep writing into a FIFO (two jobs, two known PIDs):
	# the holder keeps its objects until it is signalled
	mkfifo "/run/holder$i.in"
	sleep 100000 > "/run/holder$i.in" &
	SLEEP_PIDS="$SLEEP_PIDS $!"
	"$PAY/holder" kmalloc "$HOLDER_COUNT" < "/run/holder$i.in" > "$OUT/holder$i.out" 2> "$OUT/holder$i.err" &
	HOLDER_PIDS="$HOLDER_PIDS $!"
	wait_until 120 grep -q '^ready' "$OUT/holder$i.out"
	step holder n=$i ready="$(head -n1 "$OUT/holder$i.out" | tr ' ' _)"
	sleep "$HOLDER_GAP"
	i=$((i + 1))
done
grep '^kmalloc-2k ' /proc/slabinfo > "$OUT/slabinfo-held.txt"
fired=timeout
wait_until 420 nonempty_result alert-firing 'ALERTS{alertname="SlableakStackDominatesGrowth",alertstate="firing"}' && fired=yes
curl -sS --max-time 20 "$PROM/api/v1/alerts" > "$OUT/alerts.json"
step alert fired=$fired
curl -sS --max-time 20 "$PROM/api/v1/rules" > "$OUT/rules.json"
curl -sS --max-time 20 "$PROM/api/v1/targets" > "$OUT/targets.json"
query up 'up'
wait_until 60 nonempty_result stack-objects 'slableak_stack_outstanding_objects{cache="kmalloc-2k"}'
query stack-info 'slableak_stack_info{cache="kmalloc-2k"}'
query top-stack 'topk(1, slableak_stack_outstanding_objects{cache="kmalloc-2k"}) * on(instance, job, cache, stack_id) group_left(top_frame) slableak_stack_info'
query cache-objects 'slableak_cache_outstanding_objects{cache="kmalloc-2k"}'
query slabinfo-growth 'slableak_cache_slabinfo_growth_objects{cache="kmalloc-2k"}'
query dropped 'slableak_tracer_dropped_total'
cp "$TEXTFILE" "$OUT/textfile-held.prom" 2> /dev/null
grep '^kmalloc-2k ' /proc/slabinfo > "$OUT/slabinfo-alert.txt"

# ------------------------------------------------------------------ systemctl kill -s KILL
show $UNIT "$OUT/kill-before.txt"
old_pid=$(prop $UNIT MainPID)
old_ids=$(slableak_prog_ids | tr '\n' ' ')
bpftool -j prog show > "$OUT/progs-before.json" 2>&1
t_kill=$(date +%s)
systemctl kill -s KILL $UNIT
restarted=timeout
wait_until 150 active_with_new_pid $UNIT "$old_pid" && restarted=yes
gone=timeout
wait_until 60 none_of_ids_loaded "$old_ids" && gone=yes
rewritten=timeout
wait_until 240 textfile_newer_than "$t_kill" && rewritten=yes
bpftool -j prog show > "$OUT/progs-after.json" 2>&1
show $UNIT "$OUT/kill-after.txt"
journal_unit $UNIT "$OUT/journal-kill.txt"
step kill old_pid="$old_pid" new_pid="$(prop $UNIT MainPID)" restarted=$restarted old_programs_gone=$gone textfile=$rewritten old_ids="$(echo "$old_ids" | xargs | tr ' ' ,)"

# ------------------------------------------------------------------ the textfile directory disappears
show $UNIT "$OUT/rmdir-before.txt"
pid=$(prop $UNIT MainPID)
t_rm=$(date +%s)
rm -rf "$TEXTDIR"
sleep "$BAD_WAIT"
show $UNIT "$OUT/rmdir-during.txt"
curl -sS --max-time 10 "http://$LISTEN/metrics" > "$OUT/metrics-during-rmdir.txt" 2>&1
[ -d "$TEXTDIR" ] && dir_during=present || dir_during=absent
# What a config tool or a tmpfs remount does: the directory comes back, as the package made it.
install -d -m 0755 "$TEXTDIR"
t_back=$(date +%s)
recovered=timeout
# The unit's bind mount (ReadWritePaths=) went with the old directory: the
# exporter cannot write the new one, exits 4, and systemd restarts it after
# RestartSec=30s into a namespace that has the new one. Start-up under TCG
# takes up to a minute on a loaded host.
wait_until 180 textfile_newer_than "$t_back" && recovered=yes
show $UNIT "$OUT/rmdir-after.txt"
# What the exporter's own mount namespace (ProtectSystem=strict + ReadWritePaths=)
# shows of the recreated directory: is it there, and writable from inside?
p=$(prop $UNIT MainPID)
{
	echo "# mountinfo lines for /var/lib/prometheus in the unit's namespace (pid $p)"
	grep ' /var/lib/prometheus' "/proc/$p/mountinfo"
	echo "# write probe inside the unit's namespace"
	nsenter -t "$p" -m -- sh -c "ls -ld '$TEXTDIR' && touch '$TEXTDIR/.probe' && echo writable && rm -f '$TEXTDIR/.probe'"
} > "$OUT/rmdir-namespace.txt" 2>&1
curl -sS --max-time 10 "http://$LISTEN/metrics" > "$OUT/metrics-after-rmdir.txt" 2>&1
journalctl -u $UNIT --no-pager -o short-monotonic --since "@$t_rm" > "$OUT/journal-rmdir.txt" 2>&1
step rmdir pid_before="$pid" pid_during="$(prop $UNIT MainPID)" pid_after="$(prop $UNIT MainPID)" dir_during="$dir_during" recovered=$recovered state="$(prop $UNIT ActiveState)"
# The later steps need a working exporter: an operator would restart it.
if [ $recovered != yes ]; then
	systemctl restart $UNIT
	t_rs=$(date +%s)
	wait_until 240 textfile_newer_than "$t_rs"
	step rmdir-restart textfile="$([ -f "$TEXTFILE" ] && echo yes || echo no)" state="$(prop $UNIT ActiveState)"
fi

# ------------------------------------------------------------------ node_exporter stopped
show $UNIT "$OUT/nodeexp-before.txt"
pid=$(prop $UNIT MainPID)
systemctl stop prometheus-node-exporter.service
t_stop=$(date +%s)
sleep "$BAD_WAIT"
advanced=timeout
wait_until 60 textfile_newer_than "$t_stop" && advanced=yes
show $UNIT "$OUT/nodeexp-during.txt"
step node-exporter-stopped pid_before="$pid" pid_during="$(prop $UNIT MainPID)" textfile_advanced=$advanced state="$(prop $UNIT ActiveState)" node_exporter="$(prop prometheus-node-exporter.service ActiveState)"
systemctl start prometheus-node-exporter.service

# ------------------------------------------------------------------ two units at once
sed 's/^Description=.*/Description=slableak exporter, a second unit on the same textfile directory/' \
	/lib/systemd/system/$UNIT > /etc/systemd/system/slableak-exporter-second.service
systemctl daemon-reload
systemctl stop $UNIT
systemctl start --no-block $UNIT slableak-exporter-second.service
settled=timeout
wait_until 240 settled_pair && settled=yes
sleep 2
show $UNIT "$OUT/pair-first.txt"
show slableak-exporter-second.service "$OUT/pair-second.txt"
SYSTEMD_COLORS=0 systemctl status --no-pager -l -n 20 $UNIT > "$OUT/pair-status-first.txt" 2>&1
SYSTEMD_COLORS=0 systemctl status --no-pager -l -n 20 slableak-exporter-second.service > "$OUT/pair-status-second.txt" 2>&1
step two-units settled=$settled first="$(prop $UNIT ActiveState)" second="$(prop slableak-exporter-second.service ActiveState)"
systemctl stop slableak-exporter-second.service
systemctl reset-failed slableak-exporter-second.service 2> /dev/null
rm -f /etc/systemd/system/slableak-exporter-second.service
systemctl daemon-reload
if [ "$(prop $UNIT ActiveState)" != active ]; then
	systemctl reset-failed $UNIT 2> /dev/null
	systemctl start $UNIT
fi
t_rs=$(date +%s)
wait_until 240 textfile_newer_than "$t_rs"

# ------------------------------------------------------------------ apt remove
# The holders free their objects on SIGTERM.
for p in $HOLDER_PIDS; do kill "$p" 2> /dev/null; done
for p in $HOLDER_PIDS; do wait "$p"; done
for p in $SLEEP_PIDS; do kill "$p" 2> /dev/null; done
show $UNIT "$OUT/remove-before.txt"
[ -f "$TEXTFILE" ] && before=present || before=absent
apt remove -y slableak > "$OUT/apt-remove.txt" 2>&1
rc_remove=$?
sleep 2
[ -f "$TEXTFILE" ] && after=present || after=absent
systemctl show $UNIT -p LoadState,ActiveState > "$OUT/remove-after.txt" 2>&1
bpftool -j prog show > "$OUT/progs-removed.json" 2>&1
step remove rc=$rc_remove textfile_before="$before" textfile_after="$after" load="$(prop $UNIT LoadState)" state="$(prop $UNIT ActiveState)" programs_left="$(slableak_prog_ids | wc -l)"
journal_unit $UNIT "$OUT/journal-slableak.txt"
journal_unit prometheus.service "$OUT/journal-prometheus.txt"
step 'done'
