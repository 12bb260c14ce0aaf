package config

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/kelseyhightower/envconfig"
)

// TestFromLookupAgreesWithEnvconfig: FromLookup parses what
// envconfig.Process parsed before it, so moving the hook onto layered
// settings changed no variable's meaning (set to "" included).
func TestFromLookupAgreesWithEnvconfig(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{"NOTIFY_ON": "failed", "HOOK_TIMEOUT": "90s", "SLACK_DM": "1", "HOOK_LOG_LINES": "0x10"},
		{"NOTIFY_ON": "", "ARGOCD_NAMESPACE": "", "SETTINGS_CONFIGMAP": "", "SMTP_PORT": "465"},
		{"SLACK_CHANNEL": "#deploys", "GATE_TIMEOUT": "1h30m", "GATE_WAVE": "-5", "EMAIL_RECIPIENTS": "false"},
	} {
		for _, k := range keys() {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
		for k, v := range env {
			t.Setenv(k, v)
		}
		var want Config
		if err := envconfig.Process("", &want); err != nil {
			t.Fatal(err)
		}
		got, err := FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("%v:\n got %+v\nwant %+v", env, *got, want)
		}
	}
}

// TestFromLookupErrors: a bad value names its variable, as envconfig's did
// after cleaning, and a set-but-empty boolean is an error, not false.
func TestFromLookupErrors(t *testing.T) {
	for _, tt := range []struct{ name, value, want string }{
		{"HOOK_TIMEOUT", "forever", `HOOK_TIMEOUT: cannot parse "forever" as a duration`},
		{"SLACK_DM", "", `SLACK_DM: cannot parse "" as a boolean`},
		{"SMTP_PORT", "x", `SMTP_PORT: cannot parse "x" as a whole number`},
	} {
		_, err := FromLookup(func(k string) (string, bool) {
			if k == tt.name {
				return tt.value, true
			}
			return "", false
		})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s=%q: %v, want %q", tt.name, tt.value, err, tt.want)
		}
	}
}

func TestVarsTags(t *testing.T) {
	byName := map[string]Var{}
	for _, v := range Vars() {
		byName[v.Name] = v
	}
	for _, tt := range []struct {
		name            string
		secret, central bool
	}{
		{"SLACK_TOKEN", true, true}, {"SLACK_WEBHOOK_URL", true, true}, {"SMTP_PASSWORD", true, true},
		{"WEBHOOK_URL", true, true}, {"WEBHOOK_SECRET", true, true}, {"ARGOCD_AUTH_TOKEN", true, false},
		{"SLACK_CHANNEL", false, true}, {"NOTIFY_ON", false, true}, {"GATE_RESTARTS", false, true}, {"GATE_TIMEOUT", false, false}, {"HOOK_TIMEOUT", false, false},
		{"SLACK_TOKEN_FILE", false, false}, {"ARGOCD_NAMESPACE", false, false}, {"POD_NAME", false, false},
		{"GATE_TERMINATION_LOG", false, false}, {"SETTINGS_CONFIGMAP", false, false}, {"ARGOCD_SERVER", false, false},
	} {
		v, ok := byName[tt.name]
		if !ok || v.Secret != tt.secret || v.Central != tt.central {
			t.Errorf("%s: %+v (found %v), want secret=%v central=%v", tt.name, v, ok, tt.secret, tt.central)
		}
	}
}

// TestChannelValues: a channel is a name or an ID; a mention, a link, a
// space or a control character is refused with the variable named.
func TestChannelValues(t *testing.T) {
	for _, tt := range []struct {
		v  string
		ok bool
	}{
		{"#deploys", true}, {"deploys", true}, {"C0123ABCD", true}, {"#team-a_prod.v2", true}, {"#デプロイ", true},
		{"<!channel>", false}, {"#a b", false}, {"#a\nb", false}, {"<https://evil|x>", false}, {"#", false},
		{"@here", false}, {"#a\u202eb", false}, {"#a\xffb", false}, {"#" + strings.Repeat("a", 81), false},
	} {
		for _, name := range []string{"SLACK_CHANNEL", "SLACK_CHANNEL_FAILED"} {
			err := CheckVariable(name, tt.v)
			if (err == nil) != tt.ok || err != nil && !strings.HasPrefix(err.Error(), name+"=") {
				t.Errorf("%s=%q: %v, want ok=%v", name, tt.v, err, tt.ok)
			}
		}
	}
}
