#!/usr/bin/env bash
# Generate a sandbox's secrets once and keep them Vault-encrypted:
#   scripts/secrets.sh DIR   -> DIR/vault.yml (encrypted) and DIR/../../.vault-pass (0600)
# A secret that vault.yml holds is never regenerated, so the hub keeps its credentials; one that
# a newer collection added is generated and appended.
set -euo pipefail
dir=${1:?group_vars directory}
vault_pass="$dir/../../.vault-pass"
umask 077
[ -s "$vault_pass" ] || openssl rand -hex 32 >"$vault_pass"
vault() { ansible-vault "$1" --vault-password-file "$vault_pass" "$dir/vault.yml"; }
current=""
[ -s "$dir/vault.yml" ] && current=$(vault view)

new() {  # NAME VALUE: a line for vault.yml when the secret is missing
  grep -q "^$1:" <<<"$current" || printf '%s: %s\n' "$1" "$2"
}
tunnel_password=$(openssl rand -hex 16)
added=$(
  new vault_lti_consumer_key "sandbox-$(openssl rand -hex 4)"
  new vault_lti_consumer_secret "$(openssl rand -hex 32)"
  new vault_api_token "$(openssl rand -hex 32)"
  new vault_metrics_token "$(openssl rand -hex 32)"
  if ! grep -q '^vault_tunnel_user_password:' <<<"$current"; then
    new vault_tunnel_user_password "$tunnel_password"
    new vault_tunnel_user_password_hash "'$(printf '%s\n' "$tunnel_password" | openssl passwd -6 -stdin)'"
  fi
)
if [ -n "$added" ]; then
  printf '%s\n%s\n' "${current:----}" "$added" >"$dir/vault.yml"
  vault encrypt >/dev/null
fi
