package main

import (
	"fmt"
	"strings"
)

// File is test/e2e/testdata/compare.json. test/e2e/compare_test.go writes
// it with a copy of these types (another module); load rejects unknown
// fields so that the copies cannot drift apart unnoticed.
type File struct {
	Run       Run        `json:"run"`
	Rule      string     `json:"rule"`
	Scenarios []Scenario `json:"scenarios"`
}

// Run says where the data comes from.
type Run struct {
	Date    string `json:"date"`
	Command string `json:"command"`
	ArgoCD  string `json:"argocd"`
	Catalog string `json:"catalog"`
}

// Scenario is one compared scenario: what happened and what each notifier said.
type Scenario struct {
	Scenario  string     `json:"scenario"`
	Test      string     `json:"test"`
	From      string     `json:"from"`
	Outcome   string     `json:"outcome"`
	Resource  string     `json:"resource,omitempty"`
	Cause     string     `json:"cause,omitempty"`
	Notify    string     `json:"notify,omitempty"`
	Notifiers []Notifier `json:"notifiers"`
}

// Notifier is what one notifier posted in a scenario.
type Notifier struct {
	Name          string    `json:"name"`
	TopLevel      int       `json:"top_level"`
	Replies       int       `json:"replies"`
	Updates       int       `json:"updates"`
	Messages      []Message `json:"messages"`
	NamesResource *bool     `json:"names_resource,omitempty"`
	NamesCause    *bool     `json:"names_cause,omitempty"`
	Reached       *bool     `json:"reached,omitempty"`
}

// Message is one post, reply or update, judged.
type Message struct {
	Kind    string  `json:"kind"`
	Channel string  `json:"channel"`
	After   float64 `json:"after_s"`
	Claim   string  `json:"claim"`
	Trigger string  `json:"trigger,omitempty"`
	Attempt int     `json:"attempt,omitempty"`
	True    *bool   `json:"true,omitempty"`
	State   string  `json:"state"`
	Summary string  `json:"summary"`
	Text    string  `json:"text"`
}

// outcome claims are verdicts about the sync, not progress notes.
func (m Message) outcome() bool {
	return m.Claim == "succeeded" || m.Claim == "failed" || m.Claim == "degraded"
}

// label is the message as the tables show it: the claim, or for ACN the
// trigger that sent it, and syncreport's attempt after the first.
func (m Message) label() string {
	l := m.Claim
	if m.Trigger != "" {
		l = strings.TrimPrefix(m.Trigger, "on-")
	}
	if m.Attempt > 1 {
		l += fmt.Sprintf(" (attempt %d)", m.Attempt)
	}
	if m.Kind != "top-level" {
		l += " [" + m.Kind + "]"
	}
	return l
}

// key identifies what a message says where: the same key twice is a
// duplicate (a direct message repeating a channel post is not, nor a thread
// reply detailing the message it belongs to).
func (m Message) key() string {
	return fmt.Sprintf("%s|%s|%s|%d|%s", m.Kind, m.Claim, m.Trigger, m.Attempt, m.Channel)
}

func mark(b *bool) string {
	switch {
	case b == nil:
		return "?"
	case *b:
		return "✓"
	default:
		return "✗"
	}
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "—"
	case *b:
		return "yes"
	default:
		return "**no**"
	}
}

// counts are a notifier's false verdicts and duplicates.
func (n Notifier) counts() (falses, dups int) {
	seen := map[string]bool{}
	for _, m := range n.Messages {
		if m.True != nil && !*m.True {
			falses++
		}
		if m.Kind != "update" {
			if seen[m.key()] {
				dups++
			}
			seen[m.key()] = true
		}
	}
	return falses, dups
}

func (n Notifier) firstVerdict() string {
	for _, m := range n.Messages {
		if m.outcome() {
			return fmt.Sprintf("%s %.1f s %s", m.Claim, m.After, mark(m.True))
		}
	}
	return "none"
}

