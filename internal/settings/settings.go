// Package settings layers the hook's settings, lowest to highest: built-in
// defaults < the central ConfigMap/Secret in the Argo CD namespace < the
// hook Job's own environment < the Application's routing annotations; and
// says where each effective value came from. Resolving is pure: reading the
// central objects (Read) and reporting what was wrong with them (Warn) are
// the only I/O, in their own files.
//
// One rule for mistakes: a bad central value is the platform team's, shared
// by every app, so it is ignored (the next lower layer wins) and reported as
// a Problem, never failing a sync; a bad value of the Job's environment or
// of an annotation is the app's own and fails this app's run as before.
package settings

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/redact"
)

// Sources of a value, besides the central objects' (Object.Source) and
// annotations' ("annotation syncreport.dev/channel").
const (
	SourceDefault = "default"
	SourceEnv     = "env"
)

// Annotations maps each routing annotation of an Application to the setting
// it overrides. Routing only: never a credential, an API base URL or a mail
// server, which an app team could point at a host of its choosing.
var Annotations = map[string]string{
	"syncreport.dev/channel":        "SLACK_CHANNEL",
	"syncreport.dev/channel-failed": "SLACK_CHANNEL_FAILED",
	"syncreport.dev/notify-on":      "NOTIFY_ON",
	"syncreport.dev/retry-notify":   "RETRY_NOTIFY",
	"syncreport.dev/email-to":       "EMAIL_TO",
	"syncreport.dev/dm":             "SLACK_DM",
}

// credentialSets are taken whole from one layer: when the Job's environment
// gives any credential of a set, the central credentials of that set are
// not used, so a team's own webhook never meets the central bot token. The
// same holds when it gives an endpoint the credentials are sent to (an API
// base URL, a mail server, Git hosts with their API URLs): the fleet's
// token must not follow an app's Job to a server of the app's choosing.
var credentialSets = []struct{ credentials, endpoints []string }{
	{[]string{"SLACK_TOKEN", "SLACK_WEBHOOK_URL"}, []string{"SLACK_API_URL"}},
	{[]string{"SMTP_PASSWORD"}, []string{"SMTP_HOST"}},
	{[]string{"WEBHOOK_URL", "WEBHOOK_SECRET"}, nil},
	{[]string{"COMMIT_STATUS_GITHUB_TOKEN"}, []string{"COMMIT_STATUS_GITHUB_HOSTS"}},
	{[]string{"COMMIT_STATUS_GITLAB_TOKEN"}, []string{"COMMIT_STATUS_GITLAB_HOSTS"}},
}

// Object is a central ConfigMap or Secret as read.
type Object struct {
	Kind            string // "ConfigMap" or "Secret"
	Namespace, Name string
	UID             string
	ResourceVersion string
	Data            map[string]string
}

// Source names the object as the provenance of a value and in messages:
// "configmap argocd/syncreport-settings".
func (o *Object) Source() string {
	return strings.ToLower(o.Kind) + " " + o.Namespace + "/" + o.Name
}

// Central is what was read from the Argo CD namespace; a nil object was not
// read (absent, forbidden, not configured, or the Argo CD API mode).
type Central struct {
	ConfigMap *Object
	Secret    *Object
}

// Problem is one central value that was ignored. Its message never holds a
// value of the Secret.
type Problem struct {
	Object *Object
	Key    string
	Err    error
}

func (p Problem) Error() string {
	// "key NOTIFY_ON: unknown verdict…", not "key NOTIFY_ON: NOTIFY_ON: …".
	return fmt.Sprintf("%s key %s: %s", p.Object.Source(), p.Key, strings.TrimPrefix(p.Err.Error(), p.Key+": "))
}

// Setting is the effective value of one variable and where it came from.
// A secret's value is "set" or "unset", never the secret.
type Setting struct {
	Value  string `json:"value"`
	Source string `json:"source"`
	Secret bool   `json:"secret,omitempty"`
}

// Resolved is the outcome of Resolve.
type Resolved struct {
	Config *config.Config
	// Settings holds every variable by name.
	Settings map[string]Setting
	// Problems are the central values that were ignored, in a stable order.
	Problems []Problem
	// Unused says which central credentials the Job's environment set
	// aside (it gives credentials or an endpoint of their set of its own),
	// one line each for the log: not a mistake, but a report that stops
	// reaching Slack must say why.
	Unused []string
}

// entry is a value in a layer; obj is the central object it came from.
type entry struct {
	value, source string
	obj           *Object
}

