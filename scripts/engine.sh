#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine: install Debian's engine (and the image
# builder and SSH client the sandbox uses, and the browser the tests drive) when missing, and
# start dockerd when none runs.
set -euo pipefail

missing=0
for tool in dockerd debootstrap ssh-keygen chromium; do command -v "$tool" >/dev/null 2>&1 || missing=1; done
if [ "$missing" = 1 ]; then
  echo "engine: installing docker.io, debootstrap, openssh-client and chromium from the distribution"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io debootstrap openssh-client chromium >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start docker
  else
    echo "engine: starting dockerd in the background (log: /var/log/lticontainer-dockerd.log)"
    nohup dockerd >/var/log/lticontainer-dockerd.log 2>&1 &
  fi
fi

for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "engine: dockerd did not answer within 60 s" >&2
exit 1
