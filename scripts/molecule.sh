#!/usr/bin/env bash
# Run Molecule scenarios with what they need from this machine: the locally built
# images and secrets generated for this run (never fixed test values).
#   scripts/molecule.sh debian12 [more scenarios]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Hub host images by Debian suite, as the scenarios name them (lticontainer-hub-host:SUITE).
scripts/images.sh host bookworm >/dev/null
if printf '%s\n' "$@" | grep -qE '^(debian13|multihub)$'; then scripts/images.sh host trixie >/dev/null; fi
read -r MOLECULE_SINGLEUSER_IMAGE MOLECULE_SINGLEUSER_ARCHIVE < <(scripts/images.sh singleuser)
export MOLECULE_SINGLEUSER_IMAGE MOLECULE_SINGLEUSER_ARCHIVE
export MOLECULE_CLIENT_IMAGE
MOLECULE_CLIENT_IMAGE=$(scripts/images.sh client)

export MOLECULE_LTI_CONSUMER_KEY MOLECULE_LTI_CONSUMER_SECRET MOLECULE_API_TOKEN MOLECULE_METRICS_TOKEN MOLECULE_TUNNEL_PASSWORD
export MOLECULE_TUNNEL_PASSWORD_HASH
MOLECULE_LTI_CONSUMER_KEY=molecule-$(openssl rand -hex 4)
MOLECULE_LTI_CONSUMER_SECRET=$(openssl rand -hex 32)
MOLECULE_API_TOKEN=$(openssl rand -hex 32)
MOLECULE_METRICS_TOKEN=$(openssl rand -hex 32)
MOLECULE_TUNNEL_PASSWORD=$(openssl rand -hex 16)
# Through stdin: a password on a command line shows in ps.
MOLECULE_TUNNEL_PASSWORD_HASH=$(printf "%s\n" "$MOLECULE_TUNNEL_PASSWORD" | openssl passwd -6 -stdin)

status=0
for scenario in "$@"; do
  start=$(date +%s)
  if molecule --base-config molecule/shared/base.yml test -s "$scenario"; then result=passed; else result=FAILED; status=1; fi
  echo "molecule $scenario: $result in $(($(date +%s) - start)) s"
done
exit $status
