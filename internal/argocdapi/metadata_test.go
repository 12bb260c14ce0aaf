package argocdapi_test

import (
	"strings"
	"testing"

	"github.com/syncreport/syncreport/internal/argocdapi"
)

func TestAuthorEmail(t *testing.T) {
	tests := []struct{ author, want string }{
		{"Alice <alice@example.com>", "alice@example.com"},
		{"  Alice Example  < alice@example.com > ", "alice@example.com"},
		{"Bob <bob> <bob@example.com>", "bob@example.com"},
		{"carol@example.com", "carol@example.com"},
		{"dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>", "49699333+dependabot[bot]@users.noreply.github.com"},
		{"Dave", ""},
		{"Dave <>", ""},
		{"Dave <dave", ""},
		{"Eve <not an address>", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.author, func(t *testing.T) {
			if got := (argocdapi.RevisionMetadata{Author: tt.author}).AuthorEmail(); got != tt.want {
				t.Errorf("AuthorEmail(%q) = %q, want %q", tt.author, got, tt.want)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	tests := []struct{ name, message, want string }{
		{"one line", "fix: typo", "fix: typo"},
		{"body", "feat: scale web\n\nBecause.", "feat: scale web"},
		{"CRLF", "feat: scale web\r\nBecause.", "feat: scale web"},
		{"leading blank lines", "\n\n  subject  \nbody", "subject"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (argocdapi.RevisionMetadata{Message: tt.message}).Subject(); got != tt.want {
				t.Errorf("Subject(%q) = %q, want %q", tt.message, got, tt.want)
			}
		})
	}
}

// FuzzRevisionMetadata: author and message come from any git commit.
func FuzzRevisionMetadata(f *testing.F) {
	f.Add("Alice <alice@example.com>", "subject\n\nbody")
	f.Add("<@>", "\r\n\r\n")
	f.Add("a@b", "x")
	f.Fuzz(func(t *testing.T, author, message string) {
		m := argocdapi.RevisionMetadata{Author: author, Message: message}
		if e := m.AuthorEmail(); e != "" && (!strings.Contains(author, e) || !strings.Contains(e, "@") || strings.ContainsAny(e, "<> \t")) {
			t.Errorf("AuthorEmail(%q) = %q", author, e)
		}
		if s := m.Subject(); strings.ContainsAny(s, "\r\n") || !strings.Contains(message, s) {
			t.Errorf("Subject(%q) = %q", message, s)
		}
	})
}
