#!/usr/bin/env bash
# Recipe of a hub host image: a minimal Debian SUITE with systemd as PID 1, made with
# debootstrap (no registry is reachable) and imported as TAG.
#   images/hub-host/build.sh SUITE TAG WORKDIR
set -euo pipefail
suite=$1 tag=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "$work/rootfs.XXXXXX")
trap 'rm -rf "$dir"' EXIT
debootstrap --variant=minbase --include="$(grep -v '^#' "$here/packages.txt" | paste -sd, -)" \
  "$suite" "$dir" http://deb.debian.org/debian >"$work/debootstrap-$suite.log" 2>&1
# Not allowed in these containers, and it would mark the system degraded.
ln -sf /dev/null "$dir/etc/systemd/system/systemd-modules-load.service"
# Container engines mount /proc/sys read-only; a real server's is writable, and Podman's
# netavark sets per-network sysctls. The container's network sysctls are its own.
cat >"$dir/etc/systemd/system/proc-sys-rw.service" <<'UNIT'
[Unit]
Description=Writable /proc/sys, as on a real server
DefaultDependencies=no
Before=sysinit.target

[Service]
Type=oneshot
ExecStart=/bin/mount -o remount,rw /proc/sys

[Install]
WantedBy=sysinit.target
UNIT
mkdir -p "$dir/etc/systemd/system/sysinit.target.wants"
ln -sf ../proc-sys-rw.service "$dir/etc/systemd/system/sysinit.target.wants/proc-sys-rw.service"
# Each container makes its own machine id at first boot.
: >"$dir/etc/machine-id"
rm -f "$dir/var/cache/apt/archives/"*.deb
tar -C "$dir" -c . | docker import --change 'CMD ["/lib/systemd/systemd"]' - "$tag" >/dev/null
