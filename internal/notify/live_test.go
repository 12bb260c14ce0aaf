package notify

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/slacktest"
)

const liveChannel = "C0DEPLOYS"

// liveRun is one hook run's contribution: attempt n of the operation op.
func liveRun(app string, op time.Time, attempt int64, stage, verdict string, final bool) LiveMessage {
	lm := LiveMessage{
		App: app, Operation: op.UTC().Format(time.RFC3339), Attempt: attempt, Stage: stage, Verdict: verdict, Since: op,
		Top: Message{Channel: liveChannel, Text: fmt.Sprintf("%s %s (attempt %d)", app, verdict, attempt)},
	}
	if stage == StageReport {
		lm.Reply = &Message{Text: fmt.Sprintf("attempt %d: %s", attempt, verdict)}
		lm.Broadcast = final
	}
	return lm
}

type liveEnv struct {
	s    *slacktest.Server
	bot  *Bot
	logs *bytes.Buffer
	log  *slog.Logger
	mu   sync.Mutex
	r    Retrier
}

func newLiveEnv(t *testing.T) *liveEnv {
	s := slacktest.Start(t)
	s.SetValidToken(dedupToken)
	b, err := NewBot(dedupToken, s.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &liveEnv{s: s, bot: b, logs: &bytes.Buffer{}, r: dedupRetrier}
	e.log = slog.New(slog.NewTextHandler(lockedWriter{e}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return e
}

type lockedWriter struct{ e *liveEnv }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	return w.e.logs.Write(p)
}

func (e *liveEnv) run(t *testing.T, lm LiveMessage) LiveResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := e.bot.DeliverLive(ctx, e.r, lm, e.log)
	if err != nil {
		t.Fatalf("DeliverLive: %v\n%s", err, e.logs)
	}
	return res
}

func (e *liveEnv) warnings() int { return strings.Count(e.logs.String(), "level=WARN") }

// TestLiveLifecycle: a sync that fails, is retried and fails for good keeps
// one message whose text follows the attempts, with one reply per attempt
// and the final one broadcast; the next operation gets a message of its own.
func TestLiveLifecycle(t *testing.T) {
	e := newLiveEnv(t)
	op := time.Now().Add(-time.Minute)
	e.run(t, liveRun("argocd/web", op, 1, StageStarted, "progressing", false))
	for n := int64(1); n <= 3; n++ {
		res := e.run(t, liveRun("argocd/web", op, n, StageReport, "failed", n == 3))
		if res.Posted || !res.Updated || !res.Replied {
			t.Errorf("attempt %d: %+v, want updated and replied", n, res)
		}
	}
	top := e.s.TopLevel(liveChannel)
	if len(top) != 1 {
		t.Fatalf("%d top-level messages, want 1: %+v", len(top), top)
	}
	if top[0].Text != "argocd/web failed (attempt 3)" || top[0].Edits != 3 {
		t.Errorf("top: %q after %d edits", top[0].Text, top[0].Edits)
	}
	if p := top[0].MetadataPayload(); p["attempt"] != float64(3) || p["stage"] != StageReport || p["verdict"] != "failed" {
		t.Errorf("top metadata %v", p)
	}
	thread := e.s.Thread(liveChannel, top[0].TS)
	if len(thread) != 3 {
		t.Fatalf("%d replies, want 3", len(thread))
	}
	for i, r := range thread {
		if want := i == 2; r.Broadcast != want {
			t.Errorf("reply %d broadcast %v, want %v", i+1, r.Broadcast, want)
		}
	}
	// A late gate of attempt 1 leaves the report alone and adds nothing.
	if res := e.run(t, liveRun("argocd/web", op, 1, StageStarted, "progressing", false)); !res.Skipped || res.Updated {
		t.Errorf("late started message: %+v", res)
	}
	// A new operation, a new message; other apps' messages are not it.
	e.run(t, liveRun("argocd/api", op, 1, StageReport, "succeeded", false))
	next := op.Add(30 * time.Second)
	if res := e.run(t, liveRun("argocd/web", next, 1, StageReport, "succeeded", false)); !res.Posted {
		t.Errorf("new operation: %+v, want a new message", res)
	}
	if n := len(e.s.TopLevel(liveChannel)); n != 3 {
		t.Errorf("%d top-level messages, want 3", n)
	}
	if e.warnings() != 0 {
		t.Errorf("warnings:\n%s", e.logs)
	}
	if len(e.s.RequestsTo(slacktest.EndpointDelete)) != 0 {
		t.Error("deleted a message without a race")
	}
}

// TestLiveFallbacks: whenever the message cannot be found or updated, a new
// one is posted with one warning, and the report is never lost.
func TestLiveFallbacks(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *liveEnv, op time.Time)
		// wantTop is the number of top-level messages at the end; wantWarn
		// the text of the single warning.
		wantTop  int
		wantWarn string
	}{
		{"history scope missing", func(e *liveEnv, op time.Time) {
			e.s.Always(slacktest.EndpointHistory, slacktest.MissingScope("channels:history"))
		}, 2, "missing_scope"},
		{"history rate-limited", func(e *liveEnv, op time.Time) {
			e.s.Always(slacktest.EndpointHistory, slacktest.Fault{RetryAfter: 30})
		}, 2, "ratelimited"},
		{"message deleted meanwhile", func(e *liveEnv, op time.Time) {
			e.s.Fail(slacktest.EndpointUpdate, slacktest.Fault{OKFalse: "message_not_found"})
		}, 2, "message_not_found"},
		{"cant_update_message", func(e *liveEnv, op time.Time) {
			e.s.Fail(slacktest.EndpointUpdate, slacktest.Fault{OKFalse: "cant_update_message"})
		}, 2, "cant_update_message"},
		{"edit window closed", func(e *liveEnv, op time.Time) {
			e.s.SetEditWindow(time.Nanosecond)
		}, 2, "edit_window_closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLiveEnv(t)
			op := time.Now().Add(-time.Minute)
			e.run(t, liveRun("argocd/web", op, 1, StageReport, "failed", false))
			tt.setup(e, op)
			res := e.run(t, liveRun("argocd/web", op, 2, StageReport, "failed", true))
			if !res.Posted || !res.Replied || res.Fallback == "" {
				t.Errorf("result %+v, want a new message with its reply", res)
			}
			top := e.s.TopLevel(liveChannel)
			if len(top) != tt.wantTop || top[len(top)-1].Text != "argocd/web failed (attempt 2)" {
				t.Errorf("top-level: %+v", top)
			}
			if n := len(e.s.Thread(liveChannel, res.TS)); n != 1 {
				t.Errorf("%d replies under the new message, want 1", n)
			}
			if w := e.warnings(); w != 1 || !strings.Contains(e.logs.String(), tt.wantWarn) {
				t.Errorf("%d warnings, want 1 naming %s:\n%s", w, tt.wantWarn, e.logs)
			}
		})
	}
}

