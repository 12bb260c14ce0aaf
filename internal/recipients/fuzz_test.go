package recipients

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/syncreport/syncreport/internal/argocd"
)

// FuzzCollect feeds arbitrary --info, initiator, annotation and channel
// strings to Collect: never a panic; every recipient is trimmed, non-empty,
// has a source and a valid UTF-8 mention; no two recipients share a
// lower-cased value; and Channels and Users split the list between them.
func FuzzCollect(f *testing.F) {
	f.Add("alice@example.com,#team-web", "bob@example.com", "oncall@example.com", "#incidents", "#deploys", "#deploys-failed", "failed")
	f.Add("ALICE@example.com, alice@example.com ,,", "alice@EXAMPLE.com", "U0123ABCD,u0123abcd", "C0123ABCD", "C0123ABCD", "c0123abcd", "degraded")
	f.Add("@handle,W0123ABCD,G0123ABCD,D0123ABCD", "admin", " , ", "not an email", "", "#x", "succeeded")
	f.Add("a@b.c\u212a,a@b.ck", "\xff@example.com", "\u0130@x.io,i\u0307@x.io", "#\xfe", "\xff", "#K", "progressing")
	f.Fuzz(func(t *testing.T, info, initiator, annotation, perVerdict, channel, channelFailed, verdict string) {
		app := func(clean func(string) string) *argocd.Application {
			a := &argocd.Application{Status: argocd.Status{OperationState: &argocd.OperationState{
				Operation: argocd.Operation{
					InitiatedBy: argocd.InitiatedBy{Username: clean(initiator)},
					Info:        []argocd.Info{{Name: "pipeline", Value: clean(info)}, {Name: "NOTIFY", Value: clean(info)}},
				},
			}}}
			a.Metadata.Annotations = map[string]string{
				AnnotationNotify:                        clean(annotation),
				AnnotationNotify + "." + clean(verdict): clean(perVerdict),
			}
			return a
		}
		// Any bytes at all: no panic, no duplicates.
		check(t, Collect(app(func(s string) string { return s }), verdict, Settings{Channel: channel, ChannelFailed: channelFailed}), false)
		// What the Kubernetes API can deliver: encoding/json makes every
		// string valid UTF-8 on the way in.
		valid := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
		check(t, Collect(app(valid), valid(verdict), Settings{Channel: valid(channel), ChannelFailed: valid(channelFailed)}), true)
	})
}

func check(t *testing.T, rs []Recipient, utf8Input bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range rs {
		key := strings.ToLower(r.Value)
		if seen[key] {
			t.Fatalf("duplicate recipient %q in %+v", r.Value, rs)
		}
		seen[key] = true
		if len(r.Sources) == 0 {
			t.Fatalf("recipient %q has no source", r.Value)
		}
		if r.Value == "" || r.Value != strings.TrimSpace(r.Value) {
			t.Fatalf("recipient %q is not trimmed", r.Value)
		}
		// Lists are split on commas; only the configured channels are taken whole.
		if strings.Contains(r.Value, ",") && !slices.Contains(r.Sources, "SLACK_CHANNEL") && !slices.Contains(r.Sources, "SLACK_CHANNEL_FAILED") {
			t.Fatalf("recipient %q from %v is not one list entry", r.Value, r.Sources)
		}
		if utf8Input && !utf8.ValidString(r.Mention()) {
			t.Fatalf("mention %q is not valid UTF-8", r.Mention())
		}
		if r.Kind != User && r.Kind != Channel {
			t.Fatalf("recipient %q of kind %q", r.Value, r.Kind)
		}
	}
	if got := len(Channels(rs)) + len(Users(rs)); got != len(rs) {
		t.Fatalf("Channels and Users hold %d of %d recipients", got, len(rs))
	}
}
