#!/usr/bin/env bash
# Build the local images the sandbox and the Molecule scenarios need, since no
# registry is reachable: a systemd host per Debian suite (debootstrap + import)
# and a small single-user image saved as an archive for container_runtime to load.
# Each image is tagged with a hash of its recipe, so it is rebuilt only when the
# recipe changes.
#   scripts/images.sh host bookworm   -> prints the host image name
#   scripts/images.sh singleuser      -> prints "IMAGE ARCHIVE" (tag and saved archive)
#   scripts/images.sh client          -> prints the Moodle stand-in image name
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="${LTICONTAINER_CACHE:-$root/.cache}"
ca_bundle="${LTICONTAINER_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
mkdir -p "$cache"

recipe_hash() {
  cat "$@" | sha256sum | cut -c1-12
}

host_image() {
  local suite=$1
  local recipe="$root/images/hub-host"
  local tag
  tag="lticontainer-hub-host:${suite}-$(recipe_hash "$recipe/packages.txt" "$recipe/build.sh")"
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
    echo "images: debootstrap $suite (about a minute)" >&2
    "$recipe/build.sh" "$suite" "$tag" "$cache"
    # Drop the images of earlier recipes.
    docker images --format '{{.Repository}}:{{.Tag}}' lticontainer-hub-host | grep "^lticontainer-hub-host:${suite}-" \
      | grep -vx "$tag" | xargs -r docker rmi >/dev/null 2>&1 || true
  fi
  docker tag "$tag" "lticontainer-hub-host:$suite"
  echo "lticontainer-hub-host:$suite"
}

# Build images/NAME/Dockerfile on the bookworm host image, with the CA bundle in the
# context (pip inside the build must trust an intercepting proxy). Prints the tag.
context_image() {
  local name=$1 base context tag
  base=$(host_image bookworm)
  context="$root/images/$name"
  tag="lticontainer-$name:$(recipe_hash "$context"/* "$root/images/hub-host/packages.txt" "$root/images/hub-host/build.sh")"
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    echo "images: building $tag" >&2
    local build
    build=$(mktemp -d "$cache/build.XXXXXX")
    cp "$context"/* "$build/"
    cp "$ca_bundle" "$build/ca-bundle.crt"
    DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$base" -t "$tag" "$build" >/dev/null
    rm -rf "$build"
    docker images --format '{{.Repository}}:{{.Tag}}' "lticontainer-$name" | grep -vx "$tag" \
      | xargs -r docker rmi >/dev/null 2>&1 || true
  fi
  echo "$tag"
}

singleuser_archive() {
  local tag archive
  tag=$(context_image singleuser)
  archive="$cache/${tag/:/-}.tar"
  if [ ! -s "$archive" ]; then
    find "$cache" -maxdepth 1 -name 'lticontainer-singleuser-*.tar' ! -name "${archive##*/}" -delete
    docker save "$tag" -o "$archive.tmp"
    mv "$archive.tmp" "$archive"
  fi
  echo "$tag $archive"
}

case "${1:-}" in
  host) host_image "${2:?suite, for example bookworm}" ;;
  singleuser) singleuser_archive ;;
  client) context_image moodle-client ;;
  *) echo "usage: $0 host SUITE | singleuser | client" >&2; exit 2 ;;
esac