// TestLiveHostileMetadata: another app's messages carrying our event type
// and this sync's exact app and operation are never updated, never hold our
// thread, and never stop us from posting; near misses are ignored.
func TestLiveHostileMetadata(t *testing.T) {
	e := newLiveEnv(t)
	op := time.Now().Add(-time.Minute)
	operation := op.UTC().Format(time.RFC3339)
	for _, md := range []string{
		`{"event_type":"syncreport_report","event_payload":{"app":"argocd/web","operation":"` + operation + `","attempt":999,"stage":"report"}}`,
		`{"event_type":"syncreport_report","event_payload":{"app":"argocd/web","operation":"` + operation + `","attempt":1}}`,
		`{"event_type":"syncreport_report","event_payload":{"app":["argocd/web"],"operation":"` + operation + `"}}`,
		`{"event_type":"syncreport_report","event_payload":{"app":"argocd/web ","operation":"` + operation + `"}}`,
		`{"event_type":"syncreport_report","event_payload":"<!channel>"}`,
	} {
		e.s.Inject("B0HOSTILE", slacktest.Post{Channel: liveChannel, Text: "<!channel> click <https://evil.example|here>", Metadata: []byte(md)})
	}
	res := e.run(t, liveRun("argocd/web", op, 2, StageReport, "failed", false))
	if !res.Posted || res.Skipped {
		t.Errorf("result %+v, want our own message", res)
	}
	for _, p := range e.s.TopLevel(liveChannel) {
		if p.BotID == "B0HOSTILE" && (p.Edits != 0 || len(e.s.Thread(liveChannel, p.TS)) != 0) {
			t.Errorf("another app's message was updated or got our reply: %+v", p)
		}
	}
	// The next run finds ours, not theirs, and says it did not fall back.
	if res := e.run(t, liveRun("argocd/web", op, 3, StageReport, "failed", true)); !res.Updated || res.Fallback != "" {
		t.Errorf("next run: %+v, want our message updated\n%s", res, e.logs)
	}
}

