//go:build tools

// Package tools pins kube-apiserver and kubectl for the test cluster; hack/tools/install.sh
// builds it from here so the product's go.mod never sees k8s.io/kubernetes.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
