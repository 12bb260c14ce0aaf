#!/usr/bin/env bash
# Finds or builds the test cluster's binaries and prints the directory that
# holds them (etcd, kube-apiserver, kubectl, helm; argocd-crds next to it).
#
# Binaries already on the machine are used first, so that a fresh machine with
# internet need not spend ~17 min (2 cores) building kube-apiserver:
#   1. KUBEBUILDER_ASSETS: a directory with etcd, kube-apiserver and kubectl,
#      as `setup-envtest use -p path` prints it (seconds to download);
#   2. else etcd and kube-apiserver on PATH;
#   3. else they are built from the Go module proxy and cached by version:
#      etcd 3.5 and kube-apiserver, kubectl (k8s.io/kubernetes with each staging
#      module at its published v0.X.Y).
# etcd must be 3.5 or newer: with Debian's 3.4 kube-apiserver turns off
# RequestWatchProgress, which client-go watches need. A KUBEBUILDER_ASSETS
# that fails this check is an error; binaries on PATH that fail it are skipped.
# helm (chart lint/template tests) is always the pinned one, built once.
# The Argo CD module is only downloaded: tests read its CRDs from the module
# cache (SYNCREPORT_ARGOCD_CRDS names another manifests/crds directory).
#
# Flags:
#   --cluster  only what a test cluster needs (etcd, kube-apiserver, the CRDs):
#              no kubectl, no helm (make demo)
#   --build    ignore KUBEBUILDER_ASSETS and PATH: build the pinned versions
#              (test/e2e runs kube-controller-manager and kube-scheduler of the
#              same version next to them)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SYNCREPORT_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/syncreport/tools}
cluster_only=no
force_build=no
for arg in "$@"; do
  case $arg in
    --cluster) cluster_only=yes ;;
    --build) force_build=yes ;;
    *) echo "install.sh: unknown flag $arg (want --cluster or --build)" >&2; exit 2 ;;
  esac
done
built=$cache/bin
mkdir -p "$built"
# One build at a time: make, test binaries and helpers may all call this.
# When everything is already built, answer without waiting for the lock
# (a long unrelated build may hold it).
locked=no
lock() { [ $locked = yes ] && return; exec 9>"$cache/.install.lock"; flock 9; locked=yes; }

modver() { (cd "$here/$1" && go list -m -f '{{.Version}}' "$2"); }
ETCD_VERSION=$(modver etcd go.etcd.io/etcd/server/v3)
KUBE_VERSION=$(modver kube k8s.io/kubernetes)
HELM_VERSION=v3.21.4
ARGOCD_VERSION=v3.6.1
crds=${SYNCREPORT_ARGOCD_CRDS:-$(go env GOMODCACHE)/github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION/manifests/crds}

# etcd_ok PATH: etcd 3.5 or newer. kube_version PATH: "v1.X.Y" or nothing.
etcd_version() { "$1" --version 2>/dev/null | sed -n 's/^etcd Version: *\([0-9][0-9.]*\).*/\1/p' | head -n1; }
etcd_ok() {
  local v major minor
  v=$(etcd_version "$1")
  [ -n "$v" ] || return 1
  major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  [ "$major" -gt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -ge 5 ]; }
}
kube_version() { "$1" --version 2>/dev/null | sed -n 's/^Kubernetes \(v[0-9][0-9.a-z+-]*\).*/\1/p' | head -n1; }

