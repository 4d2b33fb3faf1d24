#!/usr/bin/env bash
# Builds the local cluster's binaries into caches outside the clone, each rebuilt only when its pin
# (go.mod, go.sum) or build_rev changes:
#   k8s/   kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kubectl (one module graph)
#   kwok/  kwok, the kubelet simulator (its own module: kwok v0.8.0 pins k8s.io/* v0.36.1)
# Prints one line per cache, `k8s=<dir>` then `kwok=<dir>`; progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root="${POD_SYNC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pod-sync-operator}"

command -v go >/dev/null || { echo "build.sh: Go >= 1.26 is needed to build the local cluster (kube-apiserver, etcd, kwok); install it from go.dev" >&2; exit 1; }

tmp=''
trap 'rm -rf "$tmp"' EXIT

# Bump when the build itself changes (flags, binaries), so caches built the old way are not reused.
build_rev=2

# pin <module dir> <module path>: the version that go.mod requires, e.g. v1.37.2.
pin() {
  local version
  version=$(sed -nE "s|^[[:space:]]*(require[[:space:]]+)?${2//./\\.}[[:space:]]+(v[^[:space:]]+).*|\\2|p" "$1/go.mod")
  [ -n "$version" ] || { echo "build.sh: cannot read the $2 pin from $1/go.mod" >&2; exit 1; }
  echo "$version"
}

# cache_dir <name> <module dir> <version>: where that pin's binaries live.
cache_dir() {
  local key
  key=$( (cat "$2/go.mod" "$2/go.sum"; echo "$build_rev") | sha256sum | cut -c1-12)
  echo "$cache_root/$1-$3-$key"
}

# complete <dir> <binary>...: whether every binary is already there.
complete() {
  local dir=$1 b
  shift
  for b in "$@"; do [ -x "$dir/$b" ] || return 1; done
}

# build <module dir> <out dir> <ldflags> <package>...: one `go build` into a temp dir, then moved
# into place, so an interrupted build never leaves a half-filled cache. Runs fix_names, if set, in
# the temp dir before the move.
build() {
  local mod=$1 out=$2 ldflags=$3
  shift 3
  tmp="$out.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local start
  start=$(date +%s)
  # -pgo=off skips the profiles for build speed; one invocation lets the binaries share packages.
  (cd "$mod" && CGO_ENABLED=0 go build -trimpath -pgo=off -ldflags "$ldflags" -o "$tmp/" "$@")
  if [ -n "${fix_names:-}" ]; then (cd "$tmp" && eval "$fix_names"); fi
  rm -rf "$out"
  mv "$tmp" "$out"
  tmp=''
  echo "build.sh: built $(basename "$out") in $(( $(date +%s) - start )) s" >&2
}

# --- kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kubectl
k8s_mod="$here/k8s"
k8s_version=$(pin "$k8s_mod" k8s.io/kubernetes)
k8s_out=$(cache_dir k8s "$k8s_mod" "$k8s_version")
k8s_binaries=(kube-apiserver kube-controller-manager kube-scheduler etcd kubectl)
if ! complete "$k8s_out" "${k8s_binaries[@]}"; then
  minor=${k8s_version#v1.}; minor=${minor%%.*}
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ldflags+=" -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  echo "build.sh: building ${k8s_binaries[*]} $k8s_version into $k8s_out (the first build takes a while)" >&2
  # go names the binary of go.etcd.io/etcd/server/v3 after "server" (the major-version suffix is elided).
  fix_names='mv server etcd' build "$k8s_mod" "$k8s_out" "$ldflags" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl go.etcd.io/etcd/server/v3
fi

# --- kwok (its version string is compiled in: pkg/consts.Version is "0.8.0" in the v0.8.0 source)
kwok_mod="$here/kwok"
kwok_version=$(pin "$kwok_mod" sigs.k8s.io/kwok)
kwok_out=$(cache_dir kwok "$kwok_mod" "$kwok_version")
if ! complete "$kwok_out" kwok; then
  echo "build.sh: building kwok $kwok_version into $kwok_out" >&2
  build "$kwok_mod" "$kwok_out" "-s -w" sigs.k8s.io/kwok/cmd/kwok
fi

echo "k8s=$k8s_out"
echo "kwok=$kwok_out"
