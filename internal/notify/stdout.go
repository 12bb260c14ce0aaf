package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// Stdout prints messages instead of sending them, for dry runs and for
// clusters without a way out to Slack.
type Stdout struct {
	w      io.Writer
	format func(Message) ([]byte, error)
}

// NewStdout returns a Stdout writing to w. format renders a message; nil
// means indented JSON of the Message, the payload Slack would have received.
func NewStdout(w io.Writer, format func(Message) ([]byte, error)) *Stdout {
	if format == nil {
		format = func(m Message) ([]byte, error) { return json.MarshalIndent(m, "", "  ") }
	}
	return &Stdout{w: w, format: format}
}

// Name implements Notifier.
func (s *Stdout) Name() string { return "stdout" }

// Notify writes m. Failures are never worth retrying: a writer that failed
// once will not recover, and a second write could duplicate output.
func (s *Stdout) Notify(ctx context.Context, m Message) (retry bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if m.Text == "" {
		return false, fmt.Errorf("stdout: %w", errNoText)
	}
	b, err := s.format(m)
	if err != nil {
		return false, fmt.Errorf("stdout: formatting the message: %w", err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	if _, err := s.w.Write(b); err != nil {
		return false, fmt.Errorf("stdout: writing the message: %w", err)
	}
	return false, nil
}
