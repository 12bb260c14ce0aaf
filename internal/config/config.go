// Package config loads the hook's settings from the environment and
// validates them before any I/O, so a typo fails the Job in milliseconds
// with a message naming the variable.
package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/redact"
	"github.com/syncreport/syncreport/internal/safehttp"
)

// Config is every setting of the hook. The `desc` tags feed `hook --help`.
//
// A `secret:"true"` setting is a credential: it may come from the central
// Secret (never the ConfigMap) and is shown only as set or unset. A
// `central:"false"` setting never comes from the central settings: it says
// who the hook is (the app, its pod) or how the central settings themselves
// are reached; neither may any *_FILE setting (a path in this pod).
type Config struct {
	AppName              string `envconfig:"ARGOCD_APP_NAME" desc:"Application to report on; when empty it is found from the hook's own Pod → Job → tracking annotation" central:"false"`
	AppNamespace         string `envconfig:"ARGOCD_APP_NAMESPACE" desc:"namespace of the Application (default: ARGOCD_NAMESPACE)" central:"false"`
	ArgoCDNamespace      string `envconfig:"ARGOCD_NAMESPACE" default:"argocd" desc:"namespace where Argo CD keeps Applications" central:"false"`
	ArgoCDURL            string `envconfig:"ARGOCD_URL" desc:"Argo CD UI base URL, for a link in the report (https://argocd.example.com)"`
	ArgoCDKubeconfigFile string `envconfig:"ARGOCD_KUBECONFIG_FILE" desc:"kubeconfig for the Argo CD cluster, used only to read the Application (hook in a remote destination cluster)"`
	ArgoCDServer         string `envconfig:"ARGOCD_SERVER" desc:"Argo CD API server (host[:port] or https://host/rootpath): read the Application and the commit metadata through the API" central:"false"`
	ArgoCDAuthToken      string `envconfig:"ARGOCD_AUTH_TOKEN" desc:"Argo CD API token (a project role allowed to get applications)" secret:"true" central:"false"`
	ArgoCDAuthTokenFile  string `envconfig:"ARGOCD_AUTH_TOKEN_FILE" desc:"file holding the Argo CD API token"`
	ArgoCDInsecure       bool   `envconfig:"ARGOCD_INSECURE" default:"false" desc:"skip TLS verification of ARGOCD_SERVER" central:"false"`
	ArgoCDCAFile         string `envconfig:"ARGOCD_CA_FILE" desc:"CA bundle that signs ARGOCD_SERVER's certificate"`
	ArgoCDPlainText      bool   `envconfig:"ARGOCD_PLAINTEXT" default:"false" desc:"talk plain http to ARGOCD_SERVER (only behind a TLS-terminating proxy)" central:"false"`
	NotifyCommitAuthor   bool   `envconfig:"NOTIFY_COMMIT_AUTHOR" default:"false" desc:"add the commit author's email (from the Argo CD API) to the recipients" central:"false"`
	PodName              string `envconfig:"POD_NAME" desc:"the hook's own Pod (downward API), used to find the app" central:"false"`
	PodNamespace         string `envconfig:"POD_NAMESPACE" desc:"the hook's own namespace (downward API)" central:"false"`

	Notifier            string `envconfig:"NOTIFIER" default:"auto" desc:"auto | slack | webhook | stdout; auto picks slack with a token, webhook with a URL, else stdout (with a warning)"`
	SlackToken          string `envconfig:"SLACK_TOKEN" desc:"Slack bot token (xoxb-…) for chat.postMessage" secret:"true"`
	SlackTokenFile      string `envconfig:"SLACK_TOKEN_FILE" desc:"file holding the bot token (a mounted Secret)"`
	SlackChannel        string `envconfig:"SLACK_CHANNEL" desc:"channel for the bot transport (#deploys or C0123…)"`
	SlackWebhookURL     string `envconfig:"SLACK_WEBHOOK_URL" desc:"Slack incoming webhook URL" secret:"true"`
	SlackWebhookURLFile string `envconfig:"SLACK_WEBHOOK_URL_FILE" desc:"file holding the webhook URL (a mounted Secret)"`
	SlackChannelFailed  string `envconfig:"SLACK_CHANNEL_FAILED" desc:"extra channel for failed and degraded reports"`
	SlackDM             bool   `envconfig:"SLACK_DM" default:"false" desc:"also send each resolved user a direct message (bot transport; scope im:write)"`
	NotifyOn            string `envconfig:"NOTIFY_ON" default:"succeeded,failed,degraded" desc:"verdicts that are reported (succeeded, failed, degraded, progressing, unknown); a hook that cannot settle its sync in time reports progressing/unknown when succeeded is listed"`
	SlackAPIURL         string `envconfig:"SLACK_API_URL" default:"https://slack.com/api/" desc:"Slack Web API base URL (proxies, tests): https, or http to a loopback address only; redirects are not followed"`
	StdoutFormat        string `envconfig:"STDOUT_FORMAT" default:"text" desc:"text | json | slack: what the stdout notifier prints"`

	SMTPHost           string `envconfig:"SMTP_HOST" desc:"mail server: setting it sends the report by email too (to EMAIL_TO and the resolved people's addresses)"`
	SMTPPort           int    `envconfig:"SMTP_PORT" default:"0" desc:"mail server port (0: 587 with starttls or none, 465 with tls)"`
	SMTPTLS            string `envconfig:"SMTP_TLS" default:"starttls" desc:"starttls | tls | none: starttls is required (no fallback to clear text); tls is implicit TLS (port 465); none only to a loopback relay, or with SMTP_ALLOW_PLAINTEXT"`
	SMTPAllowPlaintext bool   `envconfig:"SMTP_ALLOW_PLAINTEXT" default:"false" desc:"let SMTP_TLS=none reach a host other than loopback (a relay in the pod network): mail and password travel in clear"`
	SMTPCAFile         string `envconfig:"SMTP_CA_FILE" desc:"CA bundle that signs the mail server's certificate (default: the system's)"`
	SMTPFrom           string `envconfig:"SMTP_FROM" desc:"sender address, e.g. syncreport@example.com or \"Deploys <deploys@example.com>\"; required with SMTP_HOST"`
	SMTPUsername       string `envconfig:"SMTP_USERNAME" desc:"AUTH user (PLAIN, else LOGIN, only over TLS); empty: no AUTH"`
	SMTPPassword       string `envconfig:"SMTP_PASSWORD" desc:"AUTH password" secret:"true"`
	SMTPPasswordFile   string `envconfig:"SMTP_PASSWORD_FILE" desc:"file holding the AUTH password (a mounted Secret)"`
	EmailTo            string `envconfig:"EMAIL_TO" desc:"addresses that get every report by email, comma-separated"`
	EmailRecipients    bool   `envconfig:"EMAIL_RECIPIENTS" default:"true" desc:"also email the resolved people who have an address (--info notify=, SSO user, commit author, annotations)"`

	WebhookURL         string `envconfig:"WEBHOOK_URL" desc:"receiver of the signed JSON report (exactly render --format json): https, or http to a loopback address; a secret, never logged" secret:"true"`
	WebhookURLFile     string `envconfig:"WEBHOOK_URL_FILE" desc:"file holding WEBHOOK_URL (a mounted Secret)"`
	WebhookSecret      string `envconfig:"WEBHOOK_SECRET" desc:"HMAC-SHA256 key of the X-Syncreport-Signature header; required with WEBHOOK_URL" secret:"true"`
	WebhookSecretFile  string `envconfig:"WEBHOOK_SECRET_FILE" desc:"file holding WEBHOOK_SECRET (a mounted Secret)"`
	WebhookHeadersFile string `envconfig:"WEBHOOK_HEADERS_FILE" desc:"file of extra headers for the JSON webhook, one \"Name: value\" a line (a mounted Secret)"`

	CommitStatusGitHubToken     string `envconfig:"COMMIT_STATUS_GITHUB_TOKEN" desc:"GitHub token: setting it sets a commit status syncreport/<app> on each Git source's deployed commit hosted on COMMIT_STATUS_GITHUB_HOSTS (permission commit statuses: write; docs/commit-status.md)" secret:"true"`
	CommitStatusGitHubTokenFile string `envconfig:"COMMIT_STATUS_GITHUB_TOKEN_FILE" desc:"file holding COMMIT_STATUS_GITHUB_TOKEN (a mounted Secret)"`
	CommitStatusGitHubHosts     string `envconfig:"COMMIT_STATUS_GITHUB_HOSTS" default:"github.com" desc:"Git hosts of repoURLs that are GitHub, comma-separated: host, or host=API base URL (default https://api.github.com for github.com, https://<host>/api/v3 for GitHub Enterprise Server)"`
	CommitStatusGitHubDeploy    bool   `envconfig:"COMMIT_STATUS_GITHUB_DEPLOYMENTS" default:"false" desc:"also record a GitHub deployment per commit with environment = the app, and its status (permission deployments: write)"`
	CommitStatusGitLabToken     string `envconfig:"COMMIT_STATUS_GITLAB_TOKEN" desc:"GitLab token: setting it sets a commit status syncreport/<app> on each Git source's deployed commit hosted on COMMIT_STATUS_GITLAB_HOSTS (scope api, role Developer; docs/commit-status.md)" secret:"true"`
	CommitStatusGitLabTokenFile string `envconfig:"COMMIT_STATUS_GITLAB_TOKEN_FILE" desc:"file holding COMMIT_STATUS_GITLAB_TOKEN (a mounted Secret)"`
	CommitStatusGitLabHosts     string `envconfig:"COMMIT_STATUS_GITLAB_HOSTS" default:"gitlab.com" desc:"Git hosts of repoURLs that are GitLab, comma-separated: host, or host=API base URL (default https://<host>/api/v4)"`

	Diagnose            bool          `envconfig:"HOOK_DIAGNOSE" default:"true" desc:"read the live objects in this cluster to name the cause of a failure"`
	LogLines            int           `envconfig:"HOOK_LOG_LINES" default:"0" desc:"last log lines of a crashing container to include (needs pods/log get; logs can hold secrets)"`
	MaxRequests         int           `envconfig:"HOOK_MAX_REQUESTS" default:"20" desc:"cap on Kubernetes API requests spent on the diagnosis"`
	RetryNotify         string        `envconfig:"RETRY_NOTIFY" default:"update" desc:"update | first | final | all: update (with a bot token and a channel ID) keeps one message per sync, updated in place, each attempt in its thread; the others say which failed attempts of a retrying sync are posted as messages of their own (first = the first and the final one), as update does with a webhook or a channel name"`
	SlackPostStarted    bool          `envconfig:"SLACK_POST_STARTED" default:"false" desc:"gate: post \"Syncing web to 9c0ffee, by alice…\" when the sync starts; its report then updates that message (needs a bot token and RETRY_NOTIFY=update)"`
	Timeout             time.Duration `envconfig:"HOOK_TIMEOUT" default:"2m" desc:"deadline for the whole run: reading, diagnosis and delivery retries" central:"false"`
	SlackAttemptTimeout time.Duration `envconfig:"SLACK_ATTEMPT_TIMEOUT" default:"10s" desc:"bound on one Slack request, SMTP conversation or webhook post, so a hung one leaves time within HOOK_TIMEOUT to retry"`
	FailOnDeliveryError bool          `envconfig:"FAIL_ON_DELIVERY_ERROR" default:"false" desc:"exit 4 when any destination (Slack, email, webhook) could not be reached, even if others were; by default a notifier outage never fails the sync"`
	LogLevel            string        `envconfig:"LOG_LEVEL" default:"info" desc:"debug | info | warn | error"`

	GateWave               string        `envconfig:"GATE_WAVE" desc:"gate: the sync wave it judges up to (default: its Job's argocd.argoproj.io/sync-wave annotation, else 0)"`
	GateRestarts           int           `envconfig:"GATE_RESTARTS" default:"2" desc:"gate: restarts after which a container that is down again (CrashLoopBackOff, an error exit, OOMKilled) fails the rollout"`
	GateImagePullGrace     time.Duration `envconfig:"GATE_IMAGE_PULL_GRACE" default:"30s" desc:"gate: how long ErrImagePull/ImagePullBackOff may last before the rollout fails"`
	GateConfigErrorGrace   time.Duration `envconfig:"GATE_CONFIG_ERROR_GRACE" default:"30s" desc:"gate: how long CreateContainerConfigError/CreateContainerError may last before the rollout fails"`
	GateUnschedulableGrace time.Duration `envconfig:"GATE_UNSCHEDULABLE_GRACE" default:"2m" desc:"gate: how long a pod may stay unschedulable before the rollout fails"`
	GateTimeout            time.Duration `envconfig:"GATE_TIMEOUT" default:"10m" desc:"gate: fail when the rollout is not healthy by then" central:"false"`
	GateMarkDegraded       bool          `envconfig:"GATE_MARK_DEGRADED" default:"false" desc:"gate: write ProgressDeadlineExceeded on a Deployment whose rollout it found broken, so Argo CD sees it Degraded and fails a multi-step sync at once (needs patch on deployments/status)"`
	GateTerminationLog     string        `envconfig:"GATE_TERMINATION_LOG" default:"/dev/termination-log" desc:"gate: file that gets the one-line cause of a failure (the pod's terminationMessagePath)" central:"false"`

	SettingsConfigMap string `envconfig:"SETTINGS_CONFIGMAP" default:"syncreport-settings" central:"false" desc:"ConfigMap in ARGOCD_NAMESPACE with the fleet's default settings (keys: variable names), read at run time; empty: none"`
	SettingsSecret    string `envconfig:"SETTINGS_SECRET" default:"syncreport-secret" central:"false" desc:"Secret in ARGOCD_NAMESPACE with the fleet's credentials (SLACK_TOKEN, SLACK_WEBHOOK_URL, SMTP_PASSWORD, WEBHOOK_URL, WEBHOOK_SECRET); empty: none"`

	// Read from files by Load, not variables themselves.
	smtpRootCAs    *x509.CertPool
	webhookHeaders http.Header
}

