package notify_test

import (
	"context"
	"fmt"
	"time"

	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/slacktest"
)

func ExampleDeliver() {
	s := slacktest.New() // stands in for https://slack.com/api/
	defer s.Close()
	s.Fail(slacktest.EndpointPostMessage, slacktest.Fault{Status: 503})

	bot, err := notify.NewBot(slacktest.DefaultToken, s.URL(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	attempts, err := notify.Deliver(ctx, bot, notify.Message{Channel: "#deploys", Text: "web synced"}, nil)
	fmt.Println(attempts, err)

	s.Always(slacktest.EndpointPostMessage, slacktest.Fault{OKFalse: "not_in_channel"})
	attempts, err = notify.Deliver(ctx, bot, notify.Message{Channel: "#deploys", Text: "web synced"}, nil)
	fmt.Println(attempts, err)
	// Output:
	// 2 <nil>
	// 1 slack: failed permanently after 1 attempt: slack chat.postMessage to channel "#deploys": not_in_channel (invite the bot to the channel with /invite @your-app, or add the chat:write.public scope for public channels)
}
