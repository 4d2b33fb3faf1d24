#!/usr/bin/env bash
# Builds client-go's example controller (k8s.io/client-go/examples/workqueue, a tool of this module, at
# the client-go version of the local control plane) into a cache outside the clone, as
# hack/cluster/build.sh does for the control plane. Prints the path of the binary. Rebuilds only when
# go.mod, go.sum or build_rev change.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
go=$(command -v go || true)
[ -n "$go" ] || { [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go; }
[ -n "$go" ] || { echo "bench/go/build.sh: Go >= 1.26 is needed to build client-go's example controller" >&2; exit 1; }

version=$(sed -nE 's/^[[:space:]]*(require[[:space:]]+)?k8s\.io\/client-go[[:space:]]+(v[^[:space:]]+).*/\2/p' "$here/go.mod")
[ -n "$version" ] || { echo "bench/go/build.sh: cannot read the k8s.io/client-go pin from $here/go.mod" >&2; exit 1; }

# Bump when the build itself changes, so binaries built the old way are not reused.
build_rev=1
key=$( (cat "$here/go.mod" "$here/go.sum"; echo "$build_rev") | sha256sum | cut -c1-12)
out="${POD_SYNC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pod-sync-operator}/bench-client-go-$version-$key"

if [ -x "$out/workqueue" ]; then
  echo "$out/workqueue"
  exit 0
fi

tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
echo "bench/go/build.sh: building k8s.io/client-go/examples/workqueue $version into $out" >&2
# Default flags, as a user building the example would; -mod=readonly: go.mod and go.sum are the pin.
(cd "$here" && CGO_ENABLED=0 "$go" build -mod=readonly -o "$tmp/workqueue" k8s.io/client-go/examples/workqueue)
rm -rf "$out"
mv "$tmp" "$out"
echo "$out/workqueue"
