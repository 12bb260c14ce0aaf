package safehttp

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestPlainHTTPAllowed(t *testing.T) {
	for in, want := range map[string]bool{
		"https://slack.com/api/":          true,
		"http://127.0.0.1:8080/api/":      true,
		"http://127.9.9.9/":               true,
		"http://[::1]:80/":                true,
		"http://localhost:1234/":          true,
		"http://slack.com/api/":           false,
		"http://10.0.0.1/":                false,
		"http://localhost.evil.example/":  false,
		"http://127.0.0.1.evil.example/":  false,
		"http://[::ffff:10.0.0.1]/":       false,
		"http://proxy.svc.cluster.local/": false,
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := PlainHTTPAllowed(u); got != want {
			t.Errorf("PlainHTTPAllowed(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestNoRedirects(t *testing.T) {
	reached := false
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer srv.Close()
	base := &http.Client{}
	resp, err := NoRedirects(base).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || reached {
		t.Errorf("status %d, redirect followed %v", resp.StatusCode, reached)
	}
	if base.CheckRedirect != nil {
		t.Error("the caller's client was changed")
	}
}
