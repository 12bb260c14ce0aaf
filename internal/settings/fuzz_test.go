package settings

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzResolve holds two promises for any outside input. Whatever the
// central ConfigMap and Secret hold, Resolve never fails (a shared mistake
// never fails a sync) and never panics; whatever a channel annotation
// holds, a channel it accepts can form no mention, link or second line.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"#deploys", "<!channel>", "failure", "2m", "true", "#a\nb", "\xff", "https://x/", "C0123ABCD", "", " ", "#"} {
		f.Add("NOTIFY_ON", s, "SLACK_TOKEN", s, s)
		f.Add("SLACK_CHANNEL", s, "SLACK_WEBHOOK_URL", s, s)
	}
	f.Fuzz(func(t *testing.T, cmKey, cmValue, secretKey, secretValue, channel string) {
		c := Central{ConfigMap: cm(map[string]string{cmKey: cmValue, "SLACK_CHANNEL_FAILED": cmValue}), Secret: secret(map[string]string{secretKey: secretValue})}
		res, err := Resolve(envOf(nil), c, nil)
		if err != nil {
			t.Fatalf("central settings failed the run: %v", err)
		}
		if v := strings.TrimSpace(secretValue); len(v) >= 4 && !strings.Contains("[redacted]", v) {
			for _, p := range res.Problems {
				if p.Object.Kind == "Secret" && strings.Contains(p.Err.Error(), v) {
					t.Errorf("problem shows the secret value: %q", p.Error())
				}
			}
		}
		res, err = Resolve(envOf(nil), Central{}, map[string]string{"syncreport.dev/channel": channel})
		if err != nil {
			return
		}
		got := res.Config.SlackChannel
		for _, r := range got {
			if r == '<' || r == '>' || r == '|' || r == '&' || r == '!' || r == '@' || unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
				t.Fatalf("channel annotation %q accepted as %q", channel, got)
			}
		}
	})
}
