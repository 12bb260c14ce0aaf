package recipients

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/syncreport/syncreport/internal/argocd"
)

func app(info []argocd.Info, user string, annotations map[string]string) *argocd.Application {
	a := &argocd.Application{Metadata: argocd.Metadata{Name: "web", Namespace: "argocd", Annotations: annotations}}
	a.Status.OperationState = &argocd.OperationState{Phase: "Running"}
	a.Status.OperationState.Operation.Info = info
	a.Status.OperationState.Operation.InitiatedBy.Username = user
	return a
}

func values(rs []Recipient) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s:%s%v", r.Kind, r.Value, r.Sources))
	}
	return out
}

func TestCollect(t *testing.T) {
	tests := []struct {
		name    string
		app     *argocd.Application
		verdict string
		s       Settings
		want    []string
	}{
		{"nothing configured", app(nil, "", nil), "succeeded", Settings{}, nil},
		{"configured channel only", app(nil, "", nil), "succeeded", Settings{Channel: "#deploys"},
			[]string{"channel:#deploys[SLACK_CHANNEL]"}},
		{"info notify list with every form", app([]argocd.Info{{Name: "notify", Value: " alice@example.com, @bob ,#team-web,U0123ABCD,C0456EFGH"}, {Name: "pipeline", Value: "https://ci/1"}}, "", nil),
			"succeeded", Settings{},
			[]string{"user:alice@example.com[info:notify]", "user:@bob[info:notify]", "channel:#team-web[info:notify]",
				"user:U0123ABCD[info:notify]", "channel:C0456EFGH[info:notify]"}},
		{"SSO user who synced", app(nil, "carol@example.com", nil), "succeeded", Settings{},
			[]string{"user:carol@example.com[initiatedBy]"}},
		{"local user is not an email", app(nil, "admin", nil), "succeeded", Settings{}, nil},
		{"duplicates merge their sources, emails case-insensitively", app([]argocd.Info{{Name: "notify", Value: "Alice@Example.com"}}, "alice@example.com",
			map[string]string{AnnotationNotify: "alice@example.com,#deploys"}), "failed", Settings{Channel: "#deploys"},
			[]string{"user:Alice@Example.com[info:notify initiatedBy annotation:syncreport.dev/notify]",
				"channel:#deploys[annotation:syncreport.dev/notify SLACK_CHANNEL]"}},
		{"per-verdict annotation applies to its verdict", app(nil, "", map[string]string{AnnotationNotify + ".failed": "#incidents", AnnotationNotify + ".succeeded": "#wins"}),
			"failed", Settings{}, []string{"channel:#incidents[annotation:syncreport.dev/notify.failed]"}},
		{"failure channel only for failures", app(nil, "", nil), "succeeded", Settings{Channel: "#deploys", ChannelFailed: "#incidents"},
			[]string{"channel:#deploys[SLACK_CHANNEL]"}},
		{"failure channel in addition", app(nil, "", nil), "degraded", Settings{Channel: "#deploys", ChannelFailed: "#incidents"},
			[]string{"channel:#deploys[SLACK_CHANNEL]", "channel:#incidents[SLACK_CHANNEL_FAILED]"}},
		{"configured channel without # or as an ID", app(nil, "", nil), "failed", Settings{Channel: "deploys", ChannelFailed: "C0INCIDENT"},
			[]string{"channel:deploys[SLACK_CHANNEL]", "channel:C0INCIDENT[SLACK_CHANNEL_FAILED]"}},
		{"empty entries are ignored", app([]argocd.Info{{Name: "notify", Value: ", ,"}}, "", map[string]string{AnnotationNotify: ""}), "failed", Settings{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := values(Collect(tt.app, tt.verdict, tt.s))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	calls := map[string]int{}
	lookup := func(scope bool) Lookup {
		return func(_ context.Context, e string) (string, error) {
			calls[e]++
			switch {
			case !scope:
				return "", fmt.Errorf("users.lookupByEmail: %w", ErrMissingScope)
			case e == "alice@example.com":
				return "UALICE01", nil
			case e == "flaky@example.com":
				return "", errors.New("slack users.lookupByEmail: gave up after 3 attempts")
			}
			return "", fmt.Errorf("users.lookupByEmail: %w", ErrUserNotFound)
		}
	}
	a := app([]argocd.Info{{Name: "notify", Value: "alice@example.com,ghost@example.com,flaky@example.com,U0999ZZZZ,@bob"}}, "alice@example.com", nil)

	rs := Collect(a, "failed", Settings{})
	Resolve(context.Background(), rs, lookup(true), nil)
	got := map[string]string{}
	for _, r := range rs {
		got[r.Value] = r.Mention()
	}
	want := map[string]string{"alice@example.com": "<@UALICE01>", "ghost@example.com": "ghost@example.com",
		"flaky@example.com": "flaky@example.com", "U0999ZZZZ": "<@U0999ZZZZ>", "@bob": "@bob"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mentions %v; want %v", got, want)
	}
	if calls["alice@example.com"] != 1 {
		t.Errorf("alice looked up %d times; want once", calls["alice@example.com"])
	}
	if rs[1].Note != ErrUserNotFound.Error() {
		t.Errorf("unknown user note %q", rs[1].Note)
	}

	// A token without users:read.email: one lookup, then plain text for all.
	clear(calls)
	rs = Collect(a, "failed", Settings{})
	Resolve(context.Background(), rs, lookup(false), nil)
	if n := calls["alice@example.com"] + calls["ghost@example.com"] + calls["flaky@example.com"]; n != 1 {
		t.Errorf("%d lookups after missing_scope; want 1", n)
	}
	for _, r := range rs[:3] {
		if r.SlackID != "" || r.Note != ErrMissingScope.Error() {
			t.Errorf("%s: id %q note %q", r.Value, r.SlackID, r.Note)
		}
	}
}

func TestChannelsAndUsers(t *testing.T) {
	rs := Collect(app([]argocd.Info{{Name: "notify", Value: "#a,C0123ABCD,alice@example.com"}}, "", nil), "failed", Settings{Channel: "#deploys"})
	if got := Channels(rs); !reflect.DeepEqual(got, []string{"#a", "C0123ABCD", "#deploys"}) {
		t.Errorf("channels %q", got)
	}
	if got := Users(rs); len(got) != 1 || got[0].Value != "alice@example.com" {
		t.Errorf("users %v", got)
	}
}