# Where etcd and kube-apiserver come from: a directory of the user's, or none.
etcd_src= apiserver_src= kubectl_src= from=
if [ $force_build = no ] && [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  from="KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
  etcd_src=$KUBEBUILDER_ASSETS/etcd apiserver_src=$KUBEBUILDER_ASSETS/kube-apiserver
  for f in "$etcd_src" "$apiserver_src"; do
    [ -x "$f" ] || { echo "install.sh: $from: no executable $(basename "$f") there (unset KUBEBUILDER_ASSETS to build one)" >&2; exit 1; }
  done
  etcd_ok "$etcd_src" || { echo "install.sh: $from: etcd $(etcd_version "$etcd_src") is too old, need 3.5 or newer (unset KUBEBUILDER_ASSETS to build one)" >&2; exit 1; }
  [ -n "$(kube_version "$apiserver_src")" ] || { echo "install.sh: $from: kube-apiserver --version printed no version (unset KUBEBUILDER_ASSETS to build one)" >&2; exit 1; }
  [ -x "$KUBEBUILDER_ASSETS/kubectl" ] && kubectl_src=$KUBEBUILDER_ASSETS/kubectl
elif [ $force_build = no ] && e=$(command -v etcd) && a=$(command -v kube-apiserver); then
  if ! etcd_ok "$e"; then
    echo "install.sh: not using $e: etcd $(etcd_version "$e") is older than 3.5; building one" >&2
  elif [ -z "$(kube_version "$a")" ]; then
    echo "install.sh: not using $a: --version printed no version; building one" >&2
  else
    from=PATH etcd_src=$e apiserver_src=$a
    kubectl_src=$(command -v kubectl || true)
  fi
fi

if [ -n "$from" ]; then
  # The user's binaries, linked into a directory of their own so that the
  # built ones in $built (test/e2e's) stay as they are.
  bin=$cache/external/bin
  v=$(kube_version "$apiserver_src")
  case $v in
    "$KUBE_VERSION") ;;
    # go build without the release ldflags (hack/tools' own build) says v0.0.0-master.
    v0.0.0*) echo "install.sh: using kube-apiserver from $from: it has no version stamp (the tests are proven on $KUBE_VERSION)" >&2 ;;
    *) echo "install.sh: using kube-apiserver $v from $from (the tests are proven on $KUBE_VERSION)" >&2 ;;
  esac
else
  bin=$built
fi
mkdir -p "$bin"

# link NAME TARGET: $bin/NAME -> TARGET, rewritten only when it changes, so
# that concurrent callers never see it missing.
link() {
  [ "$(readlink "$bin/$1" 2>/dev/null)" = "$2" ] && return
  ln -sfn "$2" "$bin/$1.tmp$$" && mv -f "$bin/$1.tmp$$" "$bin/$1"
}
# builtref NAME: how $bin refers to $built/NAME (relative when they are one).
builtref() { if [ "$bin" = "$built" ]; then echo "$1"; else echo "$built/$1"; fi; }

build() { # name version dir pkg: builds $built/name-version once
  local out=$built/$1-$2
  [ -x "$out" ] && return
  lock
  [ -x "$out" ] && return
  echo "building $1 $2 (one time)..." >&2
  (cd "$3" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out.tmp" "$4") >&2
  mv "$out.tmp" "$out"
}

if [ -n "$from" ]; then
  link etcd "$etcd_src"
  link kube-apiserver "$apiserver_src"
else
  build etcd "$ETCD_VERSION" "$here/etcd" .
  build kube-apiserver "$KUBE_VERSION" "$here/kube" k8s.io/kubernetes/cmd/kube-apiserver
  link etcd "etcd-$ETCD_VERSION"
  link kube-apiserver "kube-apiserver-$KUBE_VERSION"
fi
if [ $cluster_only = no ]; then
  if [ -n "$kubectl_src" ]; then
    link kubectl "$kubectl_src"
  else
    build kubectl "$KUBE_VERSION" "$here/kube" k8s.io/kubernetes/cmd/kubectl
    link kubectl "$(builtref "kubectl-$KUBE_VERSION")"
  fi
  if [ ! -x "$built/helm-$HELM_VERSION" ]; then
    lock
    if [ ! -x "$built/helm-$HELM_VERSION" ]; then
      echo "building helm $HELM_VERSION (one time)..." >&2
      rm -rf "$built.tmp"
      GOBIN=$built.tmp CGO_ENABLED=0 go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
      mv "$built.tmp/helm" "$built/helm-$HELM_VERSION" && rmdir "$built.tmp"
    fi
  fi
  link helm "$(builtref "helm-$HELM_VERSION")"
fi

# Argo CD's go.mod may want a newer Go than ours: `go mod download` then
# unpacks the module but reports an error, so look for the files themselves.
if [ ! -f "$crds/application-crd.yaml" ] && [ -z "${SYNCREPORT_ARGOCD_CRDS:-}" ]; then
  lock
  (cd /tmp && GOFLAGS=-mod=mod go mod download "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION" >&2) || true
fi
[ -f "$crds/application-crd.yaml" ] || { echo "install.sh: argo-cd $ARGOCD_VERSION CRDs not found at $crds" >&2; exit 1; }
if [ "$(cat "$(dirname "$bin")/argocd-crds" 2>/dev/null)" != "$crds" ]; then
  echo "$crds" > "$(dirname "$bin")/argocd-crds.tmp$$" && mv "$(dirname "$bin")/argocd-crds.tmp$$" "$(dirname "$bin")/argocd-crds"
fi
echo "$bin"
