package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// process applies a decoded batch: each agent's events in time order, one after another, and
// different agents concurrently, at most opts.Concurrency at once. It returns the results in
// input order and whether the batch must be retried.
func (h *Handler) process(ctx context.Context, b sfevents.Batch) ([]EventResult, bool) {
	results := make([]EventResult, len(b.Events))
	var order []string
	byUser := map[string][]sfevents.Event{}
	for _, e := range b.InTimeOrder() {
		if _, ok := byUser[e.UserID]; !ok {
			order = append(order, e.UserID)
		}
		byUser[e.UserID] = append(byUser[e.UserID], e)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		retry bool
		sem   = make(chan struct{}, h.opts.Concurrency)
	)
	for _, user := range order {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			// Each goroutine writes only its own events' slots; retry is shared.
			if h.processUser(ctx, byUser[user], results) {
				mu.Lock()
				retry = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return results, retry
}

// processUser applies one agent's events in order. After a retryable failure the rest are
// skipped: applying a later event first would make the failed one stale when it is retried.
func (h *Handler) processUser(ctx context.Context, events []sfevents.Event, results []EventResult) (retry bool) {
	for _, e := range events {
		r := EventResult{Index: e.Index, ID: e.ID, Type: e.Type}
		if retry || ctx.Err() != nil {
			r.Outcome, r.Detail = OutcomeSkipped, "not attempted: an earlier event of this agent failed or the request ended; retry the batch"
			results[e.Index] = r
			retry = true
			continue
		}
		res, err := h.apply(ctx, e)
		switch {
		case err == nil:
			r.Outcome, r.Detail = res.Outcome, res.Detail
			if r.Outcome == "" {
				r.Outcome = OutcomeProcessed
			}
		case retryable(err):
			retry = true
			r.Outcome, r.Detail = OutcomeError, apperr.MessageOf(err)
			h.opts.Logger.ErrorContext(ctx, "salesforce webhook: event failed, batch will be retried",
				"eventId", e.ID, "eventType", e.Type, "agent", e.UserID, "code", apperr.CodeOf(err), "err", err)
		default:
			r.Outcome, r.Detail = OutcomeRejected, apperr.MessageOf(err)
			h.opts.Logger.WarnContext(ctx, "salesforce webhook: event rejected",
				"eventId", e.ID, "eventType", e.Type, "agent", e.UserID, "code", apperr.CodeOf(err), "err", err)
		}
		results[e.Index] = r
	}
	return retry
}

// apply hands one event to the processor. A panic in the processor would otherwise kill the
// process from this goroutine, where net/http cannot recover it; it becomes a retryable error.
func (h *Handler) apply(ctx context.Context, e sfevents.Event) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.opts.Logger.Log(ctx, slog.LevelError, "salesforce webhook: processor panicked", "eventId", e.ID, "panic", fmt.Sprint(p))
			res, err = Result{}, apperr.New(apperr.Internal, "processor panicked")
		}
	}()
	if ack, ok := e.Ack(); ok {
		return h.proc.Acknowledge(ctx, ack)
	}
	ev, ok := e.Presence()
	if !ok {
		return Result{}, apperr.New(apperr.Invalid, "unsupported event type %q", e.Type)
	}
	return h.proc.ProcessSalesforce(ctx, e.UserID, ev)
}

// retryable reports whether a retry of the batch may succeed where err failed.
func retryable(err error) bool {
	code := apperr.CodeOf(err)
	return code == apperr.Unavailable || code == apperr.Internal
}
