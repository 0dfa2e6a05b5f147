#!/usr/bin/env bash
# Benchmark: the bare manual install against a fresh site.yml converge, side by side in one run,
# each on a new Debian 12 hub host container, then a second converge (nothing to change).
# The bare install is the seeds' steps, nothing more: apt docker.io python3-venv nodejs npm,
# the pip stack in a venv, npm -g configurable-http-proxy@4, the hub up and answering.
#   scripts/bench-converge.sh        (prints one line per measurement; docs/benchmark.md has the method)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bare=lticontainer-bench-bare
hub=lticontainer-bench-hub
image=$(scripts/images.sh host bookworm)
read -r su_image su_archive < <(scripts/images.sh singleuser)
ca=${LTICONTAINER_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
trap 'scripts/hubhost.sh down $bare >/dev/null; scripts/hubhost.sh down $hub >/dev/null' EXIT

# The bare install, timed from the first apt call to /hub/health answering.
scripts/hubhost.sh up "$bare" "$image" >/dev/null
docker cp "$ca" "$bare:/root/ca.crt"
start=$(date +%s.%N)
docker exec -i "$bare" bash -euo pipefail <<'BARE' >/dev/null 2>&1
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq docker.io python3-venv nodejs npm
python3 -m venv /opt/jupyterhub
/opt/jupyterhub/bin/pip install -q --cert /root/ca.crt jupyterhub==4.1.6 jupyterhub-ltiauthenticator==1.6.3 dockerspawner==14.0.0
npm install -g --cafile /root/ca.crt configurable-http-proxy@4
cd /root && cat >jupyterhub_config.py <<'CONF'
c.JupyterHub.authenticator_class = 'ltiauthenticator.LTIAuthenticator'
c.LTI11Authenticator.consumers = {'bench-key': 'bench-secret-0123456789'}
c.JupyterHub.spawner_class = 'dockerspawner.DockerSpawner'
CONF
nohup /opt/jupyterhub/bin/jupyterhub -f jupyterhub_config.py >/root/hub.log 2>&1 &
for _ in $(seq 120); do python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/hub/health')" && exit 0; sleep 1; done
exit 1
BARE
bare_s=$(python3 -c "import time; print(time.time() - $start)")

# site.yml on a new hub host, as the sandbox runs it (SSH, the same inventory and images); no Moodle
# stand-in here, so the tunnel user may log in only from a documentation address (never contacted).
scripts/hubhost.sh up "$hub" "$image" >/dev/null
ssh_dir=.cache/sandbox-ssh
[ -f "$ssh_dir/id_ed25519" ] || { mkdir -p "$ssh_dir"; ssh-keygen -q -t ed25519 -N '' -f "$ssh_dir/id_ed25519"; }
docker exec -i "$hub" sh -c 'umask 077 && mkdir -p /root/.ssh && cat >/root/.ssh/authorized_keys' <"$ssh_dir/id_ed25519.pub"
scripts/secrets.sh inventories/sandbox/group_vars/hubs
address=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "$hub")
converge() {
  local s
  s=$(date +%s.%N)
  ansible-playbook -i inventories/sandbox --vault-password-file inventories/sandbox/.vault-pass \
    --limit lticontainer-sandbox-hub1 -e "{\"sandbox_hub_addresses\": {\"lticontainer-sandbox-hub1\": \"$address\"}}" \
    -e sandbox_moodle_address=192.0.2.10 \
    -e sandbox_singleuser_image="$su_image" -e sandbox_singleuser_archive="$su_archive" playbooks/site.yml \
    >".cache/bench-converge-$1.log" || { echo "converge $1 failed: .cache/bench-converge-$1.log" >&2; return 1; }
  python3 -c "import time; print(time.time() - $s)"
}
fresh_s=$(converge fresh)
printf 'bare manual install: %.0f s\nfresh site.yml converge: %.0f s (%.2fx the bare install)\n' \
  "$bare_s" "$fresh_s" "$(python3 -c "print($fresh_s / $bare_s)")"
# The second converge follows the fresh one at once, while the host still settles (the hub's first
# start): two more show what a converge of a settled hub takes.
for run in second third fourth; do
  run_s=$(converge "$run")
  printf '%s converge: %.1f s, %s\n' "$run" "$run_s" "$(grep -Eo 'changed=[0-9]+' ".cache/bench-converge-$run.log" | head -1)"
done

# What a second converge is made of: its SSH executions on the host (one per module run with pipelining,
# more for a file task's action; counted in a fifth, verbose converge) and what one module run costs
# here (20 pings over the same connection).
ANSIBLE_VERBOSITY=3 converge counted >/dev/null
printf -- '- hosts: lticontainer-sandbox-hub1\n  gather_facts: false\n  tasks:\n' >.cache/bench-ping.yml
for i in $(seq 20); do printf -- '    - name: Ping %s\n      ansible.builtin.ping:\n' "$i"; done >>.cache/bench-ping.yml
s=$(date +%s.%N)
ansible-playbook -i inventories/sandbox --vault-password-file inventories/sandbox/.vault-pass \
  -e "{\"sandbox_hub_addresses\": {\"lticontainer-sandbox-hub1\": \"$address\"}}" .cache/bench-ping.yml >/dev/null
printf 'SSH executions on the host in a second converge: %s; one module run (ping, 20 in a row): %.2f s\n' \
  "$(grep -c 'SSH: EXEC' .cache/bench-converge-counted.log)" "$(python3 -c "import time; print((time.time() - $s) / 20)")"
