//go:build linux

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Fixed ports: the stack has a network namespace of its own.
const (
	etcdPort           = 2379
	etcdPeerPort       = 2380
	redisPort          = 6379
	repoServerPort     = 8081
	argoServerPort     = 8080
	controllerMetrics  = 8082
	argoServerMetrics  = 8083
	repoServerMetrics  = 8084
	ArgoNamespace      = "argocd"
	ArgoURL            = "https://argocd.e2e.test"
	AdminPassword      = "e2e-admin-password"
	AppNamespacesGlob  = "apps-*"
	kwokNodeAnnotation = "kwok.x-k8s.io/node"
)

// ArgoServer is argocd-server's address for clients (the CLI, the hook's
// ARGOCD_SERVER): TLS with a certificate of the stack's CA.
var ArgoServer = "127.0.0.1:" + strconv.Itoa(argoServerPort)

// Stack is etcd, a Kubernetes cluster (kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok with one fake node, the hook
// runner), redis, Argo CD's repo server, application controller and API
// server, git daemon and a Slack server, all in the test binary's private
// network namespace; on demand a second cluster, a remote destination
// (RemoteCluster).
type Stack struct {
	Dir   string
	Tools *Tools

	// Cluster is Argo CD's own cluster, which holds the Applications and is
	// their in-cluster destination.
	*Cluster

	Slack *Slack
	Git   *Git
	// ArgoToken is an Argo CD session token of the admin user.
	ArgoToken string
	// CAFile is the stack's CA (PEM): it signed the serving certificates of
	// kube-apiserver and argocd-server.
	CAFile string

	// Timings are the start's steps, for the record.
	Timings []Timing

	pki *pki

	mu    sync.Mutex // procs: the remote cluster starts while tests run
	procs []*Process

	remoteOnce sync.Once
	remote     *Cluster
	remoteErr  error

	appSetOnce sync.Once // StartApplicationSets
	appSetErr  error

	once sync.Once

	acnOnce sync.Once // Argo CD Notifications, started by Notifications
	acnErr  error
}

// Timing is how long one step of Start took.
type Timing struct {
	Step string
	Took time.Duration
}

// Slack member IDs the Slack server knows.
var SlackUsers = map[string]string{"alice@example.com": "U0ALICE", "carol@example.com": "U0CAROL"}