func fullTable(f *File) string {
	var b strings.Builder
	fmt.Fprintf(&b, "One run (`%s`, %s); Argo CD %s; ACN configured with %s, subscribed by annotation "+
		"(on-sync-succeeded, on-sync-failed, on-sync-running, on-health-degraded, on-deployed) to its own channel of "+
		"the same Slack test server. Seconds count from the scenario's start (in brackets). ✓/✗: the message's verdict "+
		"was true/false when it arrived; ?: not a verdict. %s A duplicate says the same thing (trigger, attempt) to the same channel "+
		"again. Written by `go run ./hack/comparetable` from `test/e2e/testdata/compare.json`.\n\n",
		f.Run.Command, f.Run.Date, f.Run.ArgoCD, f.Run.Catalog, f.Rule)
	b.WriteString("| scenario (from) | outcome | notifier | posts / replies / updates | seconds → message | false | duplicates | names resource | names cause | reached `notify=` |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, s := range f.Scenarios {
		for i, n := range s.Notifiers {
			scen, outcome := "", ""
			if i == 0 {
				scen = fmt.Sprintf("%s (%s)", s.Scenario, s.From)
				outcome = s.Outcome
			}
			var msgs []string
			for _, m := range n.Messages {
				msgs = append(msgs, fmt.Sprintf("%.1f %s %s", m.After, m.label(), mark(m.True)))
			}
			if len(msgs) == 0 {
				msgs = []string{"**nothing**"}
			}
			falses, dups := n.counts()
			fmt.Fprintf(&b, "| %s | %s | %s | %d / %d / %d | %s | %d | %d | %s | %s | %s |\n",
				scen, outcome, n.Name, n.TopLevel, n.Replies, n.Updates, strings.Join(msgs, "; "), falses, dups,
				yesNo(n.NamesResource), yesNo(n.NamesCause), yesNo(n.Reached))
		}
	}
	return b.String()
}

func shortTable(f *File) string {
	var b strings.Builder
	names := make([]string, 0, 2)
	for _, n := range f.Scenarios[0].Notifiers {
		names = append(names, n.Name)
	}
	fmt.Fprintf(&b, "Side by side with Argo CD Notifications (its release's catalog, by annotation), same "+
		"Applications, same run (%s, Argo CD %s): messages posted, the first verdict (seconds from the sync; "+
		"✓ true when it arrived), whether the failing resource and its cause were named. Full table and "+
		"method: [BENCHMARKS.md](BENCHMARKS.md#side-by-side-with-argo-cd-notifications-issue-17).\n\n",
		f.Run.Date, f.Run.ArgoCD)
	fmt.Fprintf(&b, "| scenario | %s | %s | resource and cause named (%s / %s) |\n", names[0], names[1], names[0], names[1])
	b.WriteString("| --- | --- | --- | --- |\n")
	for _, s := range f.Scenarios {
		cells := make([]string, 0, 2)
		named := make([]string, 0, 2)
		for _, n := range s.Notifiers {
			_, dups := n.counts()
			// Messages in the channel; thread replies and edits of them
			// are said apart: they do not add to the channel's noise.
			c := fmt.Sprintf("%d msg", n.TopLevel)
			if n.Replies > 0 {
				c += fmt.Sprintf(" + %d in thread", n.Replies)
			}
			switch {
			case n.Updates == 1:
				c += ", 1 edit"
			case n.Updates > 1:
				c += fmt.Sprintf(", %d edits", n.Updates)
			}
			if dups > 0 {
				c += fmt.Sprintf(" (%d dup)", dups)
			}
			cells = append(cells, c+", "+n.firstVerdict())
			switch {
			case n.Reached != nil:
				named = append(named, "reached `notify=`: "+yesNo(n.Reached))
			case n.NamesResource != nil:
				named = append(named, yesNo(n.NamesResource)+"/"+yesNo(n.NamesCause))
			default:
				named = append(named, "—")
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", s.Scenario, cells[0], cells[1], strings.Join(named, " · "))
	}
	return b.String()
}
