package engine

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/presence"
)

// SweepLimit bounds the index entries one sweep reads; the next run continues.
const SweepLimit = 1000

// SweepReport says what a sweep did.
type SweepReport struct {
	// Due counts pending index entries whose deadline had passed.
	Due int `json:"due"`
	// Expired counts commands audited "not applied: console not open" (or "not applicable: user
	// logged out" when the user's Salesforce session ended meanwhile).
	Expired int `json:"expired"`
	// OutboxAgents counts agents whose outbox was retried.
	OutboxAgents int `json:"outboxAgents"`
	// Flush reports the outbox retry's deliveries.
	Flush FlushReport `json:"flush"`
}

// Sweep runs SweepPending and then SweepOutbox; schedule it every minute or so.
func (e *Engine) Sweep(ctx context.Context, now time.Time) (SweepReport, error) {
	rep, err := e.SweepPending(ctx, now)
	out, oerr := e.SweepOutbox(ctx)
	rep.OutboxAgents, rep.Flush = out.OutboxAgents, out.Flush
	return rep, errors.Join(err, oerr)
}

// SweepPending settles the Salesforce commands whose acknowledgement deadline has passed by now:
// for each agent with a due index entry it calls presence.ExpireCommands, audits each expired
// command as "not applied: console not open", or "not applicable: user logged out" (at its
// deadline, so a repeated sweep writes the same entry), stores the state and deletes the entries. An entry whose command was settled
// meanwhile (acknowledged, echoed) is just deleted. Entries of agents that failed stay for the
// next run.
func (e *Engine) SweepPending(ctx context.Context, now time.Time) (SweepReport, error) {
	var rep SweepReport
	cfg, err := e.configs.Current(ctx)
	if err != nil {
		return rep, err
	}
	refs, err := e.store.DuePending(ctx, now, SweepLimit)
	if err != nil {
		return rep, err
	}
	rep.Due = len(refs)
	byAgent := map[string][]dynamo.PendingRef{}
	var order []string
	for _, r := range refs {
		if _, ok := byAgent[r.ConnectUserID]; !ok {
			order = append(order, r.ConnectUserID)
		}
		byAgent[r.ConnectUserID] = append(byAgent[r.ConnectUserID], r)
	}
	b := e.NewBatch()
	b.cfg = cfg
	var errs []error
	for _, id := range order {
		n, err := b.expire(ctx, cfg, b.agent(id), now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Expired += n
		for _, r := range byAgent[id] {
			if err := e.store.DeletePending(ctx, r); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return rep, errors.Join(errs...)
}

// expire applies presence.ExpireCommands to one agent and stores the result.
func (b *Batch) expire(ctx context.Context, cfg *Compiled, a *agentRun, now time.Time) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := b.e
	subject := agentSubject(a.id)
	if err := b.reload(ctx, a); err != nil {
		return 0, err
	}
	for attempt := 0; ; attempt++ {
		deadlines := pendingDeadlines(a.rec.State)
		st, expired := presence.ExpireCommands(a.rec.State, now)
		if len(expired) == 0 {
			return 0, nil
		}
		if err := e.appendAudits(ctx, cfg, expiryEntries(subject, expired, deadlines, a.rec.Outbox, cfg.Version)...); err != nil {
			return 0, err
		}
		rec := a.rec
		rec.State = st
		rec.Outbox = slices.DeleteFunc(slices.Clone(rec.Outbox), func(en dynamo.OutboxEntry) bool { return !wanted(st, en.Command, now) })
		v, err := b.putAgent(ctx, rec)
		if apperr.Is(err, apperr.Conflict) && attempt < e.opts.ConflictRetries {
			if err := b.reload(ctx, a); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		rec.Version = v
		a.rec = rec
		return len(expired), nil
	}
}

// SweepOutbox retries the undelivered commands of every agent listed in the outbox index (an
// earlier delivery failed and no event of the agent has come since): Connect commands are sent,
// Salesforce ones published together, exactly as at the end of a batch. Commands no longer
// wanted are dropped with an audit instead of being sent late.
func (e *Engine) SweepOutbox(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	ids, err := e.store.OutboxAgents(ctx, SweepLimit)
	if err != nil {
		return rep, err
	}
	rep.OutboxAgents = len(ids)
	b := e.NewBatch()
	var errs []error
	for _, id := range ids {
		a := b.agent(id)
		a.mu.Lock()
		err := b.prepare(ctx, a)
		a.indexed = true // listed, so settle clears the entry once the outbox is empty
		a.mu.Unlock()
		if err != nil && !isDelivery(err) {
			errs = append(errs, err)
		}
	}
	rep.Flush, err = b.Flush(ctx)
	return rep, errors.Join(append(errs, err)...)
}

func isDelivery(err error) bool {
	var d *DeliveryError
	return errors.As(err, &d)
}
