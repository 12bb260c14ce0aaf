package notify_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/notify"
)

const (
	canaryWebhookSecret = "CANARY-hmac-secret"
	canaryHeader        = "Bearer CANARY-header-token"
)

// verify is what docs/delivery.md tells receivers to do.
func verify(secret string, r *http.Request, body []byte) bool {
	ts := r.Header.Get("X-Syncreport-Timestamp")
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(n, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(r.Header.Get("X-Syncreport-Signature")))
}

type receiver struct {
	mu       sync.Mutex
	bodies   [][]byte
	ids      []string
	verified []bool
	headers  []http.Header
	answers  []func(http.ResponseWriter) // one per request, then always
	always   func(http.ResponseWriter)   // nil: 204
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	i := len(rc.bodies)
	rc.bodies = append(rc.bodies, body)
	rc.ids = append(rc.ids, r.Header.Get("X-Syncreport-Delivery"))
	rc.verified = append(rc.verified, verify(canaryWebhookSecret, r, body))
	rc.headers = append(rc.headers, r.Header.Clone())
	answer := rc.always
	if i < len(rc.answers) {
		answer = rc.answers[i]
	}
	rc.mu.Unlock()
	if answer != nil {
		answer(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func status(code int, header ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, "answer quoting "+canaryWebhookSecret)
	}
}

// TestJSONWebhook: the body is posted as given, signed over timestamp and
// body, with the extra headers; 5xx, 429 (Retry-After honoured) and
// connection failures are retried with the same delivery ID, 4xx and
// redirects are permanent; no secret in any error or log line (issue 18).
func TestJSONWebhook(t *testing.T) {
	body := []byte(`{"verdict":"failed","app":{"name":"web"}}` + "\n")
	hdr, err := notify.ParseHeaders("# a comment\nAuthorization: " + canaryHeader + "\n\nX-Team: deploys\n")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var allErrs []string
	for _, tt := range []struct {
		name      string
		answers   []func(http.ResponseWriter)
		always    func(http.ResponseWriter)
		posts     int
		permanent bool
		failed    bool
		minWait   time.Duration
		want      string
	}{
		{name: "200", posts: 1},
		{name: "500 then 200", answers: []func(http.ResponseWriter){status(500)}, posts: 2},
		{name: "429 retry-after", answers: []func(http.ResponseWriter){status(429, "Retry-After", "1")}, posts: 2, minWait: time.Second},
		{name: "400 permanent", answers: []func(http.ResponseWriter){status(400)}, posts: 1, permanent: true, failed: true, want: "HTTP 400"},
		{name: "401 permanent", answers: []func(http.ResponseWriter){status(401)}, posts: 1, permanent: true, failed: true, want: "HTTP 401"},
		{name: "redirect refused", answers: []func(http.ResponseWriter){status(307, "Location", "https://elsewhere.example/hook/CANARY")},
			posts: 1, permanent: true, failed: true, want: "a redirect to https://elsewhere.example/REDACTED, not followed"},
		{name: "always 503", always: status(503), failed: true, want: "gave up"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc := &receiver{answers: tt.answers, always: tt.always}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			w, err := notify.NewJSONWebhook(srv.URL+"/hooks/CANARY-path-token", canaryWebhookSecret, hdr, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			start := time.Now()
			attempts, err := notify.DeliverJSONWebhook(ctx, quickRetrier(), w, body, log)
			if err != nil {
				allErrs = append(allErrs, err.Error())
			}
			if (err != nil) != tt.failed {
				t.Fatalf("err = %v, want failed %v", err, tt.failed)
			}
			var de *notify.DeliveryError
			if err != nil && (!errors.As(err, &de) || de.Permanent != tt.permanent || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("error %v: want permanent %v and %q", err, tt.permanent, tt.want)
			}
			if tt.posts != 0 && (len(rc.bodies) != tt.posts || attempts != tt.posts) {
				t.Errorf("%d posts, %d attempts; want %d", len(rc.bodies), attempts, tt.posts)
			}
			if time.Since(start) < tt.minWait {
				t.Errorf("retried after %s, before Retry-After", time.Since(start))
			}
			for i, b := range rc.bodies {
				if !bytes.Equal(b, body) {
					t.Errorf("post %d body %q, want the JSON as given", i, b)
				}
				if !rc.verified[i] {
					t.Errorf("post %d: signature does not verify", i)
				}
				if rc.ids[i] == "" || rc.ids[i] != rc.ids[0] {
					t.Errorf("delivery IDs %q: want one ID on every attempt", rc.ids)
				}
				if rc.headers[i].Get("Authorization") != canaryHeader || rc.headers[i].Get("X-Team") != "deploys" {
					t.Errorf("extra headers missing: %v", rc.headers[i])
				}
			}
		})
	}
	t.Logf("errors:\n%s", strings.Join(allErrs, "\n"))
	for _, s := range append(allErrs, logs.String()) {
		if strings.Contains(s, "CANARY") {
			t.Errorf("a secret shows: %s", s)
		}
	}
}

// TestJSONWebhookSignature: a tampered body, another secret or another
// timestamp does not verify.
func TestJSONWebhookSignature(t *testing.T) {
	sig := notify.Sign([]byte("k"), "1700000000", []byte("{}"))
	mac := hmac.New(sha256.New, []byte("k"))
	mac.Write([]byte("1700000000.{}"))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); sig != want {
		t.Fatalf("Sign = %s, want %s", sig, want)
	}
	for _, other := range []string{
		notify.Sign([]byte("k"), "1700000000", []byte("{ }")),
		notify.Sign([]byte("k2"), "1700000000", []byte("{}")),
		notify.Sign([]byte("k"), "1700000001", []byte("{}")),
	} {
		if other == sig {
			t.Errorf("signature unchanged")
		}
	}
}

func TestParseHeaders(t *testing.T) {
	for _, tt := range []struct{ in, err string }{
		{"Authorization: Bearer x", ""},
		{"no colon here", "line 1"},
		{"\nBad Name: x", "line 2"},
		{"X-Syncreport-Signature: forged", "set by the hook"},
		{"content-type: text/plain", "set by the hook"},
		{"X-A: a\x00b", "control character"},
	} {
		_, err := notify.ParseHeaders(tt.in)
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%q: %v, want %q", tt.in, err, tt.err)
		}
		if err != nil && strings.Contains(err.Error(), "Bearer") {
			t.Errorf("error quotes the value: %v", err)
		}
	}
}

func TestNewJSONWebhookRefusesPlainHTTP(t *testing.T) {
	if _, err := notify.NewJSONWebhook("http://hooks.example.com/x", "s", nil, nil); err == nil || strings.Contains(err.Error(), "/x") {
		t.Errorf("plain http to a remote host: %v", err)
	}
	if _, err := notify.NewJSONWebhook("https://hooks.example.com/x", "", nil, nil); err == nil {
		t.Error("no secret accepted")
	}
}
