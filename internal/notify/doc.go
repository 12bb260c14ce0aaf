// Package notify delivers the report: one message to Slack, through the Web
// API with a bot token (Bot), an incoming webhook (Webhook), or to a writer
// for dry runs (Stdout); by email over SMTP, one message per recipient
// (Email, DeliverEmail); and as signed JSON to any HTTP receiver
// (JSONWebhook, DeliverJSONWebhook); and as a commit status on GitHub and
// GitLab (Forges, DeliverCommitStatuses). Each retries transient failures within
// the caller's deadline with the same Retrier. With a bot token a sync's
// reports share one live message (Bot.DeliverLive, live.go): found again by
// its metadata in the channel's history, updated with chat.update, each run
// adding a reply in its thread; any failure to find or update it posts a new
// message instead.
//
// Every answer from Slack is judged by one function, classify: success,
// transient (429, 5xx, connection failures, Slack's transient error codes) or
// permanent (auth, channel, payload). SMTP replies are judged by
// classifySMTP (4xx transient, 5xx permanent) and webhook answers by
// classifyHTTP (429, 408, 5xx transient; redirects and other 4xx permanent),
// GitHub's and GitLab's by classifyForge (rate limits by their headers).
// Tokens, webhook URLs, the SMTP password and the signing secret never appear
// in errors or logs.
package notify
