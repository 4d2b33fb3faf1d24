#!/usr/bin/env bash
# `make image` / `npm run image`: builds the operator's image with docker or podman, whichever answers
# here (CONTAINER_ENGINE picks one), tagged $IMAGE (default pod-sync-operator:<package version>). Without
# a working engine it says what it found and exits 1: nothing was built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
image=${IMAGE:-pod-sync-operator:$version}
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)

found=()
for engine in ${CONTAINER_ENGINE:-docker podman}; do
  if ! command -v "$engine" >/dev/null 2>&1; then
    found+=("$engine: not installed")
  elif ! "$engine" info >/dev/null 2>&1; then
    found+=("$engine: installed, but '$engine info' fails (is its daemon or service running?)")
  else
    echo "building $image with $engine" >&2
    exec "$engine" build \
      --build-arg "VERSION=$version" \
      --build-arg "REVISION=$revision" \
      --build-arg "CREATED=$created" \
      --tag "$image" \
      .
  fi
done

{
  echo "make image: no container engine works here, so no image was built."
  printf '  %s\n' "${found[@]}"
  echo "Install docker or podman (or set CONTAINER_ENGINE), or build the Dockerfile elsewhere."
} >&2
exit 1
