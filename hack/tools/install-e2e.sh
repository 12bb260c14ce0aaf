#!/usr/bin/env bash
# Builds what test/e2e runs on top of hack/tools/install.sh's etcd, kube-apiserver
# and kubectl, from the Go module proxy, cached by version (one time: ~15 min on
# 2 cores, most of it Argo CD). Prints the bin directory.
#   kube-controller-manager, kube-scheduler  k8s.io/kubernetes at hack/tools/kube's version
#   kwok                                     sigs.k8s.io/kwok (fake nodes and pod lifecycles)
#   argocd                                   hack/tools/argocd: Argo CD's multi-call binary, linked
#                                            as argocd-application-controller, argocd-repo-server,
#                                            argocd-server, argocd-notifications and argocd-git-ask-pass
# Also copies Argo CD's hack/git-verify-wrapper.sh (the repo server execs it) out of
# the read-only module cache, and writes $cache/argocd-module and $cache/kwok-module,
# the modules' directories (the tests read Argo CD's manifests/ and kwok's stages there).
# Needs git and redis-server on PATH (Debian: apt-get install git redis-server).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SYNCREPORT_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/syncreport/tools}
bin=$cache/bin

# install.sh takes the lock itself: run it before taking it here. --build:
# kube-controller-manager and kube-scheduler below must match kube-apiserver's
# version, so not the user's KUBEBUILDER_ASSETS or PATH binaries.
"$here/install.sh" --build >/dev/null

exec 9>"$cache/.install.lock"
flock 9

for cmd in git redis-server; do
  command -v "$cmd" >/dev/null || { echo "install-e2e: $cmd not found (apt-get install git redis-server)" >&2; exit 1; }
done

modver() { (cd "$here/$1" && go list -m -f '{{.Version}}' "$2"); }
KUBE_VERSION=$(modver kube k8s.io/kubernetes)
KWOK_VERSION=v0.8.0
ARGOCD_VERSION=$(awk '$1 == "github.com/argoproj/argo-cd/v3" {print $2; exit}' "$here/argocd/go.mod")
# Argo CD's go.mod asks for Go 1.27; the go command fetches this toolchain from the module proxy.
ARGOCD_GO=go1.27.4
[ -n "$ARGOCD_VERSION" ] || { echo "install-e2e: no argo-cd version in $here/argocd/go.mod" >&2; exit 1; }

# kube-controller-manager and kube-scheduler come from hack/tools/kube's exact
# module graph (same go.mod/go.sum), built in a scratch copy so that the
# go.sum entries they add never touch the repository.
if [ ! -x "$bin/kube-controller-manager-$KUBE_VERSION" ] || [ ! -x "$bin/kube-scheduler-$KUBE_VERSION" ]; then
  src=$cache/src/kube-e2e-$KUBE_VERSION
  rm -rf "$src" && mkdir -p "$src"
  cp "$here/kube/go.mod" "$here/kube/go.sum" "$src/"
  cat >"$src/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
EOF
  for c in kube-controller-manager kube-scheduler; do
    out=$bin/$c-$KUBE_VERSION
    [ -x "$out" ] && continue
    echo "building $c $KUBE_VERSION (one time)..." >&2
    (cd "$src" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out.tmp" "k8s.io/kubernetes/cmd/$c") >&2
    mv "$out.tmp" "$out"
  done
fi
ln -sf "kube-controller-manager-$KUBE_VERSION" "$bin/kube-controller-manager"
ln -sf "kube-scheduler-$KUBE_VERSION" "$bin/kube-scheduler"

if [ ! -x "$bin/kwok-$KWOK_VERSION" ]; then
  echo "building kwok $KWOK_VERSION (one time)..." >&2
  rm -rf "$bin.kwok.tmp"
  GOBIN=$bin.kwok.tmp CGO_ENABLED=0 go install -trimpath -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
  mv "$bin.kwok.tmp/kwok" "$bin/kwok-$KWOK_VERSION" && rmdir "$bin.kwok.tmp"
fi
ln -sf "kwok-$KWOK_VERSION" "$bin/kwok"
# kwok's own stages (kustomize/stage/) are read from its module at run time.
kwok_mod=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION
[ -f "$kwok_mod/kustomize/stage/pod/fast/pod-ready.yaml" ] || (cd /tmp && go mod download "sigs.k8s.io/kwok@$KWOK_VERSION" >&2)
echo "$kwok_mod" >"$cache/kwok-module"

# The cached binary's name carries a hash of the dispatcher, so that a change
# to which commands it serves rebuilds it (mostly from the Go build cache).
argocd_build=$ARGOCD_VERSION-$(sha256sum "$here/argocd/main.go" | cut -c1-12)
if [ ! -x "$bin/argocd-$argocd_build" ]; then
  echo "building argocd $ARGOCD_VERSION with $ARGOCD_GO (one time, ~10 min)..." >&2
  (cd "$here/argocd" && GOTOOLCHAIN=$ARGOCD_GO CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin/argocd-$argocd_build.tmp" .) >&2
  mv "$bin/argocd-$argocd_build.tmp" "$bin/argocd-$argocd_build"
fi
for c in argocd argocd-application-controller argocd-repo-server argocd-server argocd-notifications argocd-git-ask-pass; do
  ln -sf "argocd-$argocd_build" "$bin/$c"
done

# The module itself (manifests/, hack/): the build above downloaded it.
mod=$(cd "$here/argocd" && GOTOOLCHAIN=$ARGOCD_GO go list -m -f '{{.Dir}}' github.com/argoproj/argo-cd/v3)
[ -f "$mod/manifests/crds/application-crd.yaml" ] || { echo "install-e2e: argo-cd manifests not found in $mod" >&2; exit 1; }
# Module cache files are read-only and not executable; the repo server runs this one.
install -m 0755 "$mod/hack/git-verify-wrapper.sh" "$bin/git-verify-wrapper.sh"
echo "$mod" >"$cache/argocd-module"
echo "$bin"