// Resolve layers the settings. env is the Job's environment (os.LookupEnv);
// annotations are the Application's. Its error is the app's own mistake (a
// bad environment value or annotation, or a combination the central layer
// did not cause), named in one line; central mistakes become Problems.
func Resolve(env func(string) (string, bool), central Central, annotations map[string]string) (*Resolved, error) {
	vars := config.Vars()
	// The app's own layers first: their mistakes are errors.
	if _, err := Env(env); err != nil {
		return nil, err
	}
	own := map[string]entry{}
	for _, v := range vars {
		if s, ok := env(v.Name); ok {
			own[v.Name] = entry{value: s, source: SourceEnv}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(Annotations)) {
		s := strings.TrimSpace(annotations[key])
		if s == "" {
			continue
		}
		name := Annotations[key]
		if err := config.CheckVariable(name, s); err != nil {
			return nil, fmt.Errorf("annotation %s: %w", key, err)
		}
		own[name] = entry{value: s, source: "annotation " + key}
	}

	res := &Resolved{}
	shared := centralLayer(vars, central, &res.Problems)
	for _, set := range credentialSets {
		by := envGiven(env, set.credentials)
		if by == "" {
			by = envGiven(env, set.endpoints)
		}
		if by == "" {
			continue
		}
		for _, name := range set.credentials {
			if e, ok := shared[name]; ok {
				res.Unused = append(res.Unused, fmt.Sprintf("%s of %s not used: the hook Job's environment sets %s", name, e.source, by))
				delete(shared, name)
			}
		}
	}

	cfg, err := resolveCombination(own, shared, &res.Problems)
	if err != nil {
		if len(res.Unused) > 0 {
			// "SMTP_USERNAME needs SMTP_PASSWORD" must say where the
			// central password went.
			return nil, fmt.Errorf("%w (central credential %s)", err, strings.Join(res.Unused, "; "))
		}
		return nil, err
	}
	res.Config = cfg
	res.Settings = provenance(vars, own, shared, env)
	return res, nil
}

// Env parses the Job's environment alone and checks each value on its own,
// not the combinations, which the central layer may complete (a token here,
// its channel there). It is what the hook knows before it can read the
// central settings: enough to build the clients that read them.
func Env(env func(string) (string, bool)) (*config.Config, error) {
	cfg, err := config.FromLookup(env)
	if err != nil {
		return nil, err
	}
	for _, v := range config.Vars() {
		if s, ok := env(v.Name); ok {
			if err := config.CheckVariable(v.Name, s); err != nil {
				return nil, err
			}
		}
	}
	return cfg, nil
}

// centralLayer keeps the central values that may be there and parse,
// recording a Problem for each other one. An empty value counts as absent:
// a chart may render every key, set or not.
func centralLayer(vars []config.Var, c Central, problems *[]Problem) map[string]entry {
	byName := map[string]config.Var{}
	for _, v := range vars {
		byName[v.Name] = v
	}
	out := map[string]entry{}
	for _, o := range []*Object{c.ConfigMap, c.Secret} {
		if o == nil {
			continue
		}
		secret := o.Kind == "Secret"
		for _, key := range slices.Sorted(maps.Keys(o.Data)) {
			s := strings.TrimSpace(o.Data[key])
			if s == "" {
				continue
			}
			v, known := byName[key]
			var err error
			switch {
			case !known:
				err = fmt.Errorf("not a setting of the hook (see hook --help)")
			case !v.Central:
				err = fmt.Errorf("not allowed in the central settings: it is set per app (the hook Job's environment)")
			case v.Secret && !secret:
				err = fmt.Errorf("a credential: put it in the Secret, not the ConfigMap (value not shown)")
			case !v.Secret && secret:
				err = fmt.Errorf("not a credential: put it in the ConfigMap")
			default:
				err = config.CheckVariable(key, s)
			}
			if err != nil {
				if secret || v.Secret {
					err = redacted{err, s}
				}
				*problems = append(*problems, Problem{o, key, err})
				continue
			}
			out[key] = entry{value: s, source: o.Source(), obj: o}
		}
		if secret {
			// Both transports in one Secret: which one was meant is unknown.
			tok, hook := out["SLACK_TOKEN"], out["SLACK_WEBHOOK_URL"]
			if tok.value != "" && hook.value != "" {
				*problems = append(*problems, Problem{o, "SLACK_WEBHOOK_URL",
					fmt.Errorf("SLACK_TOKEN and SLACK_WEBHOOK_URL are both set: pick one transport (both ignored)")})
				delete(out, "SLACK_TOKEN")
				delete(out, "SLACK_WEBHOOK_URL")
			}
		}
	}
	return out
}

// resolveCombination merges the layers and validates the result. When the
// merged settings fail, the central values to blame are the fewest whose
// removal makes them valid: one, else two (two unrelated mistakes, such as
// a token without a channel and a mail server without a sender), else all
// of them if the app's own settings are valid alone. Each is dropped from
// shared with a Problem. Otherwise the mistake is the app's own: an error.
func resolveCombination(own, shared map[string]entry, problems *[]Problem) (*config.Config, error) {
	cfg, err := load(own, shared)
	if err == nil || len(shared) == 0 {
		return cfg, err
	}
	keys := slices.Sorted(maps.Keys(shared))
	var blames [][]string
	for i := range keys {
		blames = append(blames, []string{keys[i]})
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			blames = append(blames, []string{keys[i], keys[j]})
		}
	}
	for _, blame := range blames {
		if cfg, e := load(own, without(shared, blame...)); e == nil {
			for _, k := range blame {
				// Each with its own error: the settings with only k of the
				// blamed values.
				_, kerr := load(own, without(shared, slices.DeleteFunc(slices.Clone(blame), func(b string) bool { return b == k })...))
				if kerr == nil {
					kerr = err
				}
				*problems = append(*problems, problemOf(shared[k], k, kerr))
			}
			for _, k := range blame {
				delete(shared, k)
			}
			return cfg, nil
		}
	}
	cfg, e := load(own, nil)
	if e != nil {
		return nil, e // the app's own settings are wrong on their own
	}
	for _, k := range keys {
		*problems = append(*problems, problemOf(shared[k], k, err))
		delete(shared, k)
	}
	return cfg, nil
}

