#!/usr/bin/env bash
# Start (or reuse) a systemd hub host container, the way the machines here allow:
# no --privileged (CAP_SYS_RESOURCE is missing), all other capabilities, the host's
# cgroup tree, and volumes for the nested engine's storage (native overlay, not vfs).
#   scripts/hubhost.sh up NAME IMAGE
#   scripts/hubhost.sh down NAME      (stops the hub and the nested engine first)
set -euo pipefail

action=${1:?up or down}
name=${2:?container name}

case "$action" in
  up)
    image=${3:?image}
    state=absent
    if docker inspect "$name" >/dev/null 2>&1; then
      state=$(docker inspect -f '{{.State.Running}}' "$name")
    fi
    if [ "$state" = absent ]; then
      docker run -d --name "$name" --hostname "$name" \
        --cap-add ALL --cap-drop SYS_RESOURCE \
        --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
        --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
        --tmpfs /run --tmpfs /run/lock --stop-signal SIGRTMIN+3 \
        -v "$name-engine:/var/lib/docker" -v "$name-containers:/var/lib/containers" \
        "$image" /lib/systemd/systemd >/dev/null
    elif [ "$state" = false ]; then
      docker start "$name" >/dev/null
    fi
    for _ in $(seq 60); do
      s=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
      case "$s" in running|degraded) exit 0 ;; esac
      sleep 1
    done
    echo "hubhost: $name did not finish booting" >&2
    exit 1
    ;;
  down)
    if docker inspect "$name" >/dev/null 2>&1; then
      # User containers are siblings in the host's cgroup tree: stop them with their engine.
      docker exec "$name" systemctl stop jupyterhub docker.socket docker podman.socket podman 2>/dev/null || true
      docker exec "$name" sh -c 'command -v podman >/dev/null && podman stop -a -t 5' >/dev/null 2>&1 || true
      docker rm -f "$name" >/dev/null
    fi
    docker volume rm -f "$name-engine" "$name-containers" >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 up NAME IMAGE | down NAME" >&2; exit 2 ;;
esac
