package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// job is one event of a batch, as the route hands it over to be processed.
type job struct {
	// index is the event's position in the request; id, typ and user identify it in results
	// and logs.
	index         int
	id, typ, user string
	// run applies the event. It is nil for an event settled without processing, whose result
	// is settled.
	run     func(context.Context) (Result, error)
	settled Result
}

// process applies a decoded batch of n events, given as jobs in time order: each user's events
// one after another, and different users concurrently, at most opts.Concurrency at once. It
// returns the results in input order and whether the batch must be retried.
func (h *Handler) process(ctx context.Context, n int, jobs []job) ([]EventResult, bool) {
	results := make([]EventResult, n)
	var order []string
	byUser := map[string][]job{}
	for _, j := range jobs {
		if j.run == nil {
			results[j.index] = EventResult{Index: j.index, ID: j.id, Type: j.typ, Outcome: j.settled.Outcome, Detail: j.settled.Detail}
			continue
		}
		if _, ok := byUser[j.user]; !ok {
			order = append(order, j.user)
		}
		byUser[j.user] = append(byUser[j.user], j)
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

// processUser applies one user's events in order. After a retryable failure the rest are
// skipped: applying a later event first would make the failed one stale when it is retried.
func (h *Handler) processUser(ctx context.Context, jobs []job, results []EventResult) (retry bool) {
	for _, j := range jobs {
		r := EventResult{Index: j.index, ID: j.id, Type: j.typ}
		if retry || ctx.Err() != nil {
			r.Outcome, r.Detail = OutcomeSkipped, "not attempted: an earlier event of this user failed or the request ended; retry the batch"
			results[j.index] = r
			retry = true
			continue
		}
		res, err := h.run(ctx, j)
		switch {
		case err == nil:
			r.Outcome, r.Detail = res.Outcome, res.Detail
			if r.Outcome == "" {
				r.Outcome = OutcomeProcessed
			}
		case apperr.Retryable(err):
			retry = true
			r.Outcome, r.Detail = OutcomeError, apperr.MessageOf(err)
			h.opts.Logger.ErrorContext(ctx, "salesforce webhook: event failed, batch will be retried",
				"eventId", j.id, "eventType", j.typ, "agent", j.user, "code", apperr.CodeOf(err), "err", err)
		default:
			r.Outcome, r.Detail = OutcomeRejected, apperr.MessageOf(err)
			h.opts.Logger.WarnContext(ctx, "salesforce webhook: event rejected",
				"eventId", j.id, "eventType", j.typ, "agent", j.user, "code", apperr.CodeOf(err), "err", err)
		}
		results[j.index] = r
	}
	return retry
}

// run hands one event to its processor. A panic in the processor would otherwise kill the
// process from this goroutine, where net/http cannot recover it; it becomes a retryable error.
func (h *Handler) run(ctx context.Context, j job) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.opts.Logger.Log(ctx, slog.LevelError, "salesforce webhook: processor panicked", "eventId", j.id, "panic", fmt.Sprint(p))
			res, err = Result{}, apperr.New(apperr.Internal, "processor panicked")
		}
	}()
	return j.run(ctx)
}

// apply hands one presence event to the presence processor.
func (h *Handler) apply(ctx context.Context, e sfevents.Event) (Result, error) {
	if ack, ok := e.Ack(); ok {
		return h.proc.Acknowledge(ctx, ack)
	}
	ev, ok := e.Presence()
	if !ok {
		return Result{}, apperr.New(apperr.Invalid, "unsupported event type %q", e.Type)
	}
	return h.proc.ProcessSalesforce(ctx, e.UserID, ev)
}