// without is shared less the keys.
func without(shared map[string]entry, keys ...string) map[string]entry {
	out := maps.Clone(shared)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func problemOf(e entry, key string, err error) Problem {
	if e.obj.Kind == "Secret" {
		err = redacted{err, e.value}
	}
	return Problem{e.obj, key, err}
}

// pick is the layering rule for one variable: the app's own non-empty
// value, else the central one, else the app's own empty one (an empty
// variable in a Job's environment, as charts render, hides no central
// value), else unset (the default).
func pick(name string, own, shared map[string]entry) (entry, bool) {
	e, ok := own[name]
	if ok && e.value != "" {
		return e, true
	}
	if c, found := shared[name]; found {
		return c, true
	}
	return e, ok
}

func load(own, shared map[string]entry) (*config.Config, error) {
	cfg, err := config.FromLookup(func(name string) (string, bool) {
		e, ok := pick(name, own, shared)
		return e.value, ok
	})
	if err != nil {
		return nil, err
	}
	return cfg, cfg.Validate()
}

// envGiven is the first of names the environment sets (not empty),
// directly or through its *_FILE, or "".
func envGiven(env func(string) (string, bool), names []string) string {
	for _, n := range names {
		if s, _ := env(n); s != "" {
			return n
		}
		if s, _ := env(n + "_FILE"); s != "" {
			return n + "_FILE"
		}
	}
	return ""
}

func provenance(vars []config.Var, own, shared map[string]entry, env func(string) (string, bool)) map[string]Setting {
	out := map[string]Setting{}
	for _, v := range vars {
		e, ok := pick(v.Name, own, shared)
		if !ok {
			e = entry{value: v.Default, source: SourceDefault}
		}
		if p, _ := env(v.Name + "_FILE"); p != "" {
			e = entry{value: "set", source: SourceEnv + " " + v.Name + "_FILE"}
		}
		s := Setting{Value: e.value, Source: e.source, Secret: v.Secret}
		if strings.HasSuffix(v.Name, "_URL") && e.value != "" {
			// A proxy's URL can carry a token (https://u:token@proxy/?t=…).
			s.Value = redact.URL(e.value)
		}
		if v.Secret {
			s.Value = "unset"
			if e.value != "" {
				s.Value = "set"
			}
		}
		out[v.Name] = s
	}
	return out
}

// redacted hides a secret value in an error about it, whatever the error
// says: validation errors avoid quoting secrets, and this makes sure.
type redacted struct {
	err   error
	value string
}

func (r redacted) Error() string {
	// A value of a few characters cannot be told from the message's own
	// words; the messages quote no secret anyway (canary tests).
	if len(r.value) < 4 {
		return r.err.Error()
	}
	return strings.ReplaceAll(r.err.Error(), r.value, "[redacted]")
}
