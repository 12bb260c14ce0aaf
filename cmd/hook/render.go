package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/recipients"
	"github.com/syncreport/syncreport/internal/report"
	"github.com/syncreport/syncreport/internal/settings"
)

// runRender judges an Application document the way `report` would and
// prints it, so a report can be previewed from `kubectl get app -o json`.
func runRender(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("render", stderr)
	file := fs.String("app-file", "", "Application document (JSON or YAML); - reads stdin")
	format := fs.String("format", "text", "text | json | slack | email (the HTML part of the email)")
	argoURL := fs.String("argocd-url", "", "Argo CD UI base URL for the link (default: the resolved ARGOCD_URL)")
	channel := fs.String("channel", "", "channel put in the slack payload (default: the resolved SLACK_CHANNEL)")
	central := fs.String("settings", "", "the central settings ConfigMap document (kubectl get cm syncreport-settings -n argocd -o yaml), layered as the hook does")
	fs.Usage = func() {
		io.WriteString(fs.Output(), renderUsage)
		fs.PrintDefaults()
	}
	if helpRequested(args) {
		// Asked for: the usage goes to stdout; after a bad flag, to stderr.
		fs.SetOutput(stdout)
	}
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
	case "text", "json", "slack", "email":
	default:
		return usageErr("render: --format %q: want text, json, slack or email", *format)
	}
	// The check `hook report` makes, so a preview never shows a broken link;
	// the flag's default, ARGOCD_URL, is checked with the other settings
	// below, but named here for the flag.
	if u, ok := os.LookupEnv("ARGOCD_URL"); *argoURL != "" || ok {
		if *argoURL != "" {
			u = *argoURL
		}
		if err := config.CheckVariable("ARGOCD_URL", u); err != nil {
			return usageErr("render: --argocd-url: %w", err)
		}
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
	res, err := renderSettings(*central, app.Metadata.Annotations, stderr)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["argocd-url"] {
		res.Config.ArgoCDURL = *argoURL
		res.Settings["ARGOCD_URL"] = settings.Setting{Value: *argoURL, Source: "flag --argocd-url"}
	}
	if set["channel"] {
		res.Config.SlackChannel = *channel
		res.Settings["SLACK_CHANNEL"] = settings.Setting{Value: *channel, Source: "flag --channel"}
	}
	cfg := res.Config
	// No Now: the document was saved at some unknown time, and a running
	// operation's duration up to the wall clock would be meaningless.
	r := report.Build(app, report.Options{ArgoCDURL: cfg.ArgoCDURL})
	// Emails stay unresolved here: resolving needs the Slack API.
	r.Recipients = recipients.Collect(app, string(r.Verdict), recipients.Settings{
		Channel: cfg.SlackChannel, ChannelFailed: cfg.SlackChannelFailed})
	if *format == "json" {
		r.Settings = map[string]report.Setting{}
		for name, s := range res.Settings {
			r.Settings[name] = report.Setting(s)
		}
	}
	return write(stdout, *format, r, cfg.SlackChannel)
}

// renderSettings layers the settings as the hook would for this
// Application: the environment, its annotations and, from a file, the
// central ConfigMap (the Secret is left out: a preview needs no
// credentials). An ignored central value is a warning on stderr.
func renderSettings(file string, annotations map[string]string, stderr io.Writer) (*settings.Resolved, error) {
	var central settings.Central
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usageErr("render: --settings: %w", err)
		}
		var cm struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name, Namespace, UID, ResourceVersion string
			} `json:"metadata"`
			Data map[string]string `json:"data"`
		}
		if err := yaml.Unmarshal(b, &cm); err != nil || cm.Kind != "ConfigMap" {
			return nil, usageErr("render: --settings %s: not a ConfigMap document", file)
		}
		central.ConfigMap = &settings.Object{Kind: "ConfigMap", Namespace: cm.Metadata.Namespace, Name: cm.Metadata.Name, Data: cm.Data}
	}
	res, err := settings.Resolve(os.LookupEnv, central, annotations)
	if err != nil {
		return nil, usageErr("render: %w", err)
	}
	for _, p := range res.Problems {
		fmt.Fprintln(stderr, "warning: central setting ignored:", visibleLine(p.Error()))
	}
	return res, nil
}

const renderUsage = `Usage: hook render --app-file FILE|- [flags]

Judges an Application document (kubectl get app NAME -n argocd -o json|yaml)
the way the hook would and prints the report; no cluster, no Slack.

Flags:
`

// helpRequested reports a -h/-help/--help among the flags (before "--").
func helpRequested(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

// write prints a report in one of the formats; `report`'s stdout
// notifier uses it too, so the preview is exactly what the hook prints.
func write(w io.Writer, format string, r report.Report, channel string) error {
	switch format {
	case "json":
		return report.JSON(w, r)
	case "email":
		html, err := report.EmailHTML(r)
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, html)
		return err
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
