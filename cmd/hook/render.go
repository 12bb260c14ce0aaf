package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"time"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/recipients"
	"github.com/syncreport/syncreport/internal/report"
)

// runRender judges an Application document the way `report` would and
// prints it, so a report can be previewed from `kubectl get app -o json`.
func runRender(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("render", stderr)
	file := fs.String("app-file", "", "Application document (JSON or YAML); - reads stdin")
	format := fs.String("format", "text", "text | json | slack")
	argoURL := fs.String("argocd-url", os.Getenv("ARGOCD_URL"), "Argo CD UI base URL for the link")
	channel := fs.String("channel", os.Getenv("SLACK_CHANNEL"), "channel put in the slack payload")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageErr("render: %w", err)
	}
	if fs.NArg() > 0 {
		return usageErr("render: unexpected argument %q", fs.Arg(0))
	}
	if *file == "" {
		return usageErr("render: --app-file is required (a file, or - for stdin)")
	}
	switch *format {
	case "text", "json", "slack":
	default:
		return usageErr("render: --format %q: want text, json or slack", *format)
	}
	var data []byte
	var err error
	if *file == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(*file)
	}
	if err != nil {
		return usageErr("render: --app-file: %w", err)
	}
	app, err := argocd.Decode(data)
	if err != nil {
		return usageErr("render: --app-file %s: %w", *file, err)
	}
	r := report.Build(app, report.Options{Now: time.Now(), ArgoCDURL: *argoURL})
	// Emails stay unresolved here: resolving needs the Slack API.
	r.Recipients = recipients.Collect(app, string(r.Verdict), recipients.Settings{
		Channel: *channel, ChannelFailed: os.Getenv("SLACK_CHANNEL_FAILED")})
	return write(stdout, *format, r, *channel)
}

// write prints a report in one of the three formats; `report`'s stdout
// notifier uses it too, so the preview is exactly what the hook prints.
func write(w io.Writer, format string, r report.Report, channel string) error {
	switch format {
	case "json":
		return report.JSON(w, r)
	case "slack":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(slackMessage(r, channel))
	}
	return report.Text(w, r)
}

// slackMessage is the chat.postMessage payload for a report. Its metadata
// identifies the report, so that a retry can find an earlier post of it
// (notify.Dedup).
func slackMessage(r report.Report, channel string) notify.Message {
	text, blocks := report.Slack(r)
	operation := ""
	if r.StartedAt != nil {
		operation = r.StartedAt.UTC().Format(time.RFC3339)
	}
	md := notify.ReportMetadata(r.App.Namespace+"/"+r.App.Name, operation, r.Attempt, string(r.Verdict))
	return notify.Message{Channel: channel, Text: text, Blocks: blocks, Metadata: md}
}