// Start starts the stack in dir. It must run in a private network
// namespace (fixed ports, and the controller's metrics port on 0.0.0.0).
func Start(ctx context.Context, dir string, t *Tools) (*Stack, error) {
	if !InPrivateNetns() {
		return nil, fmt.Errorf("the e2e stack runs only in a private network namespace (see ReexecInPrivateNetns)")
	}
	s := &Stack{Dir: dir, Tools: t, Cluster: &Cluster{Server: InClusterServer, clusterPorts: argoClusterPorts, etcdPrefix: "/registry"}}
	for _, d := range []string{"home", "tmp", "redis", "static"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := s.start(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Stack) step(name string, f func() error) error {
	t0 := time.Now()
	err := f()
	s.Timings = append(s.Timings, Timing{name, time.Since(t0)})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (s *Stack) bin(name string) string { return filepath.Join(s.Tools.Bin, name) }

func (s *Stack) startProc(name, bin string, args, env []string) (*Process, error) {
	p, err := StartProcess(s.Dir, name, bin, args, env)
	if err != nil {
		return nil, err
	}
	s.addProc(p)
	return p, nil
}

func (s *Stack) addProc(p *Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs = append(s.procs, p)
}

func (s *Stack) start(ctx context.Context) error {
	t0 := time.Now()
	defer func() { s.Timings = append(s.Timings, Timing{"total", time.Since(t0)}) }()
	var err error
	if err := s.step("pki", func() error {
		s.pki, err = newPKI(s.Dir)
		if err == nil {
			s.CAFile, s.saKeyFile = s.pki.CAFile, s.pki.SAKeyFile
		}
		return err
	}); err != nil {
		return err
	}
	if err := s.step("etcd", s.startEtcd(ctx)); err != nil {
		return err
	}
	if err := s.step("kube-apiserver", func() error { return s.startAPIServer(ctx, s.Cluster) }); err != nil {
		return err
	}
	// What depends only on the apiserver starts together.
	if err := s.step("controllers, kwok, redis, git", func() error {
		if err := s.startNodeAgents(s.Cluster); err != nil {
			return err
		}
		redis, err := s.startProc("redis", "redis-server", []string{
			"--port", strconv.Itoa(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", filepath.Join(s.Dir, "redis"),
		}, nil)
		if err != nil {
			return err
		}
		if s.Git, err = startGit(ctx, s.Dir); err != nil {
			return err
		}
		s.addProc(s.Git.daemon)
		s.Slack = NewSlack(SlackUsers)
		return redis.WaitReady(ctx, func(ctx context.Context) error { return dialOK(ctx, redisPort) })
	}); err != nil {
		return err
	}
	if err := s.step("argo cd resources and node", func() error { return s.installArgoResources(ctx) }); err != nil {
		return err
	}
	if err := s.step("argo cd", func() error { return s.startArgo(ctx) }); err != nil {
		return err
	}
	if err := s.step("node ready, default serviceaccount", func() error { return s.waitReady(ctx) }); err != nil {
		return err
	}
	s.Hooks = startHookRunner(s.Cluster, s.Dynamic, s.Tools.Hook, s.Dir)
	return nil
}

func (s *Stack) startEtcd(ctx context.Context) func() error {
	return func() error {
		client := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
		peer := "http://127.0.0.1:" + strconv.Itoa(etcdPeerPort)
		p, err := s.startProc("etcd", s.bin("etcd"), []string{
			"--name=e2e", "--data-dir=" + filepath.Join(s.Dir, "etcd"),
			"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
			"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
			"--initial-cluster=e2e=" + peer,
			// The data is thrown away; fsync would dominate every write.
			"--unsafe-no-fsync", "--log-level=warn",
		}, nil)
		if err != nil {
			return err
		}
		return p.WaitReady(ctx, func(ctx context.Context) error { return getOK(ctx, http.DefaultClient, client+"/health") })
	}
}

// installArgoResources applies Argo CD's CRDs and base config from its
// module (never copied into this repository), the admin password, the
// default AppProject, and the fake node.
func (s *Stack) installArgoResources(ctx context.Context) error {
	if _, err := s.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ArgoNamespace}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	crds := filepath.Join(s.Tools.ArgoModule, "manifests", "crds")
	for _, f := range []string{"application-crd.yaml", "appproject-crd.yaml"} {
		b, err := os.ReadFile(filepath.Join(crds, f))
		if err != nil {
			return err
		}
		if err := Apply(ctx, s.Dynamic, s.Mapper, "", b); err != nil {
			return err
		}
	}
	// Argo CD's settings informers only see objects labelled as its own, so
	// the test's settings go into the base objects rather than beside them.
	hash, err := bcrypt.GenerateFromPassword([]byte(AdminPassword), bcrypt.MinCost)
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	settings := map[string]map[string]any{
		"argocd-cm": {"data": map[string]any{"url": ArgoURL}},
		"argocd-secret": {"stringData": map[string]any{
			"admin.password":      string(hash),
			"admin.passwordMtime": time.Now().UTC().Format(time.RFC3339),
			"server.secretkey":    base64.StdEncoding.EncodeToString(key),
			// argocd-server serves TLS with these, as in a real install
			// (without them it would make up a self-signed certificate).
			"tls.crt": string(s.pki.ArgoCert),
			"tls.key": string(s.pki.ArgoKey),
		}},
	}
	config := filepath.Join(s.Tools.ArgoModule, "manifests", "base", "config")
	ents, err := os.ReadDir(config)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Name() == "kustomization.yaml" || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(config, e.Name()))
		if err != nil {
			return err
		}
		objs, err := Decode(b)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
		for _, o := range objs {
			for field, v := range settings[o.GetName()] {
				o.Object[field] = v
			}
			if err := ApplyObject(ctx, s.Dynamic, s.Mapper, ArgoNamespace, o); err != nil {
				return err
			}
		}
	}
	if err := s.waitCRDs(ctx, "applications.argoproj.io", "appprojects.argoproj.io"); err != nil {
		return err
	}
	project := map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
		"metadata": map[string]any{"name": "default", "namespace": ArgoNamespace},
		"spec": map[string]any{
			"sourceRepos":              []any{"*"},
			"destinations":             []any{map[string]any{"namespace": "*", "server": "*"}},
			"clusterResourceWhitelist": []any{map[string]any{"group": "*", "kind": "*"}},
			// Apps in any namespace: the project must admit the namespace.
			"sourceNamespaces": []any{AppNamespacesGlob},
		},
	}
	if err := ApplyObject(ctx, s.Dynamic, s.Mapper, "", &unstructured.Unstructured{Object: project}); err != nil {
		return err
	}
	return s.createNode(ctx)
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func (s *Stack) waitCRDs(ctx context.Context, names ...string) error {
	return poll(ctx, 100*time.Millisecond, func() (bool, error) {
		for _, n := range names {
			u, err := s.Dynamic.Resource(crdGVR).Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			ok := false
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					ok = true
				}
			}
			if !ok {
				return false, nil
			}
		}
		return true, nil
	})
}

