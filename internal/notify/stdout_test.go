package notify_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/syncreport/syncreport/internal/notify"
)

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestStdout(t *testing.T) {
	tests := []struct {
		name      string
		w         func(*bytes.Buffer) io.Writer
		format    func(notify.Message) ([]byte, error)
		m         notify.Message
		want      string // substring of the output
		wantErr   string
		wantRetry bool
	}{
		{name: "default JSON", m: message(), want: "{\n  \"channel\": \"#deploys\",\n  \"text\": \"web synced to 1a2b3c\","},
		{name: "custom format gets a newline", m: message(), format: func(m notify.Message) ([]byte, error) { return []byte(m.Text), nil },
			want: "web synced to 1a2b3c\n"},
		{name: "format error", m: message(), format: func(notify.Message) ([]byte, error) { return nil, errors.New("bad template") },
			wantErr: "stdout: formatting the message: bad template"},
		{name: "write error", m: message(), w: func(*bytes.Buffer) io.Writer { return failingWriter{} },
			wantErr: "stdout: writing the message: disk full"},
		{name: "no text", m: notify.Message{Channel: "#d"}, wantErr: "no text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			var w io.Writer = &buf
			if tt.w != nil {
				w = tt.w(&buf)
			}
			n := notify.NewStdout(w, tt.format)
			if n.Name() != "stdout" {
				t.Errorf("Name = %q", n.Name())
			}
			retry, err := n.Notify(t.Context(), tt.m)
			if retry != tt.wantRetry {
				t.Errorf("retry = %v", retry)
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if !strings.Contains(buf.String(), tt.want) {
				t.Errorf("output %q does not contain %q", buf.String(), tt.want)
			}
		})
	}
}

// TestMessageRoundTrip checks that what Stdout prints decodes back into the
// same Message, blocks included.
func TestMessageRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if _, err := notify.NewStdout(&buf, nil).Notify(t.Context(), message()); err != nil {
		t.Fatal(err)
	}
	var got notify.Message
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, message()) {
		t.Errorf("round trip\n got %#v\nwant %#v", got, message())
	}
}
