package settings

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const canary = "CANARYsecret"

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func cm(data map[string]string) *Object {
	return &Object{Kind: "ConfigMap", Namespace: "argocd", Name: "syncreport-settings", UID: "u1", ResourceVersion: "7", Data: data}
}

func secret(data map[string]string) *Object {
	return &Object{Kind: "Secret", Namespace: "argocd", Name: "syncreport-secret", UID: "u2", ResourceVersion: "9", Data: data}
}

const (
	fromCM     = "configmap argocd/syncreport-settings"
	fromSecret = "secret argocd/syncreport-secret"
)

// TestResolve: one precedence, default < central < env < annotation, with
// the source of each value; a bad central value is ignored with a Problem
// naming object and key, a bad value of the app's own is an error.
func TestResolve(t *testing.T) {
	type want struct {
		name, value, source string
	}
	tests := []struct {
		name        string
		env         map[string]string
		cm, secret  map[string]string
		annotations map[string]string
		want        []want
		transport   string
		problems    []string // "object key: substring"
		err         string
	}{
		{
			name: "defaults",
			want: []want{{"NOTIFY_ON", "succeeded,failed,degraded", SourceDefault}, {"SLACK_CHANNEL", "", SourceDefault},
				{"SLACK_TOKEN", "unset", SourceDefault}},
			transport: "stdout",
		},
		{
			name:      "central",
			cm:        map[string]string{"NOTIFY_ON": "failed", "SLACK_CHANNEL": "#deploys", "GATE_RESTARTS": "3"},
			secret:    map[string]string{"SLACK_TOKEN": "xoxb-" + canary + "\n"},
			want:      []want{{"NOTIFY_ON", "failed", fromCM}, {"SLACK_CHANNEL", "#deploys", fromCM}, {"GATE_RESTARTS", "3", fromCM}, {"SLACK_TOKEN", "set", fromSecret}},
			transport: "slack",
		},
		{
			name:      "env wins over central",
			env:       map[string]string{"NOTIFY_ON": "degraded", "SLACK_CHANNEL": "#team-a"},
			cm:        map[string]string{"NOTIFY_ON": "failed", "SLACK_CHANNEL": "#deploys"},
			secret:    map[string]string{"SLACK_TOKEN": "xoxb-" + canary},
			want:      []want{{"NOTIFY_ON", "degraded", SourceEnv}, {"SLACK_CHANNEL", "#team-a", SourceEnv}, {"SLACK_TOKEN", "set", fromSecret}},
			transport: "slack",
		},
		{
			name:        "annotation wins over env",
			env:         map[string]string{"SLACK_CHANNEL": "#team-a", "RETRY_NOTIFY": "all"},
			cm:          map[string]string{"SLACK_CHANNEL": "#deploys"},
			annotations: map[string]string{"syncreport.dev/channel": " #team-b ", "syncreport.dev/notify-on": "failed", "syncreport.dev/dm": "true", "syncreport.dev/retry-notify": "final"},
			want: []want{{"SLACK_CHANNEL", "#team-b", "annotation syncreport.dev/channel"}, {"NOTIFY_ON", "failed", "annotation syncreport.dev/notify-on"},
				{"SLACK_DM", "true", "annotation syncreport.dev/dm"}, {"RETRY_NOTIFY", "final", "annotation syncreport.dev/retry-notify"}},
		},
		{
			name: "empty env value hides no central value",
			env:  map[string]string{"SLACK_CHANNEL": "", "SLACK_TOKEN": ""},
			cm:   map[string]string{"SLACK_CHANNEL": "#deploys"}, secret: map[string]string{"SLACK_TOKEN": "xoxb-" + canary},
			want:      []want{{"SLACK_CHANNEL", "#deploys", fromCM}, {"SLACK_TOKEN", "set", fromSecret}},
			transport: "slack",
		},
		{
			name:     "bad central value: default used",
			cm:       map[string]string{"NOTIFY_ON": "failure", "RETRY_NOTIFY": "never", "GATE_IMAGE_PULL_GRACE": "forever", "HOOK_TIMEOUT": "30m"},
			want:     []want{{"NOTIFY_ON", "succeeded,failed,degraded", SourceDefault}, {"RETRY_NOTIFY", "update", SourceDefault}, {"GATE_IMAGE_PULL_GRACE", "30s", SourceDefault}, {"HOOK_TIMEOUT", "2m", SourceDefault}},
			problems: []string{fromCM + " key GATE_IMAGE_PULL_GRACE: cannot parse", fromCM + " key HOOK_TIMEOUT: not allowed in the central settings", fromCM + " key NOTIFY_ON: unknown verdict \"failure\"", fromCM + " key RETRY_NOTIFY:"},
		},
		{
			name:     "bad central value: the app's own used",
			env:      map[string]string{"NOTIFY_ON": "failed"},
			cm:       map[string]string{"NOTIFY_ON": "failure"},
			want:     []want{{"NOTIFY_ON", "failed", SourceEnv}},
			problems: []string{fromCM + " key NOTIFY_ON:"},
		},
		{
			name: "keys not allowed centrally",
			cm: map[string]string{"ARGOCD_NAMESPACE": "x", "POD_NAME": "p", "SLACK_TOKEN_FILE": "/x", "GATE_TERMINATION_LOG": "/x",
				"SETTINGS_SECRET": "other", "ARGOCD_SERVER": "argocd.example.com", "NOTIFY_ONN": "failed", "SLACK_TOKEN": "xoxb-" + canary},
			secret: map[string]string{"NOTIFY_ON": "failed", "ARGOCD_AUTH_TOKEN": canary},
			want:   []want{{"ARGOCD_NAMESPACE", "argocd", SourceDefault}, {"SLACK_TOKEN", "unset", SourceDefault}, {"NOTIFY_ON", "succeeded,failed,degraded", SourceDefault}},
			problems: []string{fromCM + " key ARGOCD_NAMESPACE: not allowed", fromCM + " key ARGOCD_SERVER: not allowed", fromCM + " key GATE_TERMINATION_LOG: not allowed",
				fromCM + " key NOTIFY_ONN: not a setting", fromCM + " key POD_NAME: not allowed", fromCM + " key SETTINGS_SECRET: not allowed",
				fromCM + " key SLACK_TOKEN: a credential", fromCM + " key SLACK_TOKEN_FILE: not allowed",
				fromSecret + " key ARGOCD_AUTH_TOKEN: not allowed", fromSecret + " key NOTIFY_ON: not a credential"},
			transport: "stdout",
		},
		{
			name:      "token and webhook both in the Secret: both ignored",
			cm:        map[string]string{"SLACK_CHANNEL": "#deploys"},
			secret:    map[string]string{"SLACK_TOKEN": "xoxb-" + canary, "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/" + canary},
			want:      []want{{"SLACK_TOKEN", "unset", SourceDefault}, {"SLACK_WEBHOOK_URL", "unset", SourceDefault}},
			problems:  []string{fromSecret + " key SLACK_WEBHOOK_URL: SLACK_TOKEN and SLACK_WEBHOOK_URL are both set"},
			transport: "stdout",
		},
		{
			name:      "a team's own webhook never meets the central token",
			env:       map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/team"},
			cm:        map[string]string{"SLACK_CHANNEL": "#deploys"},
			secret:    map[string]string{"SLACK_TOKEN": "xoxb-" + canary},
			want:      []want{{"SLACK_TOKEN", "unset", SourceDefault}, {"SLACK_WEBHOOK_URL", "set", SourceEnv}},
			transport: "webhook",
		},
		{
			// An app's Job pointing SLACK_API_URL at its own server would
			// otherwise receive the fleet's bot token.
			name:      "a team's own Slack API URL never gets the central token",
			env:       map[string]string{"SLACK_API_URL": "https://slack-proxy.team-a.example/api/"},
			cm:        map[string]string{"SLACK_CHANNEL": "#deploys"},
			secret:    map[string]string{"SLACK_TOKEN": "xoxb-" + canary},
			want:      []want{{"SLACK_TOKEN", "unset", SourceDefault}, {"SLACK_API_URL", "https://slack-proxy.team-a.example/api/", SourceEnv}},
			transport: "stdout",
		},
		{
			name:      "the central Slack API URL goes with the central token",
			cm:        map[string]string{"SLACK_CHANNEL": "#deploys", "SLACK_API_URL": "https://slack-proxy.example/api/"},
			secret:    map[string]string{"SLACK_TOKEN": "xoxb-" + canary},
			want:      []want{{"SLACK_TOKEN", "set", fromSecret}, {"SLACK_API_URL", "https://slack-proxy.example/api/", fromCM}},
			transport: "slack",
		},
		{
			name:   "a team's own mail server never gets the central password",
			env:    map[string]string{"SMTP_HOST": "mail.team-a.example", "SMTP_FROM": "a@team-a.example"},
			secret: map[string]string{"SMTP_PASSWORD": canary},
			want:   []want{{"SMTP_PASSWORD", "unset", SourceDefault}, {"SMTP_HOST", "mail.team-a.example", SourceEnv}},
		},
		{
			name: "a team's own Git hosts never get the central forge tokens",
			env: map[string]string{"COMMIT_STATUS_GITHUB_HOSTS": "github.com,ghe.team-a.example=https://ghe.team-a.example/api/v3",
				"COMMIT_STATUS_GITLAB_HOSTS": "gitlab.team-a.example"},
			secret: map[string]string{"COMMIT_STATUS_GITHUB_TOKEN": "ghp_" + canary, "COMMIT_STATUS_GITLAB_TOKEN": "glpat-" + canary},
			want:   []want{{"COMMIT_STATUS_GITHUB_TOKEN", "unset", SourceDefault}, {"COMMIT_STATUS_GITLAB_TOKEN", "unset", SourceDefault}},
		},
		{
			name:   "central Git hosts and tokens together",
			cm:     map[string]string{"COMMIT_STATUS_GITHUB_HOSTS": "ghe.example=https://ghe.example/api/v3"},
			secret: map[string]string{"COMMIT_STATUS_GITHUB_TOKEN": "ghp_" + canary},
			want:   []want{{"COMMIT_STATUS_GITHUB_TOKEN", "set", fromSecret}, {"COMMIT_STATUS_GITHUB_HOSTS", "ghe.example=https://ghe.example/api/v3", fromCM}},
		},
		{
			name:      "a team's own token, the central channel",
			env:       map[string]string{"SLACK_TOKEN": "xoxb-team"},
			cm:        map[string]string{"SLACK_CHANNEL": "#deploys"},
			want:      []want{{"SLACK_TOKEN", "set", SourceEnv}, {"SLACK_CHANNEL", "#deploys", fromCM}},
			transport: "slack",
		},
		{
			name:      "central token without a channel anywhere",
			secret:    map[string]string{"SLACK_TOKEN": "xoxb-" + canary},
			want:      []want{{"SLACK_TOKEN", "unset", SourceDefault}},
			problems:  []string{fromSecret + " key SLACK_TOKEN: SLACK_CHANNEL: required with SLACK_TOKEN"},
			transport: "stdout",
		},
		{
			name:      "central token, the app's own channel",
			env:       map[string]string{"SLACK_CHANNEL": "#team-a"},
			secret:    map[string]string{"SLACK_TOKEN": "xoxb-" + canary},
			want:      []want{{"SLACK_TOKEN", "set", fromSecret}},
			transport: "slack",
		},
		{
			name:      "central NOTIFIER the team's transport cannot meet",
			env:       map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/team"},
			cm:        map[string]string{"NOTIFIER": "slack"},
			want:      []want{{"NOTIFIER", "auto", SourceDefault}},
			problems:  []string{fromCM + " key NOTIFIER: NOTIFIER=slack needs SLACK_TOKEN"},
			transport: "webhook",
		},
		{
			name:      "central SMTP without a sender",
			cm:        map[string]string{"SMTP_HOST": "mail.example.com", "EMAIL_TO": "ops@example.com"},
			want:      []want{{"SMTP_HOST", "", SourceDefault}, {"EMAIL_TO", "", SourceDefault}},
			problems:  []string{fromCM + " key EMAIL_TO: SMTP_FROM, SMTP_USERNAME, SMTP_PASSWORD, SMTP_CA_FILE and EMAIL_TO need SMTP_HOST", fromCM + " key SMTP_HOST: SMTP_FROM: required"},
			transport: "stdout",
		},
		{
			name:   "two unrelated central mistakes: only they are dropped",
			cm:     map[string]string{"SLACK_CHANNEL_FAILED": "#incidents", "SMTP_HOST": "mail.example.com", "NOTIFY_ON": "failed", "SLACK_API_URL": "https://proxy.example.com/api/"},
			secret: map[string]string{"SLACK_TOKEN": "xoxb-" + canary},
			want: []want{{"SMTP_HOST", "", SourceDefault}, {"SLACK_TOKEN", "unset", SourceDefault},
				{"NOTIFY_ON", "failed", fromCM}, {"SLACK_CHANNEL_FAILED", "#incidents", fromCM}, {"SLACK_API_URL", "https://proxy.example.com/api/", fromCM}},
			problems:  []string{fromSecret + " key SLACK_TOKEN: SLACK_CHANNEL: required with SLACK_TOKEN", fromCM + " key SMTP_HOST: SMTP_FROM: required"},
			transport: "stdout",
		},
		{
			name:      "empty central values are absent",
			cm:        map[string]string{"SLACK_CHANNEL": "", "NOTIFY_ON": " "},
			secret:    map[string]string{"SLACK_TOKEN": ""},
			want:      []want{{"NOTIFY_ON", "succeeded,failed,degraded", SourceDefault}},
			transport: "stdout",
		},
		{
			name: "a file of the env is the env's",
			env:  map[string]string{"SLACK_WEBHOOK_URL_FILE": "testdata/webhook"},
			cm:   map[string]string{"SLACK_CHANNEL": "#deploys"}, secret: map[string]string{"SLACK_TOKEN": "xoxb-" + canary},
			want:      []want{{"SLACK_WEBHOOK_URL", "set", "env SLACK_WEBHOOK_URL_FILE"}, {"SLACK_TOKEN", "unset", SourceDefault}},
			transport: "webhook",
		},
		{
			name: "bad env value", env: map[string]string{"NOTIFY_ON": "failure"}, cm: map[string]string{"NOTIFY_ON": "failed"},
			err: `NOTIFY_ON: unknown verdict "failure"`,
		},
		{
			name: "bad env combination", env: map[string]string{"SLACK_TOKEN": "xoxb-team"},
			err: "SLACK_CHANNEL: required with SLACK_TOKEN",
		},
		{
			name: "mention as a channel annotation", annotations: map[string]string{"syncreport.dev/channel": "<!channel>"},
			err: `annotation syncreport.dev/channel: SLACK_CHANNEL="<!channel>": not a channel name`,
		},
		{
			name: "control character in a channel annotation", annotations: map[string]string{"syncreport.dev/channel-failed": "#a\x1b[2Jb"},
			err: `annotation syncreport.dev/channel-failed: SLACK_CHANNEL_FAILED="#a\x1b[2Jb"`,
		},
		{
			name: "bad notify-on annotation", annotations: map[string]string{"syncreport.dev/notify-on": "always"},
			err: `annotation syncreport.dev/notify-on: NOTIFY_ON: unknown verdict "always"`,
		},
		{
			name: "bad email annotation", annotations: map[string]string{"syncreport.dev/email-to": "not-an-address"},
			err: "annotation syncreport.dev/email-to: EMAIL_TO",
		},
		{
			name: "URLs shown without user info and query",
			env:  map[string]string{"SLACK_API_URL": "https://bot:" + canary + "@proxy.example.com/api/?t=" + canary},
			cm:   map[string]string{"ARGOCD_URL": "https://argocd.example.com/?token=" + canary},
			want: []want{{"SLACK_API_URL", "https://proxy.example.com/api/", SourceEnv}, {"ARGOCD_URL", "https://argocd.example.com/", fromCM}},
		},
		{
			name:        "annotations that are not routing keys are not settings",
			annotations: map[string]string{"syncreport.dev/slack-api-url": "https://evil.example.com/", "syncreport.dev/notify": "#x"},
			want:        []want{{"SLACK_API_URL", "https://slack.com/api/", SourceDefault}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Central
			if tt.cm != nil {
				c.ConfigMap = cm(tt.cm)
			}
			if tt.secret != nil {
				c.Secret = secret(tt.secret)
			}
			res, err := Resolve(envOf(tt.env), c, tt.annotations)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				got := res.Settings[w.name]
				if got.Value != w.value || got.Source != w.source {
					t.Errorf("%s = %q from %q, want %q from %q", w.name, got.Value, got.Source, w.value, w.source)
				}
			}
			if tt.transport != "" && res.Config.Transport() != tt.transport {
				t.Errorf("transport %s, want %s", res.Config.Transport(), tt.transport)
			}
			if len(res.Problems) != len(tt.problems) {
				t.Errorf("%d problems, want %d: %v", len(res.Problems), len(tt.problems), res.Problems)
			}
			for i, p := range res.Problems {
				if i < len(tt.problems) && !strings.Contains(p.Error(), tt.problems[i]) {
					t.Errorf("problem %d: %q, want it to contain %q", i, p.Error(), tt.problems[i])
				}
				if strings.Contains(p.Error(), canary) {
					t.Errorf("problem leaks the secret: %q", p.Error())
				}
			}
			for name, s := range res.Settings {
				if strings.Contains(s.Value, canary) || strings.Contains(s.Value, "xoxb") || strings.Contains(s.Value, "hooks.slack.com") {
					t.Errorf("setting %s shows a secret: %q", name, s.Value)
				}
			}
		})
	}
}