// Load reads the process environment, resolves *_FILE secrets and
// validates: the settings of one process, without the central layer
// (internal/settings adds it).
func Load() (*Config, error) {
	c, err := FromLookup(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks every field and names the variable at fault.
func (c *Config) Validate() error {
	if err := c.validateValues(); err != nil {
		return err
	}
	return c.validateCombination()
}

// Choices returns the values each enumerated variable accepts (NOTIFY_ON:
// a comma-separated list of them). Validate checks against it, and a test
// holds the chart's values.schema.json to it.
func Choices() map[string][]string {
	return map[string][]string{
		"NOTIFIER":      {"auto", "slack", "webhook", "stdout"},
		"STDOUT_FORMAT": {"text", "json", "slack"},
		"RETRY_NOTIFY":  {"update", "first", "final", "all"},
		"LOG_LEVEL":     {"debug", "info", "warn", "error"},
		"NOTIFY_ON":     {"succeeded", "failed", "degraded", "progressing", "unknown"},
		"SMTP_TLS":      {"starttls", "tls", "none"},
	}
}

// CheckVariable checks one variable's value as Load does, every other
// variable at its default: the parsing and the checks of that value alone,
// not those that need another variable (SLACK_TOKEN needs SLACK_CHANNEL) or
// a file. Tests hold every documented example to it, and `hook render`
// checks its --argocd-url with it.
func CheckVariable(name, value string) error {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	found := false
	for i := range v.NumField() {
		f := v.Type().Field(i)
		key := f.Tag.Get("envconfig")
		s, ok := f.Tag.Lookup("default")
		if key == name {
			s, ok, found = value, true, true
		}
		if !ok {
			continue
		}
		if err := setField(v.Field(i), key, s); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%s: not a variable the hook reads (see hook --help)", name)
	}
	return c.validateValues()
}

// setField parses s into f as envconfig does for the kinds Config uses.
func setField(f reflect.Value, name, s string) error {
	var err error
	switch {
	case f.Type() == reflect.TypeFor[time.Duration]():
		var d time.Duration
		if d, err = time.ParseDuration(s); err == nil {
			f.SetInt(int64(d))
		}
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Bool:
		var b bool
		if b, err = strconv.ParseBool(s); err == nil {
			f.SetBool(b)
		}
	case f.Kind() == reflect.Int:
		var n int64
		if n, err = strconv.ParseInt(s, 0, f.Type().Bits()); err == nil {
			f.SetInt(n)
		}
	default:
		return fmt.Errorf("%s: cannot check a %s", name, f.Type())
	}
	if err != nil {
		return parseError(name, s, f.Type().String())
	}
	return nil
}

func checkChoice(name, v string) error {
	want := Choices()[name]
	if slices.Contains(want, v) {
		return nil
	}
	return fmt.Errorf("%s=%q: want %s", name, v, orList(want))
}

// orList joins "a", "b", "c" as "a, b or c".
func orList(l []string) string {
	return strings.Join(l[:len(l)-1], ", ") + " or " + l[len(l)-1]
}

// validateValues checks each variable's value on its own (CheckVariable).
func (c *Config) validateValues() error {
	for _, e := range []struct{ name, v string }{
		{"NOTIFIER", c.Notifier}, {"STDOUT_FORMAT", c.StdoutFormat},
		{"RETRY_NOTIFY", c.RetryNotify}, {"LOG_LEVEL", c.LogLevel}, {"SMTP_TLS", c.SMTPTLS},
	} {
		if err := checkChoice(e.name, e.v); err != nil {
			return err
		}
	}
	for _, v := range c.NotifyVerdicts() {
		if !slices.Contains(Choices()["NOTIFY_ON"], v) {
			return fmt.Errorf("NOTIFY_ON: unknown verdict %q (want %s)", v, orList(Choices()["NOTIFY_ON"]))
		}
	}
	if c.LogLines < 0 || c.LogLines > 200 {
		return fmt.Errorf("HOOK_LOG_LINES=%d: want 0 to 200", c.LogLines)
	}
	if c.MaxRequests < 1 {
		return fmt.Errorf("HOOK_MAX_REQUESTS=%d: must be at least 1", c.MaxRequests)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("HOOK_TIMEOUT=%s: must be positive", c.Timeout)
	}
	if c.SlackAttemptTimeout <= 0 {
		return fmt.Errorf("SLACK_ATTEMPT_TIMEOUT=%s: must be positive", c.SlackAttemptTimeout)
	}
	for _, ch := range []struct{ name, v string }{{"SLACK_CHANNEL", c.SlackChannel}, {"SLACK_CHANNEL_FAILED", c.SlackChannelFailed}} {
		if err := checkChannel(ch.name, ch.v); err != nil {
			return err
		}
	}
	if c.SettingsConfigMap != "" && !objectName.MatchString(c.SettingsConfigMap) {
		return fmt.Errorf("SETTINGS_CONFIGMAP=%q: not a Kubernetes object name", c.SettingsConfigMap)
	}
	if c.SettingsSecret != "" && !objectName.MatchString(c.SettingsSecret) {
		return fmt.Errorf("SETTINGS_SECRET=%q: not a Kubernetes object name", c.SettingsSecret)
	}
	if c.SlackToken != "" && strings.ContainsAny(c.SlackToken, " \t\r\n") {
		return errors.New("SLACK_TOKEN: contains whitespace")
	}
	if c.SlackWebhookURL != "" {
		// The URL is a secret: never echo it back.
		u, err := url.Parse(c.SlackWebhookURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("SLACK_WEBHOOK_URL: not an http(s) URL (value not shown: it is a secret)")
		}
		if !safehttp.PlainHTTPAllowed(u) {
			return errors.New("SLACK_WEBHOOK_URL: plain http would send the webhook in clear; use https (value not shown: it is a secret)")
		}
	}
	if c.WebhookURL != "" {
		// A secret, like SLACK_WEBHOOK_URL.
		u, err := url.Parse(c.WebhookURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(c.WebhookURL, " \t\r\n") {
			return errors.New("WEBHOOK_URL: not an http(s) URL (value not shown: it is a secret)")
		}
		if !safehttp.PlainHTTPAllowed(u) {
			return errors.New("WEBHOOK_URL: plain http would send the report and its signature in clear; use https, http only to a loopback address (value not shown: it is a secret)")
		}
	}
	if err := c.validateEmailValues(); err != nil {
		return err
	}
	if err := c.validateCommitStatusValues(); err != nil {
		return err
	}
	if err := checkURL("SLACK_API_URL", c.SlackAPIURL); err != nil {
		return err
	}
	if u, _ := url.Parse(c.SlackAPIURL); !safehttp.PlainHTTPAllowed(u) {
		return fmt.Errorf("SLACK_API_URL=%q: plain http would send the bot token in clear; use https (http only to a loopback address)", redact.URL(c.SlackAPIURL))
	}
	if c.ArgoCDURL != "" {
		if err := checkURL("ARGOCD_URL", c.ArgoCDURL); err != nil {
			return err
		}
	}
	if c.GateWave != "" {
		if _, err := strconv.ParseInt(c.GateWave, 10, 64); err != nil {
			return fmt.Errorf("GATE_WAVE=%q: not a whole number", c.GateWave)
		}
	}
	if c.GateRestarts < 1 {
		return fmt.Errorf("GATE_RESTARTS=%d: must be at least 1", c.GateRestarts)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"GATE_IMAGE_PULL_GRACE", c.GateImagePullGrace},
		{"GATE_CONFIG_ERROR_GRACE", c.GateConfigErrorGrace},
		{"GATE_UNSCHEDULABLE_GRACE", c.GateUnschedulableGrace},
	} {
		if d.v < 0 {
			return fmt.Errorf("%s=%s: must not be negative", d.name, d.v)
		}
	}
	if c.GateTimeout <= 0 {
		return fmt.Errorf("GATE_TIMEOUT=%s: must be positive", c.GateTimeout)
	}
	return nil
}

// validateCombination checks what needs several variables, or a file.
func (c *Config) validateCombination() error {
	if c.SlackToken != "" && c.SlackWebhookURL != "" {
		return errors.New("SLACK_TOKEN and SLACK_WEBHOOK_URL are both set: pick one transport")
	}
	switch c.Notifier {
	case "slack":
		if c.SlackToken == "" {
			return errors.New("NOTIFIER=slack needs SLACK_TOKEN or SLACK_TOKEN_FILE")
		}
	case "webhook":
		if c.SlackWebhookURL == "" {
			return errors.New("NOTIFIER=webhook needs SLACK_WEBHOOK_URL or SLACK_WEBHOOK_URL_FILE")
		}
	}
	if c.SlackToken != "" && c.SlackChannel == "" {
		return errors.New("SLACK_CHANNEL: required with SLACK_TOKEN (a bot posts to a channel)")
	}
	if c.ArgoCDServer != "" && c.ArgoCDKubeconfigFile != "" {
		return errors.New("ARGOCD_SERVER and ARGOCD_KUBECONFIG_FILE are both set: pick one way to read the Application")
	}
	if c.ArgoCDServer != "" && c.ArgoCDAuthToken == "" {
		return errors.New("ARGOCD_SERVER needs ARGOCD_AUTH_TOKEN or ARGOCD_AUTH_TOKEN_FILE")
	}
	if c.ArgoCDServer == "" && (c.ArgoCDAuthToken != "" || c.ArgoCDCAFile != "" || c.ArgoCDInsecure) {
		return errors.New("ARGOCD_AUTH_TOKEN, ARGOCD_CA_FILE and ARGOCD_INSECURE need ARGOCD_SERVER")
	}
	if c.NotifyCommitAuthor && c.ArgoCDServer == "" {
		return errors.New("NOTIFY_COMMIT_AUTHOR needs ARGOCD_SERVER: commit metadata comes from the Argo CD API")
	}
	if c.ArgoCDKubeconfigFile != "" {
		if _, err := os.Stat(c.ArgoCDKubeconfigFile); err != nil {
			return fmt.Errorf("ARGOCD_KUBECONFIG_FILE: %w", unwrapPathError(err))
		}
	}
	if err := c.validateEmailCombination(); err != nil {
		return err
	}
	if err := c.validateCommitStatusCombination(); err != nil {
		return err
	}
	if c.WebhookURL != "" && c.WebhookSecret == "" {
		return errors.New("WEBHOOK_SECRET: required with WEBHOOK_URL (the receiver checks the signature; WEBHOOK_SECRET_FILE names a mounted Secret)")
	}
	if c.WebhookURL == "" && (c.WebhookSecret != "" || c.WebhookHeadersFile != "") {
		return errors.New("WEBHOOK_SECRET and WEBHOOK_HEADERS_FILE need WEBHOOK_URL")
	}
	if c.PodName != "" && c.PodNamespace == "" {
		return errors.New("POD_NAMESPACE: required with POD_NAME (set both from the downward API)")
	}
	return nil
}

// NotifyVerdicts splits NOTIFY_ON.
func (c *Config) NotifyVerdicts() []string {
	var out []string
	for _, v := range strings.Split(c.NotifyOn, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// ReadMode says how the Application is read: "kubernetes" (the local API),
// "kubeconfig" (ARGOCD_KUBECONFIG_FILE) or "argocd-api" (ARGOCD_SERVER).
func (c *Config) ReadMode() string {
	switch {
	case c.ArgoCDServer != "":
		return "argocd-api"
	case c.ArgoCDKubeconfigFile != "":
		return "kubeconfig"
	}
	return "kubernetes"
}

// Transport returns the notifier that Notifier=auto resolves to.
func (c *Config) Transport() string {
	if c.Notifier != "auto" {
		return c.Notifier
	}
	switch {
	case c.SlackToken != "":
		return "slack"
	case c.SlackWebhookURL != "":
		return "webhook"
	}
	return "stdout"
}

// Usage prints the environment variable table for `hook --help`. It reads
// the struct tags itself: envconfig's Usage runs text/template, whose
// reflective method calls make the linker keep every method of every type
// in the binary (about 6 MB).
func Usage(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tDESCRIPTION")
	t := reflect.TypeOf(Config{})
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Tag.Get("envconfig"), f.Tag.Get("default"), f.Tag.Get("desc"))
	}
	return tw.Flush()
}

func (c *Config) readFiles() error {
	for _, f := range []struct {
		name, fileVar string
		path          string
		dst           *string
	}{
		{"SLACK_TOKEN", "SLACK_TOKEN_FILE", c.SlackTokenFile, &c.SlackToken},
		{"SLACK_WEBHOOK_URL", "SLACK_WEBHOOK_URL_FILE", c.SlackWebhookURLFile, &c.SlackWebhookURL},
		{"ARGOCD_AUTH_TOKEN", "ARGOCD_AUTH_TOKEN_FILE", c.ArgoCDAuthTokenFile, &c.ArgoCDAuthToken},
		{"SMTP_PASSWORD", "SMTP_PASSWORD_FILE", c.SMTPPasswordFile, &c.SMTPPassword},
		{"WEBHOOK_URL", "WEBHOOK_URL_FILE", c.WebhookURLFile, &c.WebhookURL},
		{"WEBHOOK_SECRET", "WEBHOOK_SECRET_FILE", c.WebhookSecretFile, &c.WebhookSecret},
		{"COMMIT_STATUS_GITHUB_TOKEN", "COMMIT_STATUS_GITHUB_TOKEN_FILE", c.CommitStatusGitHubTokenFile, &c.CommitStatusGitHubToken},
		{"COMMIT_STATUS_GITLAB_TOKEN", "COMMIT_STATUS_GITLAB_TOKEN_FILE", c.CommitStatusGitLabTokenFile, &c.CommitStatusGitLabToken},
	} {
		if f.path == "" {
			continue
		}
		if *f.dst != "" {
			return fmt.Errorf("%s and %s are both set: pick one", f.name, f.fileVar)
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			return fmt.Errorf("%s: %w", f.fileVar, unwrapPathError(err))
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return fmt.Errorf("%s: %s is empty", f.fileVar, f.path)
		}
		*f.dst = v
	}
	if c.WebhookHeadersFile != "" {
		b, err := os.ReadFile(c.WebhookHeadersFile)
		if err != nil {
			return fmt.Errorf("WEBHOOK_HEADERS_FILE: %w", unwrapPathError(err))
		}
		// Errors name the line, never the value: headers carry credentials.
		if c.webhookHeaders, err = notify.ParseHeaders(string(b)); err != nil {
			return fmt.Errorf("WEBHOOK_HEADERS_FILE: %s: %w", c.WebhookHeadersFile, err)
		}
	}
	if c.SMTPCAFile != "" {
		b, err := os.ReadFile(c.SMTPCAFile)
		if err != nil {
			return fmt.Errorf("SMTP_CA_FILE: %w", unwrapPathError(err))
		}
		c.smtpRootCAs = x509.NewCertPool()
		if !c.smtpRootCAs.AppendCertsFromPEM(b) {
			return fmt.Errorf("SMTP_CA_FILE: %s holds no PEM certificate", c.SMTPCAFile)
		}
	}
	return nil
}

// checkURL wants an absolute http(s) URL. The value is quoted without user
// info, query and fragment, which can hold a token, as the whole message can
// land in the pod's termination message.
func checkURL(name, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s=%q: not an http(s) URL", name, redact.URL(v))
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s %s: %w", pe.Op, pe.Path, pe.Err)
	}
	return err
}

func parseError(name, value, typeName string) error {
	kind := typeName
	switch kind {
	case "time.Duration":
		kind = "a duration (e.g. 90s, 2m)"
	case "bool":
		kind = "a boolean (true or false)"
	case "int":
		kind = "a whole number"
	}
	return fmt.Errorf("%s: cannot parse %q as %s", name, value, kind)
}
