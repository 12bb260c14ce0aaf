package slacktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/syncreport/syncreport/internal/slacktest"
)

// call posts body to url and returns status, Retry-After and body.
func call(t *testing.T, ctx context.Context, url, token, contentType, body string) (int, string, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b), err
}

const jsonType = "application/json; charset=utf-8"

func TestEndpoints(t *testing.T) {
	tests := []struct {
		name       string
		endpoint   string // "" means the webhook URL
		token      string
		body       string
		form       bool
		wantStatus int
		wantBody   string // substring
	}{
		{"post ok", "chat.postMessage", slacktest.DefaultToken, `{"channel":"#deploys","text":"hi"}`, false, 200, `"ok":true`},
		{"post returns channel id", "chat.postMessage", slacktest.DefaultToken, `{"channel":"#deploys","text":"hi"}`, false, 200, `"channel":"C00000001"`},
		{"post by form", "chat.postMessage", slacktest.DefaultToken, `channel=C0FORM1&text=hi&blocks=%5B%5D`, true, 200, `"channel":"C0FORM1"`},
		{"post without token", "chat.postMessage", "", `{"channel":"#deploys","text":"hi"}`, false, 200, `"error":"not_authed"`},
		{"post with wrong token", "chat.postMessage", "xoxb-wrong", `{"channel":"#deploys","text":"hi"}`, false, 200, `"error":"invalid_auth"`},
		{"post without text", "chat.postMessage", slacktest.DefaultToken, `{"channel":"#deploys"}`, false, 200, `"error":"no_text"`},
		{"post without channel", "chat.postMessage", slacktest.DefaultToken, `{"text":"hi"}`, false, 200, `"error":"channel_not_found"`},
		{"post bad blocks", "chat.postMessage", slacktest.DefaultToken, `{"channel":"#d","text":"hi","blocks":{}}`, false, 200, `"error":"invalid_blocks_format"`},
		{"post bad json", "chat.postMessage", slacktest.DefaultToken, `{`, false, 200, `"error":"invalid_json"`},
		{"lookup known", "users.lookupByEmail", slacktest.DefaultToken, `email=Ada%40example.com`, true, 200, `"id":"U0ADA"`},
		{"lookup unknown", "users.lookupByEmail", slacktest.DefaultToken, `email=bob%40example.com`, true, 200, `"error":"users_not_found"`},
		{"open dm", "conversations.open", slacktest.DefaultToken, `users=U0ADA`, true, 200, `"id":"D0ADA"`},
		{"open dm bad user", "conversations.open", slacktest.DefaultToken, `users=nobody`, true, 200, `"error":"user_not_found"`},
		{"unknown method", "foo.bar", slacktest.DefaultToken, `{}`, false, 200, `"error":"unknown_method"`},
		{"webhook ok", "", "", `{"text":"hi"}`, false, 200, `ok`},
		{"webhook bad json", "", "", `{`, false, 400, `invalid_payload`},
		{"webhook no text", "", "", `{"channel":"#x"}`, false, 400, `no_text`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := slacktest.Start(t)
			s.SetUsers(map[string]string{"ada@example.com": "U0ADA"})
			u := s.WebhookURL()
			if tt.endpoint != "" {
				u = s.URL() + tt.endpoint
			}
			ct := jsonType
			if tt.form {
				ct = "application/x-www-form-urlencoded"
			}
			status, _, body, err := call(t, t.Context(), u, tt.token, ct, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("got %d %s, want %d containing %s", status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestUnknownWebhookPath(t *testing.T) {
	s := slacktest.Start(t)
	status, _, body, err := call(t, t.Context(), s.URL()[:len(s.URL())-len("/api/")]+"/services/T/B/wrong", "", jsonType, `{"text":"x"}`)
	if err != nil {
		t.Fatal(err)
	}
	if status != 404 || body != "no_service" {
		t.Errorf("got %d %q, want 404 no_service", status, body)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name       string
		endpoint   string
		fault      slacktest.Fault
		wantStatus int
		wantRetry  string
		wantBody   string
	}{
		{"429 api", slacktest.EndpointPostMessage, slacktest.Fault{RetryAfter: 3}, 429, "3", `{"error":"ratelimited","ok":false}`},
		{"429 webhook", slacktest.EndpointWebhook, slacktest.Fault{Status: 429, RetryAfter: 1}, 429, "1", "rate_limited"},
		{"ok false", slacktest.EndpointPostMessage, slacktest.Fault{OKFalse: "internal_error"}, 200, "", `{"error":"internal_error","ok":false}`},
		{"missing scope", slacktest.EndpointPostMessage, slacktest.MissingScope("chat:write"), 200, "", `"needed":"chat:write"`},
		{"503 api", slacktest.EndpointPostMessage, slacktest.Fault{Status: 503}, 503, "", "Service Unavailable"},
		{"raw body", slacktest.EndpointWebhook, slacktest.Fault{Status: 404, Body: "no_service"}, 404, "", "no_service"},
		{"webhook code gets its status", slacktest.EndpointWebhook, slacktest.Fault{OKFalse: "channel_is_archived"}, 410, "", "channel_is_archived"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := slacktest.Start(t)
			s.Fail(tt.endpoint, tt.fault)
			u := s.WebhookURL()
			if tt.endpoint != slacktest.EndpointWebhook {
				u = s.URL() + tt.endpoint
			}
			body := `{"channel":"#d","text":"x"}`
			status, retry, got, err := call(t, t.Context(), u, slacktest.DefaultToken, jsonType, body)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.wantStatus || retry != tt.wantRetry || !strings.Contains(got, tt.wantBody) {
				t.Errorf("got %d Retry-After %q %s, want %d %q %s", status, retry, got, tt.wantStatus, tt.wantRetry, tt.wantBody)
			}
			if len(s.Posts()) != 0 {
				t.Errorf("a faulted request was posted: %+v", s.Posts())
			}
			// The fault is used up: the next request behaves normally.
			status, _, got, err = call(t, t.Context(), u, slacktest.DefaultToken, jsonType, body)
			if err != nil || status != 200 || len(s.Posts()) != 1 {
				t.Errorf("after the fault: %d %s %v, %d posts", status, got, err, len(s.Posts()))
			}
		})
	}
}

func TestFaultOrderAndAlways(t *testing.T) {
	s := slacktest.Start(t)
	s.Fail(slacktest.EndpointWebhook, slacktest.Fault{Status: 500}, slacktest.Fault{Status: 502})
	s.Always(slacktest.EndpointWebhook, slacktest.Fault{Status: 503})
	var got []int
	for range 4 {
		status, _, _, err := call(t, t.Context(), s.WebhookURL(), "", jsonType, `{"text":"x"}`)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, status)
	}
	if want := []int{500, 502, 503, 503}; !equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	s.ClearFaults()
	if status, _, _, _ := call(t, t.Context(), s.WebhookURL(), "", jsonType, `{"text":"x"}`); status != 200 {
		t.Errorf("after ClearFaults: %d", status)
	}
	if n := len(s.RequestsTo(slacktest.EndpointWebhook)); n != 5 {
		t.Errorf("recorded %d requests, want 5", n)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReset(t *testing.T) {
	s := slacktest.Start(t)
	s.Fail(slacktest.EndpointPostMessage, slacktest.Fault{Reset: true})
	_, _, _, err := call(t, t.Context(), s.URL()+"chat.postMessage", slacktest.DefaultToken, jsonType, `{"channel":"#d","text":"x"}`)
	if err == nil {
		t.Fatal("no error from a reset connection")
	}
	if len(s.Requests()) != 1 || len(s.Posts()) != 0 {
		t.Errorf("%d requests, %d posts; want 1, 0", len(s.Requests()), len(s.Posts()))
	}
}

func TestDelayDropsAbandonedRequest(t *testing.T) {
	s := slacktest.Start(t)
	s.Fail(slacktest.EndpointPostMessage, slacktest.Fault{Delay: 5 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, _, _, err := call(t, ctx, s.URL()+"chat.postMessage", slacktest.DefaultToken, jsonType, `{"channel":"#d","text":"x"}`)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	// The handler notices the client is gone; give it a moment, then check nothing was posted.
	time.Sleep(100 * time.Millisecond)
	if len(s.Posts()) != 0 {
		t.Errorf("abandoned request was posted")
	}
}

func TestDelayThenNormal(t *testing.T) {
	s := slacktest.Start(t)
	s.Fail(slacktest.EndpointWebhook, slacktest.Fault{Delay: 50 * time.Millisecond})
	status, _, _, err := call(t, t.Context(), s.WebhookURL(), "", jsonType, `{"text":"x"}`)
	if err != nil || status != 200 || len(s.Posts()) != 1 {
		t.Errorf("got %d %v, %d posts; want 200 and 1 post", status, err, len(s.Posts()))
	}
}

func TestRecordsRequests(t *testing.T) {
	s := slacktest.Start(t)
	body := `{"channel":"#d","text":"x","blocks":[{"type":"divider"}],"metadata":{"event_type":"deploy","event_payload":{"app":"web"}}}`
	if _, _, _, err := call(t, t.Context(), s.URL()+"chat.postMessage", slacktest.DefaultToken, jsonType, body); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Endpoint != slacktest.EndpointPostMessage || r.Method != "POST" || r.Path != "/api/chat.postMessage" ||
		r.Header.Get("Authorization") != "Bearer "+slacktest.DefaultToken || string(r.Body) != body || r.JSON["text"] != "x" {
		t.Errorf("recorded %+v", r)
	}
	p := s.Posts()[0]
	if p.Channel != "#d" || p.Text != "x" || string(p.Blocks) != `[{"type":"divider"}]` || !strings.Contains(string(p.Metadata), `"deploy"`) {
		t.Errorf("post %+v", p)
	}
}

func TestHistory(t *testing.T) {
	s := slacktest.Start(t)
	for _, text := range []string{"one", "two", "three"} {
		body := `{"channel":"#deploys","text":"` + text + `","metadata":{"event_type":"deploy","event_payload":{"n":"` + text + `"}}}`
		if _, _, _, err := call(t, t.Context(), s.URL()+"chat.postMessage", slacktest.DefaultToken, jsonType, body); err != nil {
			t.Fatal(err)
		}
	}
	type page struct {
		OK       bool `json:"ok"`
		Messages []struct {
			Text     string          `json:"text"`
			TS       string          `json:"ts"`
			Metadata json.RawMessage `json:"metadata"`
		} `json:"messages"`
		HasMore          bool `json:"has_more"`
		ResponseMetadata struct {
			NextCursor string `json:"next_cursor"`
		} `json:"response_metadata"`
	}
	get := func(form url.Values) page {
		t.Helper()
		_, _, body, err := call(t, t.Context(), s.URL()+"conversations.history", slacktest.DefaultToken, "application/x-www-form-urlencoded", form.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var p page
		if err := json.Unmarshal([]byte(body), &p); err != nil || !p.OK {
			t.Fatalf("%s: %v", body, err)
		}
		return p
	}

	p := get(url.Values{"channel": {"C00000001"}, "limit": {"2"}, "include_all_metadata": {"true"}})
	if len(p.Messages) != 2 || p.Messages[0].Text != "three" || !p.HasMore || p.Messages[0].Metadata == nil {
		t.Fatalf("first page %+v", p)
	}
	p2 := get(url.Values{"channel": {"C00000001"}, "limit": {"2"}, "cursor": {p.ResponseMetadata.NextCursor}})
	if len(p2.Messages) != 1 || p2.Messages[0].Text != "one" || p2.HasMore || p2.Messages[0].Metadata != nil {
		t.Fatalf("second page %+v", p2)
	}
	p3 := get(url.Values{"channel": {"C00000001"}, "oldest": {p2.Messages[0].TS}})
	if len(p3.Messages) != 2 {
		t.Errorf("oldest: %+v", p3)
	}
	if p4 := get(url.Values{"channel": {"C00000002"}}); len(p4.Messages) != 0 {
		t.Errorf("other channel: %+v", p4)
	}
}

// TestSlackGoClient checks the server speaks what a real client expects.
func TestSlackGoClient(t *testing.T) {
	s := slacktest.Start(t)
	s.SetUsers(map[string]string{"ada@example.com": "U0ADA"})
	api := slack.New(slacktest.DefaultToken, slack.OptionAPIURL(s.URL()))

	ch, ts, err := api.PostMessageContext(t.Context(), "#deploys",
		slack.MsgOptionText("deployed", false),
		slack.MsgOptionBlocks(slack.NewDividerBlock()),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "deploy", EventPayload: map[string]any{"app": "web"}}))
	if err != nil || ch != "C00000001" || ts == "" {
		t.Fatalf("PostMessage: %q %q %v", ch, ts, err)
	}
	u, err := api.GetUserByEmailContext(t.Context(), "ada@example.com")
	if err != nil || u.ID != "U0ADA" {
		t.Fatalf("GetUserByEmail: %+v %v", u, err)
	}
	if _, err := api.GetUserByEmailContext(t.Context(), "bob@example.com"); err == nil || !strings.Contains(err.Error(), "users_not_found") {
		t.Errorf("unknown user: %v", err)
	}
	hist, err := api.GetConversationHistoryContext(t.Context(), &slack.GetConversationHistoryParameters{ChannelID: ch, IncludeAllMetadata: true})
	if err != nil || len(hist.Messages) != 1 || hist.Messages[0].Metadata.EventType != "deploy" {
		t.Fatalf("history: %+v %v", hist, err)
	}

	s.Always(slacktest.EndpointLookupByEmail, slacktest.MissingScope("users:read.email"))
	if _, err := api.GetUserByEmailContext(t.Context(), "ada@example.com"); err == nil || !strings.Contains(err.Error(), "missing_scope") {
		t.Errorf("missing scope: %v", err)
	}
}

// TestLiveMethods: chat.update, threads, conversations.replies,
// chat.delete and the per-channel post limit, through slack-go, with the
// error codes Slack documents for each.
func TestLiveMethods(t *testing.T) {
	s := slacktest.Start(t)
	api := slack.New(slacktest.DefaultToken, slack.OptionAPIURL(s.URL()))
	ctx := t.Context()
	ch, ts, err := api.PostMessageContext(ctx, "C0LIVE01", slack.MsgOptionText("syncing", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("failed", false)); err != nil {
		t.Fatalf("update: %v", err)
	}
	if _, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("attempt 1", false), slack.MsgOptionTS(ts), slack.MsgOptionBroadcast()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("lost", false), slack.MsgOptionTS("1.000001")); err == nil || !strings.Contains(err.Error(), "thread_not_found") {
		t.Errorf("reply to no thread: %v", err)
	}
	msgs, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: ts})
	if err != nil || len(msgs) != 2 || msgs[0].Text != "failed" || msgs[1].Text != "attempt 1" {
		t.Fatalf("replies: %+v %v", msgs, err)
	}
	// The broadcast reply shows in the channel, as a thread_broadcast.
	hist, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch})
	if err != nil || len(hist.Messages) != 2 || hist.Messages[0].SubType != "thread_broadcast" {
		t.Fatalf("history: %+v %v", hist, err)
	}
	if _, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "#deploys"}); err == nil || !strings.Contains(err.Error(), "channel_not_found") {
		t.Errorf("history by name: %v", err)
	}
	other := s.Inject("B0OTHER", slacktest.Post{Channel: ch, Text: "not ours"})
	for _, c := range []struct{ ts, code string }{{other.TS, "cant_update_message"}, {"1.000001", "message_not_found"}} {
		if _, _, _, err := api.UpdateMessageContext(ctx, ch, c.ts, slack.MsgOptionText("x", false)); err == nil || !strings.Contains(err.Error(), c.code) {
			t.Errorf("update %s: %v, want %s", c.ts, err, c.code)
		}
	}
	s.SetEditWindow(time.Nanosecond)
	if _, _, _, err := api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("late", false)); err == nil || !strings.Contains(err.Error(), "edit_window_closed") {
		t.Errorf("update past the edit window: %v", err)
	}
	if _, _, err := api.DeleteMessageContext(ctx, ch, ts); err != nil {
		t.Fatal(err)
	}
	if n := len(s.TopLevel(ch)); n != 1 { // another app's message remains
		t.Errorf("%d top-level messages after the delete, want 1", n)
	}

	s.LimitPosts(1, 1)
	if _, _, err := api.PostMessageContext(ctx, "C0LIVE02", slack.MsgOptionText("one", false)); err != nil {
		t.Fatal(err)
	}
	_, _, err = api.PostMessageContext(ctx, "C0LIVE02", slack.MsgOptionText("two", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter < time.Second {
		t.Errorf("second post within a second: %v, want 429 with Retry-After", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C0LIVE03", slack.MsgOptionText("elsewhere", false)); err != nil {
		t.Errorf("the limit is per channel: %v", err)
	}
}
