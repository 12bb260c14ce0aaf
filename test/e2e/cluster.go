//go:build linux

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// InClusterServer is how Argo CD names its own cluster as a destination.
const InClusterServer = "https://kubernetes.default.svc"

// Cluster is one Kubernetes cluster of the stack: a kube-apiserver on the
// stack's etcd (under a key prefix of its own), kube-controller-manager,
// kube-scheduler, kwok with one fake node, and a HookRunner that plays the
// kubelet for its hook pods.
type Cluster struct {
	// Name tells the clusters' processes and logs apart: "" for Argo CD's
	// own cluster, "2" for the remote destination cluster.
	Name string
	// Server is what an Application's destination.server says to deploy here.
	Server string

	Config     *rest.Config // cluster-admin
	Client     kubernetes.Interface
	Dynamic    dynamic.Interface
	Mapper     meta.ResettableRESTMapper
	Kubeconfig string
	Hooks      *HookRunner

	clusterPorts
	etcdPrefix string
	saKeyFile  string // its own ServiceAccount signing key
}

// clusterPorts are the ports of a cluster's processes; the two clusters
// share the network namespace.
type clusterPorts struct {
	apiserverPort, kcmPort, schedulerPort, kwokPort int
}

var (
	argoClusterPorts   = clusterPorts{apiserverPort: 6443, kcmPort: 10257, schedulerPort: 10259, kwokPort: 10247}
	remoteClusterPorts = clusterPorts{apiserverPort: 6444, kcmPort: 10267, schedulerPort: 10269, kwokPort: 10248}
)

// proc is the name of the cluster's process of that name ("kube-apiserver-2").
func (c *Cluster) proc(name string) string {
	if c.Name == "" {
		return name
	}
	return name + "-" + c.Name
}

// file is a per-cluster name in the stack's directory.
func (c *Cluster) file(dir, name string) string {
	if c.Name != "" {
		ext := filepath.Ext(name)
		name = name[:len(name)-len(ext)] + "-" + c.Name + ext
	}
	return filepath.Join(dir, name)
}

func (s *Stack) startAPIServer(ctx context.Context, c *Cluster) error {
	p, err := s.startProc(c.proc("kube-apiserver"), s.bin("kube-apiserver"), []string{
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(etcdPort),
		"--etcd-prefix=" + c.etcdPrefix,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(c.apiserverPort),
		"--cert-dir=" + c.file(s.Dir, "apiserver-certs"),
		// Both clusters serve the one certificate (127.0.0.1) of the stack's CA.
		"--tls-cert-file=" + s.pki.ServerCert, "--tls-private-key-file=" + s.pki.SKey,
		"--client-ca-file=" + s.pki.CAFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=" + InClusterServer,
		"--service-account-key-file=" + c.saKeyFile,
		"--service-account-signing-key-file=" + c.saKeyFile,
		"--service-cluster-ip-range=10.0.0.0/24",
		// Endpoints may not hold a loopback address.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}, nil)
	if err != nil {
		return err
	}
	c.Config = &rest.Config{
		Host:            "https://127.0.0.1:" + strconv.Itoa(c.apiserverPort),
		TLSClientConfig: rest.TLSClientConfig{CAData: s.pki.CA, CertData: s.pki.AdminCert, KeyData: s.pki.AdminKey},
		QPS:             200, Burst: 400,
	}
	hc, err := rest.HTTPClientFor(c.Config)
	if err != nil {
		return err
	}
	if err := p.WaitReady(ctx, func(ctx context.Context) error { return getOK(ctx, hc, c.Config.Host+"/readyz") }); err != nil {
		return err
	}
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return err
	}
	if c.Dynamic, err = dynamic.NewForConfig(c.Config); err != nil {
		return err
	}
	c.Mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.Client.Discovery()))
	c.Kubeconfig = c.file(s.Dir, "admin.kubeconfig")
	return writeKubeconfig(c.Kubeconfig, c.Config, "admin")
}

