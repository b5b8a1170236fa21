#!/bin/sh
# mmdebstrap --customize-hook for the full Debian guest image (scripts/lab/image.py,
# lab_image()): $1 is the root directory, $2 this script's directory.
# Only what a freshly installed Debian 12 host would have set by its installer
# (hostname, fstab, a network configuration), plus the runner that drives a
# scenario, and fewer timers so nothing unrelated starts while the guest lives.
set -eu
root=$1 here=$2
echo slableak-guest > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tslableak-guest\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
# The root partition by its PARTUUID (scripts/lab/guest.py ROOT_PARTUUID): disk
# names depend on the order the kernel finds them.
echo 'PARTUUID=51ab1eaf-01 / ext4 rw,errors=remount-ro 0 1' > "$root/etc/fstab"
: > "$root/etc/machine-id"   # generated at first boot
install -m 0755 "$here/runner.sh" "$root/usr/local/sbin/slableak-lab-runner"
install -m 0644 "$here/runner.service" "$root/etc/systemd/system/slableak-lab-runner.service"
chroot "$root" systemctl enable slableak-lab-runner.service
# Periodic jobs and consoles nobody uses in this guest (it lives a few minutes).
chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
	fstrim.timer e2scrub_reap.service getty@tty1.service serial-getty@ttyS0.service \
	serial-getty@ttyS1.service serial-getty@ttyS2.service systemd-timesyncd.service 2>/dev/null || true
# qemu's user network (Guest(forwards=...)): the guest is 10.0.2.15, the host's
# forwarded connections arrive from 10.0.2.2. Static, so no DHCP wait; udev loads
# virtio_net (the image carries it per kernel, image.py). A guest without a NIC
# must not wait for one: wait-online is masked.
mkdir -p "$root/etc/systemd/network"
printf '[Match]\nName=en* eth*\n\n[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
	> "$root/etc/systemd/network/20-lab.network"
chroot "$root" systemctl enable systemd-networkd.service
chroot "$root" systemctl mask systemd-networkd-wait-online.service
# Prometheus and node_exporter listen on loopback only.
echo 'ARGS="--web.listen-address=127.0.0.1:9090"' > "$root/etc/default/prometheus"
echo 'ARGS="--web.listen-address=127.0.0.1:9100"' > "$root/etc/default/prometheus-node-exporter"
# No package lists: the guest installs only a local .deb whose dependencies are
# installed, and parsing the whole archive's lists costs a minute under TCG.
rm -rf "$root"/var/lib/apt/lists/*
# A journal that persists nothing: the runner copies it out before power-off.
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' > "$root/etc/systemd/journald.conf.d/volatile.conf"
