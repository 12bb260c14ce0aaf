// Package report turns an Application (plus, optionally, a diagnosis of its
// live objects) into a Report, and renders a Report as text, JSON or a Slack
// message. Everything here is a pure function: no I/O, so it is table- and
// fuzz-tested without a cluster.
package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"time"

	"github.com/syncreport/syncreport/internal/recipients"
)

// Verdict is what really happened to the rollout.
type Verdict string

// The verdicts, from the point of view of the person who deployed.
const (
	Succeeded   Verdict = "succeeded"
	Failed      Verdict = "failed"
	Degraded    Verdict = "degraded"
	Progressing Verdict = "progressing"
	Unknown     Verdict = "unknown"
)

// Report is the model every renderer draws from. Its JSON form (`hook render
// --format json`) is a stable contract: fields are only ever added, and every
// list is a JSON list, empty or not, never null or absent (MarshalJSON), so
// that `jq '.recipients[]'` works on any report.
type Report struct {
	Verdict     Verdict     `json:"verdict"`
	Summary     string      `json:"summary"`
	App         AppRef      `json:"app"`
	Hook        string      `json:"hook,omitempty"`
	Phase       string      `json:"phase,omitempty"`
	Message     string      `json:"message,omitempty"`
	Health      string      `json:"health,omitempty"`
	Sync        string      `json:"sync,omitempty"`
	Destination Destination `json:"destination"`
	Revisions   []string    `json:"revisions"`
	Sources     []string    `json:"sources"`
	InitiatedBy string      `json:"initiatedBy,omitempty"`
	Automated   bool        `json:"automated"`
	Info        []Info      `json:"info"`
	StartedAt   *time.Time  `json:"startedAt,omitempty"`
	FinishedAt  *time.Time  `json:"finishedAt,omitempty"`
	// DurationSeconds runs from startedAt to finishedAt, or to the time the
	// report was made while the operation is still running (hooks).
	DurationSeconds float64 `json:"durationSeconds,omitempty"`
	Attempt         int64   `json:"attempt"`
	// MaxAttempts is 0 when Argo CD retries without limit.
	MaxAttempts int64    `json:"maxAttempts"`
	WillRetry   bool     `json:"willRetry"`
	Images      []string `json:"images"`
	// Commit is the synced revision's metadata, when read from the Argo CD API.
	Commit   *Commit   `json:"commit,omitempty"`
	Failures []Failure `json:"failures"`
	// Recipients are the people and channels that hear about it; set by the
	// caller (recipients.Collect), resolved against Slack when sending.
	Recipients []recipients.Recipient `json:"recipients"`
	// Partial is set when the live diagnosis could not look at everything.
	Partial bool   `json:"partial,omitempty"`
	URL     string `json:"url,omitempty"`
	// Settings are the effective settings by variable name, each with the
	// layer it came from (hook render only; a secret's value is "set" or
	// "unset"). Absent from the hook's own reports and webhook posts.
	Settings map[string]Setting `json:"settings,omitempty"`
}

// Setting is one effective setting and its source: "default", "env",
// "configmap argocd/syncreport-settings", "annotation syncreport.dev/channel"…
type Setting struct {
	Value  string `json:"value"`
	Source string `json:"source"`
	Secret bool   `json:"secret,omitempty"`
}

// AppRef names the Application.
type AppRef struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Project   string `json:"project"`
}

// Destination is the cluster and namespace the app deploys to.
type Destination struct {
	Server    string `json:"server,omitempty"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// Info is an `argocd app sync --info` entry.
type Info struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Failure is one resource, hook or condition that went wrong, with Argo CD's
// message and, when the live objects were read, the cause found there.
type Failure struct {
	Group     string `json:"group"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	HookType  string `json:"hookType,omitempty"`
	Health    string `json:"health,omitempty"`
	Message   string `json:"message"`
	Cause     string `json:"cause,omitempty"`
	// Logs are the last lines of the crashed container (HOOK_LOG_LINES).
	Logs []string `json:"logs"`
}

// Commit describes the synced revision (Argo CD API revision metadata).
type Commit struct {
	Revision string     `json:"revision"`
	Author   string     `json:"author"`
	Subject  string     `json:"subject"`
	Date     *time.Time `json:"date,omitempty"`
}

// MarshalJSON writes the report with every nil list, at any depth (a
// failure's logs, a recipient's sources), as []: Go encodes a nil slice as
// null, and callers such as recipients.Collect return nil for "none".
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report // without this method, so no recursion
	v := reflect.ValueOf(plain(r))
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as JSON's encoder: "<" stays "<", not \u003c
	if err := enc.Encode(withLists(v).Interface()); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// withLists returns a copy of v with nil slices made empty, copying the
// slices and pointed-to structs it changes, so the caller's report is left
// as it was.
func withLists(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v // []byte is a string in JSON
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(withLists(v.Index(i)))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(withLists(v.Elem()))
		return p
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if f := out.Field(i); f.CanSet() {
				f.Set(withLists(f))
			}
		}
		return out
	}
	return v
}
