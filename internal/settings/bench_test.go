package settings

import "testing"

// BenchmarkResolveWorstCase: a central ConfigMap with many valid keys and
// two unrelated mistakes, so that every single key and every pair of keys
// is tried before the two are found (the most a hook run spends here).
func BenchmarkResolveWorstCase(b *testing.B) {
	data := map[string]string{"SMTP_HOST": "mail.example.com", "SLACK_CHANNEL_FAILED": "#incidents"}
	for _, v := range []struct{ k, v string }{
		{"NOTIFY_ON", "failed"}, {"RETRY_NOTIFY", "all"}, {"ARGOCD_URL", "https://argocd.example.com"},
		{"HOOK_TIMEOUT", "90s"}, {"GATE_TIMEOUT", "5m"}, {"GATE_RESTARTS", "3"}, {"LOG_LEVEL", "debug"},
		{"HOOK_MAX_REQUESTS", "30"}, {"SLACK_ATTEMPT_TIMEOUT", "5s"}, {"GATE_IMAGE_PULL_GRACE", "1m"},
		{"GATE_CONFIG_ERROR_GRACE", "1m"}, {"GATE_UNSCHEDULABLE_GRACE", "3m"}, {"STDOUT_FORMAT", "json"},
		{"SLACK_API_URL", "https://slack.com/api/"}, {"HOOK_DIAGNOSE", "true"}, {"EMAIL_RECIPIENTS", "true"},
	} {
		data[v.k] = v.v
	}
	c := Central{ConfigMap: cm(data), Secret: secret(map[string]string{"SLACK_TOKEN": "xoxb-x"})}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Resolve(envOf(nil), c, nil)
		if err != nil || len(res.Problems) != 2 {
			b.Fatal(err, res.Problems)
		}
	}
}