func (s *Stack) startArgo(ctx context.Context) error {
	env := []string{
		"KUBECONFIG=" + s.Kubeconfig,
		// The in-cluster destination (https://kubernetes.default.svc) is
		// KUBECONFIG's cluster.
		"ARGOCD_FAKE_IN_CLUSTER=true",
		"ARGOCD_GPG_ENABLED=false",
		// git, and git-verify-wrapper.sh which the repo server execs.
		"PATH=" + s.Tools.Bin + ":" + os.Getenv("PATH"),
	}
	redis := "--redis=127.0.0.1:" + strconv.Itoa(redisPort)
	repo, err := s.startProc("argocd-repo-server", s.bin("argocd-repo-server"), []string{
		"--disable-tls", "--client-ca-path=", redis,
		"--address=127.0.0.1", "--port=" + strconv.Itoa(repoServerPort),
		"--metrics-address=127.0.0.1", "--metrics-port=" + strconv.Itoa(repoServerMetrics),
		"--loglevel=info", "--logformat=text",
	}, env)
	if err != nil {
		return err
	}
	ctrl, err := s.startProc("argocd-application-controller", s.bin("argocd-application-controller"), []string{
		"--namespace=" + ArgoNamespace, redis,
		"--repo-server=127.0.0.1:" + strconv.Itoa(repoServerPort), "--repo-server-plaintext",
		"--application-namespaces=" + AppNamespacesGlob,
		"--metrics-port=" + strconv.Itoa(controllerMetrics),
		"--status-processors=4", "--operation-processors=4",
		"--loglevel=info", "--logformat=text",
	}, env)
	if err != nil {
		return err
	}
	server, err := s.startProc("argocd-server", s.bin("argocd-server"), []string{
		"--namespace=" + ArgoNamespace, redis,
		"--repo-server=127.0.0.1:" + strconv.Itoa(repoServerPort), "--repo-server-plaintext",
		"--application-namespaces=" + AppNamespacesGlob,
		"--address=127.0.0.1", "--port=" + strconv.Itoa(argoServerPort),
		"--metrics-port=" + strconv.Itoa(argoServerMetrics),
		"--staticassets=" + filepath.Join(s.Dir, "static"),
		"--loglevel=info", "--logformat=text",
	}, env)
	if err != nil {
		return err
	}
	if err := repo.WaitReady(ctx, func(ctx context.Context) error { return dialOK(ctx, repoServerPort) }); err != nil {
		return err
	}
	if err := ctrl.WaitReady(ctx, func(ctx context.Context) error { return dialOK(ctx, controllerMetrics) }); err != nil {
		return err
	}
	hc, err := s.ArgoHTTPClient()
	if err != nil {
		return err
	}
	base := "https://" + ArgoServer
	if err := server.WaitReady(ctx, func(ctx context.Context) error {
		return getOK(ctx, hc, base+"/healthz?full=true")
	}); err != nil {
		return err
	}
	return server.WaitReady(ctx, func(ctx context.Context) error {
		tok, err := argoSession(ctx, hc, base)
		s.ArgoToken = tok
		return err
	})
}

// ArgoHTTPClient is an HTTP client that trusts argocd-server's certificate.
func (s *Stack) ArgoHTTPClient() (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.pki.CA) {
		return nil, fmt.Errorf("the stack's CA is not PEM")
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}, nil
}

// argoSession logs in as admin through the API (what `argocd login` does).
func argoSession(ctx context.Context, hc *http.Client, base string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": "admin", "password": AdminPassword})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/session", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return "", fmt.Errorf("POST /api/v1/session: %s (%v)", resp.Status, err)
	}
	return out.Token, nil
}

// Memory is the resident memory of each process group, largest first.
func (s *Stack) Memory() (total int64, each []string) {
	type pm struct {
		name string
		rss  int64
	}
	var all []pm
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		r := p.RSS()
		total += r
		all = append(all, pm{p.Name, r})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].rss > all[j].rss })
	for _, p := range all {
		each = append(each, fmt.Sprintf("%s %dMiB", p.name, p.rss>>20))
	}
	return total, each
}

// WaitHooks waits for the hook runs in progress, in every cluster.
func (s *Stack) WaitHooks() {
	for _, c := range s.clusters() {
		c.Hooks.Wait()
	}
}

// clusters are the clusters started so far that have a hook runner.
func (s *Stack) clusters() []*Cluster {
	var out []*Cluster
	for _, c := range []*Cluster{s.Cluster, s.remote} {
		if c != nil && c.Hooks != nil {
			out = append(out, c)
		}
	}
	return out
}

// Stop stops the hook runners, kills every process by its process group
// id, in reverse start order, and removes Dir unless EnvKeep is set.
func (s *Stack) Stop() {
	s.once.Do(func() {
		for _, c := range s.clusters() {
			c.Hooks.stop()
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for i := len(s.procs) - 1; i >= 0; i-- {
			s.procs[i].Kill()
		}
		if s.Slack != nil {
			s.Slack.Close()
		}
		if os.Getenv(EnvKeep) == "" {
			_ = os.RemoveAll(s.Dir)
		}
	})
}

func getOK(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// poll calls f every interval until it returns true or an error, or ctx ends.
func poll(ctx context.Context, interval time.Duration, f func() (bool, error)) error {
	for {
		ok, err := f()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
