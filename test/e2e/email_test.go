package e2e_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/mailpittest"
)

// Scenario 11: a failed sync started with `--info notify=alice@example.com`
// reaches Alice by email (mailpit), the channel in Slack and a JSON webhook
// whose receiver checks the signature, all from the one SyncFail hook run
// (issue 18).
func TestFailedSyncEmailAndWebhook(t *testing.T) {
	mp := mailpittest.Start(t, mailpittest.Options{})
	const secret = "e2e-webhook-secret"
	var (
		mu    sync.Mutex
		posts []map[string]any
		bad   int
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("X-Syncreport-Timestamp")
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts + "."))
		mac.Write(body)
		sec, err := strconv.ParseInt(ts, 10, 64)
		mu.Lock()
		defer mu.Unlock()
		if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute ||
			!hmac.Equal([]byte("sha256="+hex.EncodeToString(mac.Sum(nil))), []byte(r.Header.Get("X-Syncreport-Signature"))) {
			bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var doc map[string]any
		_ = json.Unmarshal(body, &doc)
		posts = append(posts, doc)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()

	s := newScenario(t, "s10-email", "", map[string]string{
		"SMTP_HOST": mp.Host, "SMTP_PORT": strconv.Itoa(mp.Port), "SMTP_TLS": "none", "SMTP_FROM": "deploys@example.com",
		// In the ConfigMap only because this is a test: use the Secret syncreport-webhook.
		"WEBHOOK_URL": hook.URL + "/in", "WEBHOOK_SECRET": secret,
	})
	s.commit("web with a bad image", map[string]string{"web.yaml": deployment("web", "registry.e2e.test/web:does-not-exist", "bad-image", 15)})
	s.create(nil)
	t0 := s.sync("--info", "notify=alice@example.com")
	app := s.waitFinished(t0)
	wantOperation(t, app, "Failed", "Degraded")
	msgs := s.messages(1)
	wantReport(t, msgs[0], "failed", 1, "s10-email sync failed")
	if runs := s.runs(); len(runs) != 1 || runs[0].HookType != "SyncFail" {
		t.Errorf("hook runs: want one SyncFail\n%s", s.hookLogs())
	}

	mails := mp.Messages(t)
	if len(mails) != 1 || len(mails[0].To) != 1 || mails[0].To[0].Address != "alice@example.com" {
		t.Fatalf("want one email to alice@example.com, got %+v\n%s", mails, s.hookLogs())
	}
	if m := mails[0]; m.Subject == "" || m.Text == "" || m.HTML == "" {
		t.Errorf("email lacks a subject or a part: %+v", m)
	} else {
		t.Logf("email: %q", m.Subject)
	}
	mu.Lock()
	defer mu.Unlock()
	if bad != 0 || len(posts) != 1 {
		t.Fatalf("webhook: %d signed posts, %d refused; want 1 and 0\n%s", len(posts), bad, s.hookLogs())
	}
	if posts[0]["verdict"] != "failed" {
		t.Errorf("webhook report verdict %v, want failed", posts[0]["verdict"])
	}
	s.logShapes()
}