// TestLiveRace: the gate and a report of one sync (or any two runs) that
// both find nothing and both post converge on one message: the later
// poster deletes its own and uses the older one.
func TestLiveRace(t *testing.T) {
	e := newLiveEnv(t)
	e.r.AttemptTimeout = 5 * time.Second
	op := time.Now().Add(-time.Minute)
	// Both first reads answer as before either posted: neither sees the
	// other's post.
	empty := slacktest.Fault{Delay: 500 * time.Millisecond, Status: 200, Body: `{"ok":true,"messages":[],"has_more":false}`}
	e.s.Fail(slacktest.EndpointHistory, empty, empty)
	var wg sync.WaitGroup
	for _, lm := range []LiveMessage{
		liveRun("argocd/web", op, 1, StageStarted, "progressing", false),
		liveRun("argocd/web", op, 1, StageReport, "failed", true),
	} {
		wg.Go(func() { e.run(t, lm) })
	}
	wg.Wait()
	posted := 0
	for _, r := range e.s.RequestsTo(slacktest.EndpointPostMessage) {
		if r.JSON["thread_ts"] == nil {
			posted++
		}
	}
	if posted != 2 || len(e.s.RequestsTo(slacktest.EndpointDelete)) != 1 {
		t.Fatalf("%d top-level posts and %d deletes, want 2 and 1 (a race, merged):\n%s", posted, len(e.s.RequestsTo(slacktest.EndpointDelete)), e.logs)
	}
	top := e.s.TopLevel(liveChannel)
	if len(top) != 1 {
		t.Fatalf("%d top-level messages after the race, want 1:\n%s", len(top), e.logs)
	}
	if n := len(e.s.Thread(liveChannel, top[0].TS)); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
	if top[0].Text != "argocd/web failed (attempt 1)" {
		t.Errorf("the message reads %q, want the report's verdict (not the started message)", top[0].Text)
	}
}

// TestLiveAmbiguousPost: a post that Slack made but answered 500 is found
// by its metadata before the retry, for the message and for the reply.
func TestLiveAmbiguousPost(t *testing.T) {
	e := newLiveEnv(t)
	op := time.Now().Add(-time.Minute)
	e.s.Fail(slacktest.EndpointPostMessage, slacktest.Fault{Accept: true, Status: 500}, slacktest.Fault{Accept: true, Status: 500})
	res := e.run(t, liveRun("argocd/web", op, 1, StageReport, "failed", false))
	top := e.s.TopLevel(liveChannel)
	if len(top) != 1 || len(e.s.Thread(liveChannel, top[0].TS)) != 1 || res.TS != top[0].TS {
		t.Errorf("after ambiguous failures: %d top-level, result %+v\n%s", len(top), res, e.logs)
	}
}

