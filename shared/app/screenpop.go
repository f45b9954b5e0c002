package app

import (
	"context"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/screenpop"
)

// publishScreenPop publishes one Omnibridge_Screen_Pop__e; case routing and call logging both
// pop through it. A rejected event is classified as presence commands are (publishError).
func publishScreenPop(ctx context.Context, sf *salesforce.Client, p screenpop.Pop) error {
	fields, err := p.Fields()
	if err != nil {
		return err
	}
	results, err := sf.PublishEvents(ctx, screenpop.Event, []map[string]any{fields})
	if err != nil {
		return err
	}
	if len(results) != 1 {
		return apperr.New(apperr.Unavailable, "screen pop: %d publish results for one event", len(results))
	}
	if !results[0].Success {
		return publishError(results[0].Errors)
	}
	return nil
}
