package faults_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/syncreport/syncreport/internal/argocd"
)

// kubeFault scripts the Kubernetes API as the hook sees it through the proxy.
type kubeFault struct {
	// downFor: nothing listens on the API address for this long after the
	// hook starts (connection refused), then the proxy opens.
	downFor time.Duration
	// down: nothing ever listens.
	down bool
	// answers are the statuses of successive GETs of the Application; 0
	// forwards the request to the real apiserver.
	answers []int
	// always answers every GET after answers run out; 0 forwards.
	always int
	// retryAfter, in seconds, is sent with injected answers.
	retryAfter int
	// deleteApp deletes the Application (for real) before the first GET is
	// answered: it disappears while the hook runs.
	deleteApp bool
}

// apiProxy stands between the hook and the apiserver. It forwards the
// hook's own credentials, so RBAC is the real apiserver's.
type apiProxy struct {
	addr string // host:port the hook's kubeconfig points at

	mu   sync.Mutex
	gets int // GETs of the Application, answered or not
}

func (p *apiProxy) appGets() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gets
}

// startProxy returns a proxy for GETs of Application app, opened per f.
// The clock of downFor starts now: call it right before running the hook.
func startProxy(t testing.TB, f kubeFault, app string) *apiProxy {
	t.Helper()
	target, err := url.Parse(cluster.Config.Host)
	must(t, err)
	// Server verification only: the client's bearer token passes through.
	tr, err := rest.TransportFor(&rest.Config{Host: cluster.Config.Host,
		TLSClientConfig: rest.TLSClientConfig{CAData: cluster.Config.CAData}})
	must(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = tr
	rp.ErrorLog = log.New(io.Discard, "", 0)

	p := &apiProxy{}
	appPath := fmt.Sprintf("/apis/%s/%s/namespaces/%s/%s/%s", argocd.ApplicationsGVR.Group,
		argocd.ApplicationsGVR.Version, appNS, argocd.ApplicationsGVR.Resource, app)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == appPath {
			p.mu.Lock()
			p.gets++
			n := p.gets
			p.mu.Unlock()
			status := f.always
			if n <= len(f.answers) {
				status = f.answers[n-1]
			}
			if n == 1 && f.deleteApp {
				err := cluster.Dynamic.Resource(argocd.ApplicationsGVR).Namespace(appNS).Delete(r.Context(), app, metav1.DeleteOptions{})
				if err != nil {
					t.Errorf("delete application mid-run: %v", err)
				}
			}
			if status != 0 {
				writeStatus(w, status, f.retryAfter)
				return
			}
		}
		rp.ServeHTTP(w, r)
	})

	// TLS: clientcmd sends a kubeconfig's token only over https.
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(srv.Close)
	p.addr = srv.Listener.Addr().String()
	if !f.down && f.downFor == 0 {
		srv.StartTLS()
		return p
	}
	// Connection refused until the port is opened again, if ever.
	_ = srv.Listener.Close()
	if f.down {
		return p
	}
	var opened sync.WaitGroup
	opened.Add(1)
	t.Cleanup(opened.Wait)
	timer := time.AfterFunc(f.downFor, func() {
		defer opened.Done()
		l, err := net.Listen("tcp", p.addr)
		if err != nil {
			t.Errorf("reopen the API address: %v", err)
			return
		}
		srv.Listener = l
		srv.StartTLS()
	})
	t.Cleanup(func() {
		if timer.Stop() {
			opened.Done()
		}
	})
	return p
}

// proxyCA is the PEM of the certificate every httptest TLS server uses.
var proxyCA = func() []byte {
	s := httptest.NewTLSServer(http.NotFoundHandler())
	defer s.Close()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}()

// writeStatus answers as the apiserver does: a metav1.Status with the
// reason client-go maps to its error helpers.
func writeStatus(w http.ResponseWriter, code, retryAfter int) {
	reason := map[int]metav1.StatusReason{
		http.StatusTooManyRequests:     metav1.StatusReasonTooManyRequests,
		http.StatusInternalServerError: metav1.StatusReasonInternalError,
		http.StatusServiceUnavailable:  metav1.StatusReasonServiceUnavailable,
		http.StatusGatewayTimeout:      metav1.StatusReasonTimeout,
	}[code]
	st := metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  fmt.Sprintf("injected by the fault proxy (HTTP %d)", code),
		Reason:   reason,
		Code:     int32(code),
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(retryAfter))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(st)
}

// kubeconfig writes a kubeconfig for the proxy at addr with ServiceAccount
// sa's token.
func kubeconfig(t testing.TB, addr, sa string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["faults"] = &clientcmdapi.Cluster{Server: "https://" + addr, CertificateAuthorityData: proxyCA}
	cfg.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: tokens[sa]}
	cfg.Contexts["faults"] = &clientcmdapi.Context{Cluster: "faults", AuthInfo: sa}
	cfg.CurrentContext = "faults"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	must(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

// createApp creates Application name from a report fixture.
func createApp(t testing.TB, name string) {
	createAppFrom(t, name, "syncfail-degraded.yaml")
}

// createAppFrom creates Application name from the report fixture file.
func createAppFrom(t testing.TB, name, file string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "report", "testdata", "apps", file))
	must(t, err)
	u, err := decodeObject(b)
	must(t, err)
	u.SetName(name)
	u.SetNamespace(appNS)
	_, err = cluster.Dynamic.Resource(argocd.ApplicationsGVR).Namespace(appNS).Create(context.Background(), u, metav1.CreateOptions{})
	must(t, err)
}

func decodeObject(b []byte) (*unstructured.Unstructured, error) {
	var obj map[string]any
	if err := yaml.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: obj}, nil
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