// startNodeAgents starts what needs only the cluster's apiserver:
// kube-controller-manager, kube-scheduler and kwok.
func (s *Stack) startNodeAgents(c *Cluster) error {
	kc := c.Kubeconfig
	if _, err := s.startProc(c.proc("kube-controller-manager"), s.bin("kube-controller-manager"), []string{
		"--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(c.kcmPort),
		"--service-account-private-key-file=" + c.saKeyFile, "--root-ca-file=" + s.pki.CAFile,
		"--use-service-account-credentials=false",
		// Not needed, and each costs CPU on a shared machine.
		"--controllers=*,-horizontal-pod-autoscaler-controller,-disruption-controller,-cronjob-controller",
	}, nil); err != nil {
		return err
	}
	if _, err := s.startProc(c.proc("kube-scheduler"), s.bin("kube-scheduler"), []string{
		"--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(c.schedulerPort),
	}, nil); err != nil {
		return err
	}
	stagesFile := filepath.Join(s.Dir, "kwok-stages.yaml")
	if _, err := os.Stat(stagesFile); os.IsNotExist(err) {
		stages, err := kwokStages(s.Tools.KwokModule)
		if err != nil {
			return err
		}
		if err := os.WriteFile(stagesFile, stages, 0o644); err != nil {
			return err
		}
	}
	_, err := s.startProc(c.proc("kwok"), s.bin("kwok"), []string{
		"--kubeconfig=" + kc, "--config=" + stagesFile,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=fake",
		// Without a lease the node controller marks the node NotReady
		// after its grace period and health flaps.
		"--node-lease-duration-seconds=40",
		"--cidr=10.244.0.1/16", "--node-ip=10.1.0.1",
		"--server-address=127.0.0.1:" + strconv.Itoa(c.kwokPort),
	}, nil)
	return err
}

// createNode registers the cluster's fake node, which its kwok manages.
func (c *Cluster) createNode(ctx context.Context) error {
	rl := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods: resource.MustParse("110"),
	}
	_, err := c.Client.CoreV1().Nodes().Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{kwokNodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{"kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux",
				"kubernetes.io/arch": "amd64", "type": "kwok"},
		},
		Status: corev1.NodeStatus{Allocatable: rl, Capacity: rl},
	}, metav1.CreateOptions{})
	return err
}

// waitReady waits for the fake node to be Ready and the
// controller-manager to have made the default namespace's ServiceAccount.
func (c *Cluster) waitReady(ctx context.Context) error {
	return poll(ctx, 100*time.Millisecond, func() (bool, error) {
		n, err := c.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		ready := false
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if !ready {
			return false, nil
		}
		_, err = c.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
}

// TokenKubeconfig is a kubeconfig for the cluster that authenticates with
// token, as a user would hand to a program elsewhere.
func (c *Cluster) TokenKubeconfig(token string) ([]byte, error) {
	return clientcmd.Write(*kubeconfig(&rest.Config{
		Host: c.Config.Host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: c.Config.CAData},
	}, "token"))
}

// CreateDestination creates the app's destination namespace with the Slack
// token Secret, which lives outside Git.
func (c *Cluster) CreateDestination(ctx context.Context, ns string) error {
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	_, err := c.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "syncreport-slack"},
		StringData: map[string]string{"token": SlackToken},
	}, metav1.CreateOptions{})
	return err
}

// RemoteCluster returns the second cluster, a destination Argo CD deploys
// to from the outside (a cluster Secret in its namespace, as `argocd
// cluster add` makes), starting it on first use: only the scenarios of
// remote destinations pay for its processes. It lives until Stop.
func (s *Stack) RemoteCluster(ctx context.Context) (*Cluster, error) {
	s.remoteOnce.Do(func() {
		c := &Cluster{
			Name: "2", clusterPorts: remoteClusterPorts, etcdPrefix: "/registry-2",
			saKeyFile: filepath.Join(s.Dir, "pki", "sa-2.key"),
		}
		c.Server = "https://127.0.0.1:" + strconv.Itoa(c.apiserverPort)
		if s.remoteErr = s.startRemote(ctx, c); s.remoteErr == nil {
			s.remote = c
		} else {
			s.remoteErr = fmt.Errorf("remote cluster: %w", s.remoteErr)
		}
	})
	return s.remote, s.remoteErr
}

