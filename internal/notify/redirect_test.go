package notify_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/syncreport/syncreport/internal/notify"
)

// TestNoRedirectsNoPlainHTTP: the Slack clients, like the Argo CD one, never
// follow a redirect (Go would keep the Authorization header on a same-host
// one, https→http included) and refuse plain http except to a loopback
// address (issue 13 item 15).
func TestNoRedirectsNoPlainHTTP(t *testing.T) {
	var reached atomic.Int32
	var auth atomic.Value
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		auth.Store(r.Header.Get("Authorization"))
		w.Write([]byte(`{"ok":true,"user":{"id":"U1"}}`))
	}))
	defer target.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path+"?session=s3cr3t", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()

	bot, err := notify.NewBot("xoxb-REDIRECT", redirector.URL+"/api/", nil)
	if err != nil {
		t.Fatal(err)
	}
	hook, err := notify.NewWebhook(redirector.URL+"/services/T0/B0/secretpath", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []notify.Notifier{bot, hook} {
		retry, err := n.Notify(t.Context(), message())
		if err == nil || retry {
			t.Errorf("%s: err %v retry %v; want a permanent error", n.Name(), err, retry)
		} else if !strings.Contains(err.Error(), "redirect") || strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "secretpath") {
			t.Errorf("%s: %v; want it to name the redirect, without its query or the webhook path", n.Name(), err)
		}
	}
	if _, err := bot.LookupUserByEmail(t.Context(), "a@example.com"); err == nil {
		t.Error("lookup through a redirect succeeded")
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times (Authorization %q)", n, auth.Load())
	}

	for _, u := range []string{"http://slack.example.com/api/", "http://10.0.0.1/api/"} {
		if _, err := notify.NewBot("xoxb-1", u, nil); err == nil || !strings.Contains(err.Error(), "plain http") {
			t.Errorf("NewBot(%s) = %v; want a plain http error", u, err)
		}
		if _, err := notify.NewWebhook(u+"services/T0/B0/x", nil); err == nil || !strings.Contains(err.Error(), "plain http") {
			t.Errorf("NewWebhook(%s) = %v; want a plain http error", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:1/api/", "http://localhost:1/api/", "http://[::1]:1/api/", "https://slack.example.com/api/"} {
		if _, err := notify.NewBot("xoxb-1", u, nil); err != nil {
			t.Errorf("NewBot(%s): %v", u, err)
		}
	}
}
