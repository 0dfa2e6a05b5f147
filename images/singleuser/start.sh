#!/bin/sh
# Start as root, then run the server as the student (NB_UID/NB_GID set by the spawner).
set -eu
if [ "$(id -u)" = 0 ] && [ -n "${NB_UID:-}" ]; then
  export HOME="${NB_DIR:-/tmp}"
  export JUPYTER_RUNTIME_DIR=/tmp/jupyter-runtime
  exec setpriv --reuid="$NB_UID" --regid="${NB_GID:-$NB_UID}" --clear-groups "$@"
fi
exec "$@"
