package redact

import "testing"

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://slack.com/api/", "https://slack.com/api/"},
		{"https://bot:xoxp-CANARY@proxy.example:8443/api/", "https://proxy.example:8443/api/"},
		{"https://argocd.example.com/?token=CANARY#frag", "https://argocd.example.com/"},
		{"https://argocd.example.com/x#CANARY", "https://argocd.example.com/x"},
		{"argocd.example.com?token=CANARY", Hidden}, // no host: where the secret starts is unknown
		{"https://%zz:CANARY@h/", Hidden},           // does not parse
		{"", Hidden},
	} {
		if got := URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
