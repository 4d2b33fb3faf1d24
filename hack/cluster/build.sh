#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kubectl from the pinned Go module in k8s/ into a cache outside the clone.
# Prints the directory holding the binaries. Rebuilds only when the pin (go.mod, go.sum) or build_rev changes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mod="$here/k8s"
version=$(sed -nE 's/^[[:space:]]*(require[[:space:]]+)?k8s\.io\/kubernetes[[:space:]]+(v[^[:space:]]+).*/\2/p' "$mod/go.mod")
[ -n "$version" ] || { echo "build.sh: cannot read the k8s.io/kubernetes pin from $mod/go.mod" >&2; exit 1; }

command -v go >/dev/null || { echo "build.sh: Go >= 1.26 is needed to build the local control plane (kube-apiserver, etcd); install it from go.dev" >&2; exit 1; }

# Bump when the build itself changes (flags, binaries), so caches built the old way are not reused.
build_rev=2
key=$( (cat "$mod/go.mod" "$mod/go.sum"; echo "$build_rev") | sha256sum | cut -c1-12)
out="${POD_SYNC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pod-sync-operator}/k8s-$version-$key"

binaries=(kube-apiserver kube-controller-manager kube-scheduler etcd kubectl)
complete=1
for b in "${binaries[@]}"; do [ -x "$out/$b" ] || complete=0; done
if [ "$complete" = 1 ]; then
  echo "$out"
  exit 0
fi

minor=${version#v1.}; minor=${minor%%.*}
pkg=k8s.io/component-base/version
cpkg=k8s.io/client-go/pkg/version
ldflags="-s -w"
for p in $pkg $cpkg; do
  ldflags+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  ldflags+=" -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done

tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
echo "build.sh: building ${binaries[*]} $version into $out (the first build takes a while)" >&2
start=$(date +%s)
(
  cd "$mod"
  # One invocation so the binaries share compiled packages; -pgo=off skips the profiles for build speed.
  CGO_ENABLED=0 go build -trimpath -pgo=off -ldflags "$ldflags" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl go.etcd.io/etcd/server/v3
)
# go names the binary of go.etcd.io/etcd/server/v3 after "server" (the major-version suffix is elided).
mv "$tmp/server" "$tmp/etcd"
rm -rf "$out"
mv "$tmp" "$out"
echo "build.sh: built in $(( $(date +%s) - start )) s" >&2
echo "$out"
