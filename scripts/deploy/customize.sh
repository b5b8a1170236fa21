#!/bin/sh
# mmdebstrap --customize-hook for the deployment-test guest image
# (scripts/deploy-test.sh): $1 is the root directory, $2 this script's directory.
# Only what a freshly installed Debian 12 host would have set by its installer
# (hostname, fstab), plus the runner that drives the test, and fewer timers so
# nothing unrelated starts during the few minutes the guest lives.
set -eu
root=$1 here=$2
echo slableak-guest > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tslableak-guest\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
echo '/dev/nvme0n1 / ext4 rw,errors=remount-ro 0 1' > "$root/etc/fstab"
: > "$root/etc/machine-id"   # generated at first boot
install -m 0755 "$here/runner.sh" "$root/usr/local/sbin/slableak-deploy-runner"
install -m 0644 "$here/runner.service" "$root/etc/systemd/system/slableak-deploy-runner.service"
chroot "$root" systemctl enable slableak-deploy-runner.service
# Periodic jobs and consoles nobody uses in this guest (it lives a few minutes).
chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
	fstrim.timer e2scrub_reap.service getty@tty1.service serial-getty@ttyS0.service \
	systemd-timesyncd.service 2>/dev/null || true
# Prometheus and node_exporter listen on loopback only (the guest has no NIC anyway).
echo 'ARGS="--web.listen-address=127.0.0.1:9090"' > "$root/etc/default/prometheus"
echo 'ARGS="--web.listen-address=127.0.0.1:9100"' > "$root/etc/default/prometheus-node-exporter"
# No package lists: the guest installs only a local .deb whose dependencies are
# installed, and parsing the whole archive's lists costs a minute under TCG.
rm -rf "$root"/var/lib/apt/lists/*
# A journal that persists nothing: the runner copies it out before power-off.
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' > "$root/etc/systemd/journald.conf.d/volatile.conf"
