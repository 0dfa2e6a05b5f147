#!/usr/bin/env bash
# The one definition of a systemd hub host container as the machines here allow, used by
# `make sandbox` and by every Molecule scenario (molecule/shared/create.yml, destroy.yml):
# no --privileged (CAP_SYS_RESOURCE is missing), all other capabilities, the host's
# cgroup tree, and volumes for the nested engine's storage (native overlay, not vfs).
#   scripts/hubhost.sh up NAME IMAGE [DOCKERFILE]
#       DOCKERFILE: IMAGE is an official distribution image (needs a registry); the host
#       image is built first from DOCKERFILE with --build-arg BASE=IMAGE (adds systemd,
#       Python and sshd) and tagged lticontainer-hub-host:REPO-TAG.
#   scripts/hubhost.sh down NAME      (stops the hub and the nested engine first)
# Prints one line: "hubhost: NAME created|started|already running|removed|absent".
set -euo pipefail

action=${1:?up or down}
name=${2:?container name}

case "$action" in
  up)
    image=${3:?image}
    dockerfile=${4:-}
    state=absent
    if docker inspect "$name" >/dev/null 2>&1; then
      state=$(docker inspect -f '{{.State.Running}}' "$name")
    fi
    if [ "$state" = absent ]; then
      if [ -n "$dockerfile" ]; then
        base=$image
        image=lticontainer-hub-host:$(basename "${base//:/-}")
        # No build context: the recipe copies nothing. The host's client may lack buildx.
        DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$base" -t "$image" - <"$dockerfile" >&2
      fi
      docker run -d --name "$name" --hostname "$name" \
        --cap-add ALL --cap-drop SYS_RESOURCE \
        --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
        --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
        --tmpfs /run --tmpfs /run/lock --stop-signal SIGRTMIN+3 \
        -v "$name-engine:/var/lib/docker" -v "$name-containers:/var/lib/containers" \
        "$image" /lib/systemd/systemd >/dev/null
      result=created
    elif [ "$state" = false ]; then
      docker start "$name" >/dev/null
      result=started
    else
      result='already running'
    fi
    for _ in $(seq 60); do
      s=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
      case "$s" in running|degraded) echo "hubhost: $name $result"; exit 0 ;; esac
      sleep 1
    done
    echo "hubhost: $name did not finish booting" >&2
    exit 1
    ;;
  down)
    result=absent
    if docker inspect "$name" >/dev/null 2>&1; then
      # User containers are siblings in the host's cgroup tree: stop them and their engine
      # (the Docker engine keeps its containers running when it stops: live-restore).
      docker exec "$name" sh -c 'systemctl stop jupyterhub
        if command -v podman; then podman stop -a -t 5; fi
        if systemctl -q is-active docker; then docker ps -q | xargs -r docker stop -t 5; fi
        systemctl stop docker.socket docker podman.socket podman' >/dev/null 2>&1 || true
      docker rm -f "$name" >/dev/null
      result=removed
    fi
    docker volume rm -f "$name-engine" "$name-containers" >/dev/null
    echo "hubhost: $name $result"
    ;;
  *) echo "usage: $0 up NAME IMAGE [DOCKERFILE] | down NAME" >&2; exit 2 ;;
esac
