package notify

import (
	"encoding/json"
	"errors"

	"github.com/slack-go/slack"
)

// Message is what gets delivered: the fields of a chat.postMessage call, which
// an incoming webhook accepts too.
type Message struct {
	// Channel is where the bot posts: an ID ("C0123") or a name ("#deploys").
	// A webhook posts to the channel it was installed for; it is sent only if set.
	Channel string `json:"channel,omitempty"`
	// Text is the plain fallback shown in notifications and by clients that
	// cannot render blocks. Required.
	Text   string        `json:"text"`
	Blocks []slack.Block `json:"blocks,omitempty"`
	// Metadata is attached to the posted message so a later run can find it
	// again with conversations.history.
	Metadata *slack.SlackMetadata `json:"metadata,omitempty"`
}

// UnmarshalJSON decodes blocks into their concrete slack types, which plain
// decoding into the slack.Block interface cannot do.
func (m *Message) UnmarshalJSON(b []byte) error {
	type plain Message
	var aux struct {
		plain
		Blocks slack.Blocks `json:"blocks"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*m = Message(aux.plain)
	m.Blocks = aux.Blocks.BlockSet
	return nil
}

// errNoText is returned before sending: Slack would refuse the message, and
// notifications would show nothing useful.
var errNoText = errors.New("message has no text (the plain-text fallback is required)")
