#!/usr/bin/env bash
# Generate a sandbox's secrets once and keep them Vault-encrypted:
#   scripts/secrets.sh DIR   -> DIR/vault.yml (encrypted) and DIR/../../.vault-pass (0600)
# Nothing is regenerated when vault.yml exists, so the hub keeps its credentials.
set -euo pipefail
dir=${1:?group_vars directory}
vault_pass="$dir/../../.vault-pass"
umask 077
[ -s "$vault_pass" ] || openssl rand -hex 32 >"$vault_pass"
if [ ! -s "$dir/vault.yml" ]; then
  tunnel_password=$(openssl rand -hex 16)
  cat >"$dir/vault.yml" <<VARS
---
vault_lti_consumer_key: sandbox-$(openssl rand -hex 4)
vault_lti_consumer_secret: $(openssl rand -hex 32)
vault_api_token: $(openssl rand -hex 32)
vault_tunnel_user_password: $tunnel_password
vault_tunnel_user_password_hash: '$(printf '%s\n' "$tunnel_password" | openssl passwd -6 -stdin)'
VARS
  ansible-vault encrypt --vault-password-file "$vault_pass" "$dir/vault.yml" >/dev/null
fi
