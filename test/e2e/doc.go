// Package e2e runs syncreport's hooks under a real Argo CD: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kwok (a fake node
// whose pods become Ready, crash-loop, fail to pull or exit 1 as labelled),
// redis, Argo CD's repo server, application controller and API server (one
// multi-call binary built by hack/tools/install-e2e.sh from the Go module
// proxy, unpatched), git daemon serving the apps' repositories and a Slack
// Web API server. Argo CD syncs Applications whose repositories hold the
// project's own manifests/hooks output; kwok runs no containers, so a
// HookRunner plays the kubelet for the hook pods: it runs the built hook
// binary with the pod's environment and ServiceAccount token and writes the
// container's exit into the pod status, from which the Job controller and
// Argo CD take it as they would in a cluster.
//
// The test binary re-executes itself in a private network namespace
// (unshare --net; root or user namespaces), where every port is fixed and
// nothing is reachable from outside. Tests run with
//
//	cd test/e2e && go test -count=1 -timeout 60m ./...
//
// It is its own Go module so that the product's go.mod never sees Argo CD,
// kwok or Kubernetes' server side; it uses test/ship from the repository
// (replace ../..) to compute a hook pod's environment.
package e2e
