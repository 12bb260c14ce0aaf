// Package notify delivers one message to Slack, through the Web API with a bot
// token (Bot), an incoming webhook (Webhook), or to a writer for dry runs
// (Stdout), retrying transient failures within the caller's deadline (Deliver).
//
// Every answer from Slack is judged by one function, classify: success,
// transient (429, 5xx, connection failures, Slack's transient error codes) or
// permanent (auth, channel, payload). Tokens and webhook URLs never appear in
// errors or logs.
package notify
