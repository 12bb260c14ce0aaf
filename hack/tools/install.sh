#!/usr/bin/env bash
# Builds the test cluster's binaries from the Go module proxy and caches them by
# version, so a fresh machine needs nothing but Go. Prints the bin directory.
#   etcd 3.5 (Debian's 3.4 makes kube-apiserver turn off RequestWatchProgress)
#   kube-apiserver and kubectl (k8s.io/kubernetes with each staging module at its published v0.X.Y)
#   helm (chart lint/template tests)
# The Argo CD module is only downloaded: tests read its CRDs from the module cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SYNCREPORT_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/syncreport/tools}
bin=$cache/bin
mkdir -p "$bin"
# One build at a time: make, test binaries and helpers may all call this.
# When everything is already built, answer without waiting for the lock
# (a long unrelated build may hold it).
lock() { exec 9>"$cache/.install.lock"; flock 9; }

modver() { (cd "$here/$1" && go list -m -f '{{.Version}}' "$2"); }
ETCD_VERSION=$(modver etcd go.etcd.io/etcd/server/v3)
KUBE_VERSION=$(modver kube k8s.io/kubernetes)
HELM_VERSION=v3.21.4
ARGOCD_VERSION=v3.6.1

ready=yes
for t in etcd-$ETCD_VERSION kube-apiserver-$KUBE_VERSION kubectl-$KUBE_VERSION helm-$HELM_VERSION; do
  [ -x "$bin/$t" ] || ready=no
done
[ "$(cat "$cache/argocd-crds" 2>/dev/null)" = "$(go env GOMODCACHE)/github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION/manifests/crds" ] || ready=no
if [ $ready = no ]; then
  lock
fi

build() { # name version dir pkg
  local out=$bin/$1-$2
  if [ ! -x "$out" ]; then
    echo "building $1 $2 (one time)..." >&2
    (cd "$3" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out.tmp" "$4") >&2
    mv "$out.tmp" "$out"
  fi
  ln -sf "$1-$2" "$bin/$1"
}

build etcd "$ETCD_VERSION" "$here/etcd" .
build kube-apiserver "$KUBE_VERSION" "$here/kube" k8s.io/kubernetes/cmd/kube-apiserver
build kubectl "$KUBE_VERSION" "$here/kube" k8s.io/kubernetes/cmd/kubectl
if [ ! -x "$bin/helm-$HELM_VERSION" ]; then
  echo "building helm $HELM_VERSION (one time)..." >&2
  GOBIN=$bin.tmp CGO_ENABLED=0 go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv "$bin.tmp/helm" "$bin/helm-$HELM_VERSION" && rmdir "$bin.tmp"
fi
ln -sf "helm-$HELM_VERSION" "$bin/helm"

# Argo CD's go.mod may want a newer Go than ours: `go mod download` then
# unpacks the module but reports an error, so look for the files themselves.
crds=$(go env GOMODCACHE)/github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION/manifests/crds
if [ ! -f "$crds/application-crd.yaml" ]; then
  (cd /tmp && GOFLAGS=-mod=mod go mod download "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION" >&2) || true
fi
[ -f "$crds/application-crd.yaml" ] || { echo "argo-cd $ARGOCD_VERSION CRDs not found at $crds" >&2; exit 1; }
echo "$crds" > "$cache/argocd-crds"
echo "$bin"