// TestResolveConfig: the layered values reach the config the hook runs
// with, durations and booleans parsed.
func TestResolveConfig(t *testing.T) {
	res, err := Resolve(envOf(map[string]string{"GATE_RESTARTS": "4", "GATE_TIMEOUT": "3m", "HOOK_TIMEOUT": "45s"}),
		Central{ConfigMap: cm(map[string]string{"GATE_IMAGE_PULL_GRACE": "40s", "GATE_RESTARTS": "9", "SLACK_DM": "true"})},
		map[string]string{"syncreport.dev/dm": "false"})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Config
	if c.GateTimeout != 3*time.Minute || c.Timeout != 45*time.Second || c.GateImagePullGrace != 40*time.Second || c.GateRestarts != 4 || c.SlackDM {
		t.Errorf("config: gate timeout %s, timeout %s, image pull grace %s, restarts %d, dm %v", c.GateTimeout, c.Timeout, c.GateImagePullGrace, c.GateRestarts, c.SlackDM)
	}
}

// TestSecretValueNeverInProblems: whatever is wrong with a Secret value, the
// Problem (log line, Event message) names the key, never the value.
func TestSecretValueNeverInProblems(t *testing.T) {
	for _, data := range []map[string]string{
		{"SLACK_TOKEN": canary + " x"},
		{"SLACK_WEBHOOK_URL": "hooks.slack.com/" + canary},
		{"SLACK_WEBHOOK_URL": "http://hooks.slack.com/" + canary},
		{"WEBHOOK_URL": "https://h.example.com/" + canary},
		{"WEBHOOK_SECRET": canary},
		{"SMTP_PASSWORD": canary},
		{"NOTIFY_ON": canary},
		{"ARGOCD_AUTH_TOKEN": canary},
		{"UNKNOWN": canary},
		{"SLACK_TOKEN": canary, "SLACK_WEBHOOK_URL": "https://hooks.slack.com/" + canary},
	} {
		res, err := Resolve(envOf(nil), Central{Secret: secret(data)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) == 0 {
			t.Errorf("%v: no problem", data)
		}
		for _, p := range res.Problems {
			if strings.Contains(p.Error(), canary) {
				t.Errorf("%v: problem leaks the secret: %q", data, p.Error())
			}
			if strings.Contains(event(p, "argocd/web", time.Now()).Object["message"].(string), canary) {
				t.Errorf("%v: event leaks the secret", data)
			}
		}
	}
}

// TestEventName: one Event per object version and key, so that the hooks
// of a whole fleet make one; a valid DNS subdomain.
func TestEventName(t *testing.T) {
	p := Problem{Object: cm(nil), Key: "NOTIFY_ON"}
	q := p
	q.Object = cm(nil)
	if EventName(p) != EventName(q) {
		t.Error("same object version and key, different names")
	}
	for _, other := range []Problem{
		{Object: cm(nil), Key: "RETRY_NOTIFY"},
		{Object: &Object{Kind: "ConfigMap", Namespace: "argocd", Name: "syncreport-settings", UID: "u1", ResourceVersion: "8"}, Key: "NOTIFY_ON"},
	} {
		if EventName(other) == EventName(p) {
			t.Errorf("%+v: same name as %+v", other, p)
		}
	}
	if n := EventName(p); !strings.HasPrefix(n, "syncreport-settings.syncreport-") || len(n) > 253 {
		t.Errorf("name %q", n)
	}
	// SETTINGS_CONFIGMAP may name an object of 253 characters; its Event
	// must still be a valid name (the API server refuses a longer one).
	long := strings.Repeat("a", 224) + "-" + strings.Repeat("b", 28)
	n := EventName(Problem{Object: &Object{Kind: "ConfigMap", Namespace: "argocd", Name: long, UID: "u1", ResourceVersion: "7"}, Key: "NOTIFY_ON"})
	if len(n) > 253 || !dnsSubdomain.MatchString(n) {
		t.Errorf("event name of a %d-character object: %q (%d characters), not a DNS subdomain of at most 253", len(long), n, len(n))
	}
}

var dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// TestEventMessageVisible: a ConfigMap value with control, bidi or invalid
// bytes reaches the Event's message (printed raw by kubectl describe) as
// visible replacement characters only.
func TestEventMessageVisible(t *testing.T) {
	p := Problem{Object: cm(nil), Key: "SMTP_HOST", Err: errors.New("SMTP_TLS=none: mail\x1b[2J\u202e\xff\n.example.com is not a loopback address")}
	msg := event(p, "argocd/web", time.Now()).Object["message"].(string)
	for _, bad := range []string{"\x1b", "\u202e", "\n", "\xff"} {
		if strings.Contains(msg, bad) {
			t.Errorf("message %q holds %q", msg, bad)
		}
	}
	if !strings.Contains(msg, "key SMTP_HOST: SMTP_TLS=none: mail") || !utf8.ValidString(msg) {
		t.Errorf("message %q", msg)
	}
	long := Problem{Object: cm(nil), Key: "K", Err: errors.New(strings.Repeat("é", 2000))}
	if m := event(long, "", time.Now()).Object["message"].(string); len(m) > 1024 || !utf8.ValidString(m) {
		t.Errorf("long message: %d bytes, valid %v", len(m), utf8.ValidString(m))
	}
}

// TestUnusedCentralCredentials: when the Job's environment sets the central
// credentials aside, it is said (a log line), naming the credential, its
// object and the variable that did it, never the value.
func TestUnusedCentralCredentials(t *testing.T) {
	res, err := Resolve(envOf(map[string]string{"SLACK_API_URL": "https://slack-proxy.team-a.example/api/", "SLACK_CHANNEL": "#a"}),
		Central{Secret: secret(map[string]string{"SLACK_TOKEN": "xoxb-" + canary, "COMMIT_STATUS_GITHUB_TOKEN": "ghp_" + canary})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "SLACK_TOKEN of " + fromSecret + " not used: the hook Job's environment sets SLACK_API_URL"
	if len(res.Unused) != 1 || res.Unused[0] != want {
		t.Fatalf("unused %q, want [%q]", res.Unused, want)
	}
	if res.Config.SlackToken != "" || res.Config.CommitStatusGitHubToken != "ghp_"+canary {
		t.Errorf("slack token set %v, github token kept %v", res.Config.SlackToken != "", res.Config.CommitStatusGitHubToken != "")
	}
}

// TestOwnMailServerNeedsOwnPassword: a team's mail server with a user but
// no password of its own is the team's mistake (exit 2), and the error
// says why the central password was not used.
func TestOwnMailServerNeedsOwnPassword(t *testing.T) {
	_, err := Resolve(envOf(map[string]string{"SMTP_HOST": "mail.team-a.example", "SMTP_FROM": "a@team-a.example", "SMTP_USERNAME": "u"}),
		Central{Secret: secret(map[string]string{"SMTP_PASSWORD": canary})}, nil)
	want := "SMTP_USERNAME needs SMTP_PASSWORD or SMTP_PASSWORD_FILE (central credential SMTP_PASSWORD of " + fromSecret +
		" not used: the hook Job's environment sets SMTP_HOST)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}