// TestLiveChannelName: a live message needs the channel's ID.
func TestLiveChannelName(t *testing.T) {
	e := newLiveEnv(t)
	lm := liveRun("argocd/web", time.Now(), 1, StageReport, "failed", false)
	lm.Top.Channel = "#deploys"
	if _, err := e.bot.DeliverLive(context.Background(), dedupRetrier, lm, e.log); err == nil || !strings.Contains(err.Error(), "ID") {
		t.Errorf("err %v, want one asking for the channel ID", err)
	}
	if len(e.s.Requests()) != 0 {
		t.Error("called Slack")
	}
}

// TestLiveRateLimited: many syncs posting to one channel at once, at
// Slack's one message a second per channel, are each delivered once,
// waiting as Retry-After says.
func TestLiveRateLimited(t *testing.T) {
	e := newLiveEnv(t)
	e.s.LimitPosts(20, 2) // fast enough for a unit test; the shape is Slack's
	op := time.Now().Add(-time.Minute)
	r := Retrier{InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, AttemptTimeout: 2 * time.Second}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := e.bot.DeliverLive(ctx, r, liveRun(fmt.Sprintf("argocd/app%d", i), op, 1, StageReport, "failed", false), e.log); err != nil {
				t.Errorf("app%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := len(e.s.TopLevel(liveChannel)); n != 10 {
		t.Errorf("%d top-level messages, want 10", n)
	}
	if calls := len(e.s.RequestsTo(slacktest.EndpointPostMessage)); calls <= 20 {
		t.Errorf("%d chat.postMessage calls for 20 posts: the limit did not bite", calls)
	}
}

// TestLiveUpdateOnly: a muted verdict ends a started message but never
// posts one.
func TestLiveUpdateOnly(t *testing.T) {
	e := newLiveEnv(t)
	op := time.Now().Add(-time.Minute)
	muted := liveRun("argocd/web", op, 1, StageReport, "succeeded", false)
	muted.UpdateOnly, muted.Reply = true, nil
	if res := e.run(t, muted); res.Posted || res.TS != "" {
		t.Errorf("posted with nothing to update: %+v", res)
	}
	e.run(t, liveRun("argocd/web", op, 1, StageStarted, "progressing", false))
	if res := e.run(t, muted); !res.Updated {
		t.Errorf("the started message was not ended: %+v", res)
	}
	if top := e.s.TopLevel(liveChannel); len(top) != 1 || top[0].Text != "argocd/web succeeded (attempt 1)" {
		t.Errorf("top-level: %+v", top)
	}
}

// TestLiveHostileLaterStage: another app's message carrying our metadata
// with a later attempt, alone in the channel, neither captures our reply
// nor gets our own message deleted by the race merge.
func TestLiveHostileLaterStage(t *testing.T) {
	e := newLiveEnv(t)
	op := time.Now().Add(-time.Minute)
	md := `{"event_type":"syncreport_report","event_payload":{"app":"argocd/web","operation":"` +
		op.UTC().Format(time.RFC3339) + `","attempt":999,"stage":"report"}}`
	hostile := e.s.Inject("B0HOSTILE", slacktest.Post{Channel: liveChannel, Text: "<!channel> not ours", Metadata: []byte(md)})
	res := e.run(t, liveRun("argocd/web", op, 2, StageReport, "failed", true))
	if !res.Posted || res.Merged || res.TS == hostile.TS {
		t.Errorf("result %+v, want our own message posted and kept\n%s", res, e.logs)
	}
	if n := len(e.s.RequestsTo(slacktest.EndpointDelete)); n != 0 {
		t.Errorf("%d chat.delete calls: our message was deleted for another app's", n)
	}
	if n := len(e.s.Thread(liveChannel, hostile.TS)); n != 0 {
		t.Errorf("%d replies in another app's thread", n)
	}
	var ours int
	for _, p := range e.s.TopLevel(liveChannel) {
		if p.BotID == "" {
			ours++
			if n := len(e.s.Thread(liveChannel, p.TS)); n != 1 {
				t.Errorf("%d replies in our thread, want 1", n)
			}
		}
	}
	if ours != 1 {
		t.Errorf("%d top-level messages of ours, want 1\n%s", ours, e.logs)
	}
}

// TestLiveAmbiguousPostHostileCopy: after an ambiguous failure, a message
// of another app with exactly our metadata is not taken for our post: ours
// is posted, and the reply goes in our thread.
func TestLiveAmbiguousPostHostileCopy(t *testing.T) {
	e := newLiveEnv(t)
	op := time.Now().Add(-time.Minute)
	md := `{"event_type":"syncreport_report","event_payload":{"app":"argocd/web","attempt":1,"operation":"` +
		op.UTC().Format(time.RFC3339) + `","stage":"report","verdict":"failed"}}`
	hostile := e.s.Inject("B0HOSTILE", slacktest.Post{Channel: liveChannel, Text: "not ours", Metadata: []byte(md)})
	e.s.Fail(slacktest.EndpointPostMessage, slacktest.Fault{Status: 500})
	res := e.run(t, liveRun("argocd/web", op, 1, StageReport, "failed", true))
	if res.TS == hostile.TS || len(e.s.Thread(liveChannel, hostile.TS)) != 0 {
		t.Errorf("result %+v: another app's message was taken for ours\n%s", res, e.logs)
	}
	var ours int
	for _, p := range e.s.TopLevel(liveChannel) {
		if p.BotID == "" {
			ours++
		}
	}
	if ours != 1 {
		t.Errorf("%d top-level messages of ours, want 1\n%s", ours, e.logs)
	}
}

// TestLiveBusyChannel: a channel shared by many apps whose messages are
// large (reports with blocks) still lets a run find its message: a page of
// history is bigger than an ordinary answer.
func TestLiveBusyChannel(t *testing.T) {
	e := newLiveEnv(t)
	op := time.Now().Add(-time.Minute)
	e.run(t, liveRun("argocd/web", op, 1, StageReport, "failed", false))
	big := strings.Repeat("x", 8000)
	for range liveHistoryLimit - 10 {
		e.s.Inject("B0OTHER", slacktest.Post{Channel: liveChannel, Text: big})
	}
	if res := e.run(t, liveRun("argocd/web", op, 2, StageReport, "failed", true)); !res.Updated || res.Fallback != "" {
		t.Errorf("result %+v, want the sync's message found and updated\n%s", res, e.logs)
	}
}

// TestLiveMergeDeletesOnlyItsOwnPost: a run whose post failed ambiguously
// and that then found a message with its metadata (another run of the same
// stage posted it) does not know it posted that message, so the race merge
// must not delete it.
func TestLiveMergeDeletesOnlyItsOwnPost(t *testing.T) {
	e := newLiveEnv(t)
	op := time.Now().Add(-time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.run(t, liveRun("argocd/web", op, 1, StageStarted, "progressing", false)) // the gate's message, older
	lm := liveRun("argocd/web", op, 1, StageReport, "failed", true)
	// Another run of the same stage (a hook pod run twice) posted first.
	other, _, err := e.bot.postLive(ctx, e.r, lm.Top, liveMetadata(ReportEventType, lm), "", false, e.log)
	if err != nil {
		t.Fatal(err)
	}
	empty := slacktest.Fault{Status: 200, Body: `{"ok":true,"messages":[],"has_more":false}`}
	e.s.Fail(slacktest.EndpointHistory, empty)
	e.s.Fail(slacktest.EndpointPostMessage, slacktest.Fault{Status: 500})
	e.run(t, lm)
	for _, r := range e.s.RequestsTo(slacktest.EndpointDelete) {
		if strings.Contains(string(r.Body), other) {
			t.Errorf("deleted %s, a message this run did not post\n%s", other, e.logs)
		}
	}
}
