#!/usr/bin/env bash
# `make sandbox`: working hubs in local containers, deployed by site.yml and proven
# by verify.yml's signed LTI launches and SSH tunnel. A second run reuses everything
# and must converge with zero changes. Choices (make variables of the same names):
#   DISTRO=debian12|debian13  ENGINE=docker|podman  FIREWALL=none|firewalld|ufw  HUBS=1|2
#   SANDBOX_DOWN=1 scripts/sandbox.sh   removes the sandbox instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
inventory=inventories/sandbox
distro=${DISTRO:-debian12} engine=${ENGINE:-docker} firewall=${FIREWALL:-none} count=${HUBS:-1}
case "$distro" in
  debian12) suite=bookworm ;;
  debian13) suite=trixie ;;
  *) echo "sandbox: DISTRO must be debian12 or debian13 (Rocky 9 and Ubuntu 24.04 images cannot be had here)" >&2; exit 2 ;;
esac
if ! [[ $engine =~ ^(docker|podman)$ && $firewall =~ ^(none|firewalld|ufw)$ && $count =~ ^[12]$ ]]; then
  echo "sandbox: ENGINE docker|podman, FIREWALL none|firewalld|ufw, HUBS 1|2 (got $engine, $firewall, $count)" >&2
  exit 2
fi
hubs=()
for i in $(seq "$count"); do hubs+=("lticontainer-sandbox-hub$i"); done
client=lticontainer-sandbox-moodle
report="$root/.cache/sandbox-report"
ssh_dir="$root/.cache/sandbox-ssh"

if [ "${SANDBOX_DOWN:-0}" = 1 ]; then
  docker rm -f "$client" >/dev/null 2>&1 || true
  for hub in lticontainer-sandbox-hub1 lticontainer-sandbox-hub2; do scripts/hubhost.sh down "$hub"; done
  echo "sandbox removed (secrets kept in $inventory/group_vars/hubs/vault.yml)"
  exit 0
fi

t0=$(date +%s)
scripts/engine.sh
host_image=$(scripts/images.sh host "$suite")
read -r su_image su_archive < <(scripts/images.sh singleuser)
client_image=$(scripts/images.sh client)
for hub in "${hubs[@]}"; do
  # Another distribution than last time: start that hub afresh.
  current=$(docker inspect -f '{{.Image}}' "$hub" 2>/dev/null || true)
  if [ -n "$current" ] && [ "$current" != "$(docker image inspect -f '{{.Id}}' "$host_image")" ]; then
    scripts/hubhost.sh down "$hub"
  fi
  scripts/hubhost.sh up "$hub" "$host_image"
done
# The hubs are reached over SSH as root with a key made for this sandbox, as a site's
# Ansible reaches its servers (group_vars/hubs/connection.yml).
mkdir -p "$ssh_dir"
[ -f "$ssh_dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C lticontainer-sandbox -f "$ssh_dir/id_ed25519"
addresses=()
for hub in "${hubs[@]}"; do
  docker exec -i "$hub" sh -c 'umask 077 && mkdir -p /root/.ssh && cat >/root/.ssh/authorized_keys' <"$ssh_dir/id_ed25519.pub"
  addresses+=("\"$hub\": \"$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "$hub")\"")
done
if [ "$(docker inspect -f '{{.Image}}' "$client" 2>/dev/null)" != "$(docker image inspect -f '{{.Id}}' "$client_image")" ]; then
  docker rm -f "$client" >/dev/null 2>&1 || true
  docker run -d --name "$client" --hostname "$client" "$client_image" >/dev/null
fi
docker start "$client" >/dev/null
# The only address the hubs' tunnel user may log in from.
moodle_address=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "$client")
scripts/secrets.sh "$inventory/group_vars/hubs"
t1=$(date +%s)

run() {
  ansible-playbook -i "$inventory" --vault-password-file "$inventory/.vault-pass" \
    --limit "$(IFS=,; echo "${hubs[*]},$client")" -e "sandbox_engine=$engine" -e "sandbox_firewall=$firewall" \
    -e "{\"sandbox_hub_addresses\": {$(IFS=,; echo "${addresses[*]}")}}" \
    -e "sandbox_moodle_address=$moodle_address" \
    -e "sandbox_singleuser_image=$su_image" -e "sandbox_singleuser_archive=$su_archive" "$@"
}
rm -rf "$report" && mkdir -p "$report"
run playbooks/site.yml | tee "$report/converge.log"
t2=$(date +%s)
run playbooks/verify.yml -e "verify_report_dir=$report" | tee "$report/verify.log"
t3=$(date +%s)
# JupyterLab inside a Moodle-like page's iframe, in Debian's chromium (screenshot in .cache/browser).
browser_ok=0
browser=$(python scripts/iframe_check.py 2>&1) || browser_ok=1

echo
echo "=== lticontainer.hub sandbox ($distro, $engine, firewall $firewall, $count hub(s)) ==="
echo "images and hub containers: $((t1 - t0)) s, converge (site.yml): $((t2 - t1)) s, verify.yml: $((t3 - t2)) s"
grep -E '^[^ ]+ +: ok=' "$report/converge.log" | awk '{print "converge " $1 ": " $3 " " $4 " " $6}'
cat "$report/summary.txt"
echo "$browser"
echo "secrets: $inventory/group_vars/hubs/vault.yml (ansible-vault, password file $inventory/.vault-pass);"
echo "         per-hub generated secrets in /var/lib/jupyterhub on each hub (0600)"
exit "$browser_ok"
