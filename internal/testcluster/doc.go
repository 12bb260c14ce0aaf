// Package testcluster runs a real etcd and kube-apiserver for tests, so RBAC,
// PodSecurity admission, CRD schemas and status subresources behave as in a
// cluster. It is for _test.go files only; the product never imports it.
//
// There is no controller-manager, scheduler or kubelet: pods stay Pending,
// ServiceAccounts are not created for new namespaces (CreateNamespace makes
// "default"; tests create the others), garbage collection and ServiceAccount
// token secrets do not happen. Tokens come from the TokenRequest API
// (ServiceAccountToken, ConfigFor, KubeconfigFor).
//
// Binaries: Start runs etcd and kube-apiserver from EnvToolsBin, or else runs
// hack/tools/install.sh (found by walking up from the working directory),
// which builds them from the Go module proxy once (minutes) and caches them.
// When they cannot be had, Start's error wraps ErrToolsUnavailable, unless
// CI=true, where it never does: CI fails instead of skipping.
//
// Start takes a few seconds, so a test package starts one cluster in TestMain
// and its tests share it, each in a namespace of its own:
//
//	var cluster *testcluster.Cluster
//
//	func TestMain(m *testing.M) {
//		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
//		c, err := testcluster.Start(ctx)
//		cancel()
//		if errors.Is(err, testcluster.ErrToolsUnavailable) {
//			fmt.Fprintln(os.Stderr, "SKIP cluster tests:", err)
//			os.Exit(0)
//		}
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		cluster = c
//		code := m.Run()
//		c.Stop() // os.Exit skips deferred calls
//		os.Exit(code)
//	}
//
// The processes are killed with the test binary even when Stop never runs
// (Linux: Pdeathsig). Set EnvKeep to keep Dir and its logs after Stop.
package testcluster
