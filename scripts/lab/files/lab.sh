# shellcheck shell=sh disable=SC2034
# /lab.sh: the guest side of scripts/lab, sourced by a busybox /init.
# Sets up /proc, /sys, /dev, /tmp and PATH; provides
#   lab_emit NAME FILE        a file to the host, framed base64 on $LAB_DATA
#   lab_say TAG k=v ...       one status line on the console
#   lab_wait_ready FILE PID SECS  wait for the line of `slableak --ready-fd N`
#                             in FILE (N>FILE) while PID (a child of this
#                             shell) runs: LAB_STATE=tracing, exited or timeout
#   lab_net                   bring up eth0 (qemu user network, 10.0.2.15) for
#                             Guest(forwards=...): loads /lib/modules/lab/*
#   lab_poweroff              flush and power off
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/payload:/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
mount -t debugfs nodev /sys/kernel/debug 2>/dev/null
# Keep the console quiet so our lines are not torn by printk (dmesg has it all).
echo 1 > /proc/sys/kernel/printk 2>/dev/null
# The host says (LAB_DATA_DEV in /lab.conf) whether there is a second UART: an
# arm64 kernel has /dev/ttyS1 nodes without a UART behind them.
# shellcheck source=/dev/null # written into the initramfs by scripts/lab
[ -r /lab.conf ] && . /lab.conf
LAB_DATA=${LAB_DATA_DEV:-/dev/console}
[ -c "$LAB_DATA" ] && (: > "$LAB_DATA") 2>/dev/null || LAB_DATA=/dev/console

# slableak --ready-fd N writes this JSON line once every program is attached.
LAB_READY='"ready":true'

lab_up() { cut -d' ' -f1 /proc/uptime; }

lab_emit() {
	{
		echo "@@LAB-BEGIN $1"
		[ -f "$2" ] && base64 < "$2"
		echo "@@LAB-END $1"
	} > "$LAB_DATA"
}

lab_say() {
	echo "$*"
}

lab_wait_ready() { # sets LAB_STATE (not in a subshell: PID must be our child)
	# Few processes per poll: under TCG each one costs the guest's one CPU, which
	# slableak needs to load.
	_i=$(($3 * 10))
	while [ $_i -gt 0 ]; do
		if grep -q "$LAB_READY" "$1" 2>/dev/null; then LAB_STATE=tracing; return 0; fi
		if ! kill -0 "$2" 2>/dev/null; then
			grep -q "$LAB_READY" "$1" 2>/dev/null && LAB_STATE=tracing || LAB_STATE=exited
			return 0
		fi
		usleep 100000
		_i=$((_i - 1))
	done
	LAB_STATE=timeout
}

lab_net() {
	for m in /lib/modules/lab/*; do
		[ -f "$m" ] && insmod "$m" 2>/dev/null
	done
	ip link set lo up
	ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2
}

lab_poweroff() {
	sync
	usleep 300000 # let the UART drain the last console line
	poweroff -f
	sleep 5
	echo o > /proc/sysrq-trigger 2>/dev/null
	exit 1
}
