//go:build unix

package testcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Cluster is a running etcd and kube-apiserver, reachable only on 127.0.0.1.
// It is safe for concurrent use by parallel tests.
type Cluster struct {
	// Config authenticates as cluster-admin (a client certificate in the
	// system:masters group). Copy it with rest.CopyConfig before changing it.
	Config *rest.Config
	// Client and Dynamic are built from Config.
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Mapper resolves kinds through discovery; Apply resets it when a kind
	// is missing, so CRDs installed later are found.
	Mapper meta.ResettableRESTMapper
	// Dir holds the certificates, etcd's data, the logs (etcd.log,
	// kube-apiserver.log) and the kubeconfig files. Stop removes it.
	Dir string
	// Kubeconfig is the path of a kubeconfig file for Config, for running a
	// binary as cluster-admin.
	Kubeconfig string

	argoCRDs string
	caPEM    []byte
	etcd     *process
	api      *process
	stopOnce sync.Once
}

// ServiceAccountIssuer is the issuer of the cluster's service-account tokens.
const ServiceAccountIssuer = "https://kubernetes.default.svc"

// startAttempts bounds retries when a port picked as free was taken before
// the process bound it.
const startAttempts = 3

// Start locates (or builds, see EnvToolsBin) etcd and kube-apiserver, starts
// them on free 127.0.0.1 ports in a new temporary directory and returns once
// the apiserver's /readyz passes. The context bounds the whole start,
// including a first-time build of the binaries, which takes minutes; the
// processes outlive it until Stop. A failed start cleans up after itself and
// its error ends with the tail of the failing process's log.
func Start(ctx context.Context) (*Cluster, error) {
	t, err := findTools(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "testcluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, argoCRDs: t.argoCRDs}
	if err := c.start(ctx, t); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, t tools) error {
	keys, err := newPKI()
	if err != nil {
		return err
	}
	files, err := keys.writeFiles(c.Dir)
	if err != nil {
		return fmt.Errorf("write certificates: %w", err)
	}
	c.caPEM = keys.caCert

	var port int
	for attempt := 1; ; attempt++ {
		port, err = c.startProcesses(ctx, t, files)
		if err == nil {
			break
		}
		if attempt == startAttempts || !errors.Is(err, errPortTaken) {
			return err
		}
	}

	c.Config = &rest.Config{
		Host: "https://127.0.0.1:" + strconv.Itoa(port),
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   keys.caCert,
			CertData: keys.adminCert,
			KeyData:  keys.adminKey,
		},
		// Client-side throttling only slows tests down.
		QPS:   200,
		Burst: 400,
	}
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return err
	}
	if c.Dynamic, err = dynamic.NewForConfig(c.Config); err != nil {
		return err
	}
	c.Mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.Client.Discovery()))
	c.Kubeconfig = filepath.Join(c.Dir, "admin.kubeconfig")
	if err := writeKubeconfig(c.Kubeconfig, c.Config, "admin"); err != nil {
		return fmt.Errorf("write admin kubeconfig: %w", err)
	}
	return nil
}

// errPortTaken marks a start that failed because another process bound a
// port between freePorts and the child's listen.
var errPortTaken = errors.New("port taken")

// startProcesses starts etcd, then kube-apiserver, and waits for both. It
// returns the apiserver's port.
func (c *Cluster) startProcesses(ctx context.Context, t tools, f pkiFiles) (int, error) {
	c.api.kill()
	c.etcd.kill()
	c.api, c.etcd = nil, nil
	ports, err := freePorts(3)
	if err != nil {
		return 0, err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	etcdData := filepath.Join(c.Dir, "etcd")
	if err := os.RemoveAll(etcdData); err != nil { // a retry starts afresh
		return 0, err
	}
	c.etcd, err = startProcess(c.Dir, "etcd", t.etcd, []string{
		"--name=testcluster",
		"--data-dir=" + etcdData,
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=testcluster=" + peerURL,
		// The data is thrown away; fsync would dominate every write.
		"--unsafe-no-fsync",
		"--snapshot-count=10000",
		"--log-level=warn",
	})
	if err != nil {
		return 0, err
	}
	if err := waitFor(ctx, c.etcd, "etcd", func(ctx context.Context) error {
		return getOK(ctx, http.DefaultClient, clientURL+"/health")
	}); err != nil {
		return 0, err
	}

	apiPort := ports[2]
	c.api, err = startProcess(c.Dir, "kube-apiserver", t.apiserver, []string{
		"--etcd-servers=" + clientURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + filepath.Join(c.Dir, "apiserver-certs"),
		"--tls-cert-file=" + f.serverCert,
		"--tls-private-key-file=" + f.serverKey,
		"--client-ca-file=" + f.caCert,
		"--authorization-mode=RBAC",
		"--service-account-issuer=" + ServiceAccountIssuer,
		"--service-account-key-file=" + f.saKey,
		"--service-account-signing-key-file=" + f.saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		// PodSecurity is on by default; naming it guards against a default
		// changing under the tests that rely on it.
		"--enable-admission-plugins=PodSecurity",
		// Otherwise validation rejects privileged pods before PodSecurity
		// sees them, and a test of PodSecurity would pass for the wrong reason.
		"--allow-privileged=true",
		// Endpoints may not hold a loopback address: the reconciler of the
		// "kubernetes" service's endpoints would only log errors.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	})
	if err != nil {
		return 0, err
	}
	cfg := &rest.Config{
		Host:            "https://127.0.0.1:" + strconv.Itoa(apiPort),
		TLSClientConfig: rest.TLSClientConfig{CAFile: f.caCert},
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return 0, err
	}
	// /readyz is readable without credentials (system:public-info-viewer).
	err = waitFor(ctx, c.api, "kube-apiserver", func(ctx context.Context) error {
		return getOK(ctx, hc, cfg.Host+"/readyz")
	})
	return apiPort, err
}

// readyTimeout bounds the wait for each process even when Start's context
// has no deadline. A lone apiserver is ready in seconds; several starting on
// two busy cores take much longer.
const readyTimeout = 3 * time.Minute

// waitFor polls ready until it succeeds, the process exits or ctx ends.
func waitFor(ctx context.Context, p *process, what string, ready func(context.Context) error) error {
	const interval = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var last error
	for {
		if done, err := p.exited(); done {
			msg := fmt.Sprintf("%s exited during start (%v)\n%s", what, err, p.logTail(40))
			if strings.Contains(p.logTail(200), "address already in use") {
				return fmt.Errorf("%w: %s", errPortTaken, msg)
			}
			return errors.New(msg)
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ready(pctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w (last: %v)\n%s", what, ctx.Err(), last, p.logTail(40))
		case <-time.After(interval):
		}
	}
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

// freePorts returns n distinct ports that were free on 127.0.0.1 a moment
// ago. Holding all listeners until the end keeps them distinct.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Stop kills kube-apiserver and etcd (their whole process groups), waits for
// them and removes Dir unless EnvKeep is set. It may be called more than
// once.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		c.api.kill()
		c.etcd.kill()
		if os.Getenv(EnvKeep) == "" {
			_ = os.RemoveAll(c.Dir)
		}
	})
}

// writeKubeconfig writes a kubeconfig for cfg: server, CA data and either its
// client certificate or its bearer token.
func writeKubeconfig(path string, cfg *rest.Config, user string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["testcluster"] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
	}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
		Token:                 cfg.BearerToken,
	}
	kc.Contexts["testcluster"] = &clientcmdapi.Context{Cluster: "testcluster", AuthInfo: user}
	kc.CurrentContext = "testcluster"
	return clientcmd.WriteToFile(*kc, path)
}
