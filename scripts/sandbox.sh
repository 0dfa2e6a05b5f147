#!/usr/bin/env bash
# `make sandbox`: a working hub in local containers, deployed by site.yml and proven
# by verify.yml's signed LTI launch. A second run reuses everything and must converge
# with zero changes.
#   SANDBOX_DOWN=1 scripts/sandbox.sh   removes the sandbox instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
inventory=inventories/sandbox
hubs=(lticontainer-sandbox-hub1)
report="$root/.cache/sandbox-report"

if [ "${SANDBOX_DOWN:-0}" = 1 ]; then
  for hub in "${hubs[@]}"; do scripts/hubhost.sh down "$hub"; done
  echo "sandbox removed (secrets kept in $inventory/group_vars/hubs/vault.yml)"
  exit 0
fi

t0=$(date +%s)
scripts/engine.sh
host_image=$(scripts/images.sh host bookworm)
read -r su_image su_archive < <(scripts/images.sh singleuser)
for hub in "${hubs[@]}"; do scripts/hubhost.sh up "$hub" "$host_image"; done
scripts/secrets.sh "$inventory/group_vars/hubs"
t1=$(date +%s)

run() {
  ansible-playbook -i "$inventory" --vault-password-file "$inventory/.vault-pass" \
    -e "sandbox_singleuser_image=$su_image" -e "sandbox_singleuser_archive=$su_archive" "$@"
}
rm -rf "$report" && mkdir -p "$report"
run playbooks/site.yml | tee "$report/converge.log"
t2=$(date +%s)
run playbooks/verify.yml -e "verify_report_dir=$report" | tee "$report/verify.log"
t3=$(date +%s)

python3 - "$report" "$inventory" $((t1 - t0)) $((t2 - t1)) $((t3 - t2)) <<'PY'
import json, pathlib, re, sys
report, inventory, prep, converge, verify = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
recap = re.findall(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)',
                   pathlib.Path(report, 'converge.log').read_text(), re.M)
print('\n=== lticontainer.hub sandbox ===')
print(f'images and hub containers: {prep} s, converge (site.yml): {converge} s, verify.yml: {verify} s')
for host, ok, changed, unreachable, failed in recap:
    print(f'converge {host}: ok={ok} changed={changed} failed={failed}')
for path in sorted(pathlib.Path(report).glob('*.json')):
    r = json.loads(path.read_text())
    c = r.get('container', {})
    mem = c.get('mem_limit')
    print(f"hub {path.stem}: {r['url']}")
    print(f"  launch as {r['user']}: ready in {r['launch_to_ready_seconds']} s, server stopped after: {r.get('stopped')}")
    print(f"  container {c.get('name')}: image {c.get('image')}, cpus {c.get('cpu_limit')}, "
          f"memory {mem} bytes ({(mem or 0) / 2**20:.0f} MiB)")
    print(f"  volumes: {', '.join(v['name'] + ' -> ' + v['destination'] for v in c.get('volumes', []))}")
    print(f"  launch with a wrong secret: HTTP {r['wrong_secret_status']}")
print(f'secrets: {inventory}/group_vars/hubs/vault.yml (ansible-vault, password file {inventory}/.vault-pass);')
print('          per-hub generated secrets in /var/lib/jupyterhub on each hub (0600)')
PY
