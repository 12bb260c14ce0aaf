package argocdapi

import (
	"strings"
	"time"
)

// RevisionMetadata is the commit behind a synced revision, as argocd-server's
// revision metadata endpoint describes it.
type RevisionMetadata struct {
	// Author is the commit author as git prints it: "Alice <alice@example.com>".
	Author string
	// Date is the commit date; zero when the server sent none.
	Date time.Time
	// Message is the full commit message.
	Message string
	// Tags are the tags pointing at the commit.
	Tags []string
}

// AuthorEmail returns the address of "Name <email>", the whole author when
// it is a bare address, and "" otherwise.
func (m RevisionMetadata) AuthorEmail() string {
	a := strings.TrimSpace(m.Author)
	if i := strings.LastIndexByte(a, '<'); i >= 0 {
		rest := a[i+1:]
		j := strings.IndexByte(rest, '>')
		if j < 0 {
			return ""
		}
		email := strings.TrimSpace(rest[:j])
		if !strings.Contains(email, "@") || strings.ContainsAny(email, " \t<>") {
			return ""
		}
		return email
	}
	if strings.Contains(a, "@") && !strings.ContainsAny(a, " \t>") {
		return a
	}
	return ""
}

// Subject returns the first line of the commit message, trimmed.
func (m RevisionMetadata) Subject() string {
	s := strings.TrimLeft(m.Message, "\r\n")
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