func (s *Stack) startRemote(ctx context.Context, c *Cluster) error {
	if err := writeSAKey(c.saKeyFile); err != nil {
		return err
	}
	if err := s.startAPIServer(ctx, c); err != nil {
		return err
	}
	if err := s.startNodeAgents(c); err != nil {
		return err
	}
	if err := c.createNode(ctx); err != nil {
		return err
	}
	if err := s.registerCluster(ctx, c); err != nil {
		return err
	}
	if err := c.waitReady(ctx); err != nil {
		return err
	}
	c.Hooks = startHookRunner(c, s.Dynamic, s.Tools.Hook, s.Dir)
	return nil
}

// argoManager is the identity Argo CD uses in the remote cluster; the names
// are those `argocd cluster add` uses.
const argoManager = "argocd-manager"

// registerCluster does declaratively what `argocd cluster add` does: a
// cluster-admin ServiceAccount in c's kube-system with a long-lived token
// (a Secret the token controller of c's controller-manager fills), and a
// cluster Secret in Argo CD's namespace holding c's URL, that token and the
// CA (docs/operator-manual/declarative-setup.md, "Clusters"). It returns
// once argocd-server lists the cluster.
func (s *Stack) registerCluster(ctx context.Context, c *Cluster) error {
	const ns = "kube-system"
	if _, err := c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: argoManager},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := c.Client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: argoManager + "-role-binding"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: argoManager, Namespace: ns}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := c.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: argoManager + "-token",
			Annotations: map[string]string{corev1.ServiceAccountNameKey: argoManager}},
		Type: corev1.SecretTypeServiceAccountToken,
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	var token []byte
	if err := poll(ctx, 100*time.Millisecond, func() (bool, error) {
		sec, err := c.Client.CoreV1().Secrets(ns).Get(ctx, argoManager+"-token", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		token = sec.Data[corev1.ServiceAccountTokenKey]
		return len(token) > 0, nil
	}); err != nil {
		return fmt.Errorf("token of serviceaccount %s/%s: %w", ns, argoManager, err)
	}
	config, err := json.Marshal(map[string]any{
		"bearerToken":     string(token),
		"tlsClientConfig": map[string]any{"insecure": false, "caData": base64.StdEncoding.EncodeToString(s.pki.CA)},
	})
	if err != nil {
		return err
	}
	if _, err := s.Client.CoreV1().Secrets(ArgoNamespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:   "cluster-" + c.Name,
			Labels: map[string]string{"argocd.argoproj.io/secret-type": "cluster"},
		},
		StringData: map[string]string{"name": "cluster-" + c.Name, "server": c.Server, "config": string(config)},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	return s.waitArgoCluster(ctx, c.Server)
}

// waitArgoCluster waits until argocd-server lists the cluster server (its
// informer has read the Secret): an Application created before that may
// be judged to name an unknown cluster.
func (s *Stack) waitArgoCluster(ctx context.Context, server string) error {
	hc, err := s.ArgoHTTPClient()
	if err != nil {
		return err
	}
	return poll(ctx, 200*time.Millisecond, func() (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+ArgoServer+"/api/v1/clusters", nil)
		if err != nil {
			return false, err
		}
		req.Header.Set("Authorization", "Bearer "+s.ArgoToken)
		resp, err := hc.Do(req)
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		type cluster struct {
			Server string `json:"server"`
		}
		var list struct {
			Items []cluster `json:"items"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&list) != nil {
			return false, nil
		}
		return slices.ContainsFunc(list.Items, func(c cluster) bool { return c.Server == server }), nil
	})
}
