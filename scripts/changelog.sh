#!/usr/bin/env bash
# The changelog the next release will get, rendered without releasing: antsibull-changelog
# releases a scratch copy of the collection (tracked and new files), so this tree keeps its
# fragments and galaxy.yml its version. Prints the path of the rendered CHANGELOG.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.cache/changelog/ansible_collections/lticontainer/hub
rm -rf .cache/changelog
mkdir -p "$scratch"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$scratch"
(cd "$scratch" && antsibull-changelog release --date "$(date +%F)" >/dev/null)
cp "$scratch/CHANGELOG.md" .cache/changelog/CHANGELOG.md
echo ".cache/changelog/CHANGELOG.md: version $(sed -n 's/^version: //p' galaxy.yml) as its release would write it"
