package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// wanted reports whether an undelivered command still means something. A Salesforce command
// does while it is pending (not yet acknowledged, echoed, failed or expired). A Connect command
// does while the state still expects its echo, or holds it as the deferred next status: once
// the echo window has passed, or a newer change was observed, delivering it late would undo
// what happened since.
func wanted(st presence.AgentState, c presence.Command, now time.Time) bool {
	if c.Destination == rules.Salesforce {
		return slices.ContainsFunc(st.Pending, func(p presence.PendingCommand) bool { return p.Command.ID == c.ID })
	}
	if st.Deferred != nil && st.Deferred.CommandID == c.ID {
		return true
	}
	return slices.ContainsFunc(st.Echoes, func(e presence.ExpectedEcho) bool { return e.CommandID == c.ID && !now.After(e.Expires) })
}

// deliverConnect sends the agent's undelivered Connect commands, oldest first, and stops at the
// first failure a retry may fix: a later status must not overtake an earlier one.
func (b *Batch) deliverConnect(ctx context.Context, a *agentRun) error {
	now := b.e.now()
	for _, en := range a.rec.Outbox {
		c := en.Command
		if c.Destination != rules.Connect || a.delivered[c.ID] {
			continue
		}
		if _, ok := a.dropped[c.ID]; ok {
			continue
		}
		if !wanted(a.rec.State, c, now) {
			a.dropped[c.ID] = drop{reason: "overtaken before it could be delivered (its echo window passed or a newer change was observed)", audit: true}
			continue
		}
		err := b.e.status.SetStatus(ctx, c.UserID, c.Target.ConnectStatus, c.ID, c.Mode == presence.ModeNextStatus)
		switch {
		case err == nil:
			a.delivered[c.ID] = true
			delete(a.failures, c.ID)
		case !Retryable(err):
			a.dropped[c.ID] = drop{reason: "Connect refused it: " + apperr.MessageOf(err), audit: true}
		default:
			a.failures[c.ID] = apperr.MessageOf(err)
			return &DeliveryError{EventID: c.CausedBy, CommandID: c.ID, Destination: rules.Connect, Err: err}
		}
	}
	return nil
}

// FlushReport says what Flush did.
type FlushReport struct {
	// Published counts Salesforce commands accepted; PublishCalls counts publish calls.
	Published int `json:"published"`
	// PublishCalls counts PublishPresenceCommands calls.
	PublishCalls int `json:"publishCalls"`
	// Failed lists Salesforce commands whose delivery failed in a way a retry may fix; they stay
	// in the outbox.
	Failed []CommandFailure `json:"failed,omitempty"`
	// Errors are failures to store the outcome (the outbox still holds the commands, which are
	// sent again later under the same command ids). In JSON they are their user-safe messages.
	Errors []error `json:"-"`
}

// CommandFailure is one command that could not be delivered.
type CommandFailure struct {
	// ConnectUserID is the agent.
	ConnectUserID string `json:"connectUserId"`
	// EventID is the event that caused the command (Command.CausedBy).
	EventID string `json:"eventId"`
	// CommandID is the command.
	CommandID string `json:"commandId"`
	// Err is a *DeliveryError; in JSON, its user-safe message.
	Err error `json:"-"`
}

// Flush publishes every undelivered Salesforce command of the batch's agents, at most
// MaxPublishBatch per call, then writes each touched agent once: delivered commands leave the
// outbox, failed ones stay (and the agent is listed for the sweep). For one agent, a failed
// command followed by a delivered newer one is superseded: it is dropped and settled as failed,
// since delivering it later would undo the newer one. The error is for failures before
// publishing (no config); per-command and per-agent failures are in the report.
func (b *Batch) Flush(ctx context.Context) (FlushReport, error) {
	var rep FlushReport
	cfg, err := b.config(ctx)
	if err != nil {
		return rep, err
	}
	now := b.e.now()
	b.mu.Lock()
	agents := make([]*agentRun, 0, len(b.order))
	for _, id := range b.order {
		agents = append(agents, b.agents[id])
	}
	b.mu.Unlock()

	type send struct {
		a   *agentRun
		cmd presence.Command
	}
	var sends []send
	b.mu.Lock()
	journal := b.loose
	b.loose = dynamo.AgentJournal{}
	b.mu.Unlock()
	for _, a := range agents {
		a.mu.Lock()
		if a.loaded {
			journal = journal.Add(a.rec.Journal)
			for _, en := range a.rec.Outbox {
				c := en.Command
				_, gone := a.dropped[c.ID]
				if c.Destination != rules.Salesforce || a.delivered[c.ID] || gone {
					continue
				}
				if !wanted(a.rec.State, c, now) {
					a.dropped[c.ID] = drop{reason: "settled before delivery"}
					continue
				}
				sends = append(sends, send{a, c})
			}
		}
		a.mu.Unlock()
	}

	// The journals' items do not wait for the publish: both go out at once.
	var journalErr error
	journalDone := make(chan struct{})
	go func() {
		defer close(journalDone)
		if !journal.Empty() {
			journalErr = b.e.store.WriteJournal(ctx, journal, cfg.retention(), b.e.opts.IdempotencyTTL)
		}
	}()
	results := make([]error, len(sends))
	for start := 0; start < len(sends); start += b.e.opts.PublishBatch {
		end := min(start+b.e.opts.PublishBatch, len(sends))
		cmds := make([]presence.Command, 0, end-start)
		for _, s := range sends[start:end] {
			cmds = append(cmds, s.cmd)
		}
		errs, callErr := b.e.publisher.PublishPresenceCommands(ctx, cmds)
		rep.PublishCalls++
		for i := range cmds {
			switch {
			case i < len(errs):
				results[start+i] = errs[i]
			case callErr != nil:
				results[start+i] = callErr
			}
		}
	}

	<-journalDone
	written := journal
	if journalErr != nil {
		// The journals stay in the agent items; the agents stay listed for the sweep, which
		// loads them and writes the journals again.
		b.e.log.ErrorContext(ctx, "engine: could not write the agents' journals; they stay in the agent items", "err", journalErr)
		rep.Errors = append(rep.Errors, journalErr)
		written = dynamo.AgentJournal{}
	}

	// Per agent, in outbox order: find the newest delivered command, then classify the failures.
	lastOK := map[*agentRun]int{} // absent: nothing delivered
	for i, s := range sends {
		if results[i] == nil {
			lastOK[s.a] = i
			rep.Published++
		}
	}
	for i, s := range sends {
		a, c, err := s.a, s.cmd, results[i]
		a.mu.Lock()
		switch {
		case err == nil:
			a.delivered[c.ID] = true
			delete(a.failures, c.ID)
		case !Retryable(err):
			a.dropped[c.ID] = drop{reason: "Salesforce refused the platform event: " + apperr.MessageOf(err), audit: true}
		case superseded(lastOK, a, i):
			a.dropped[c.ID] = drop{reason: "not delivered (" + apperr.MessageOf(err) + ") and superseded by a newer command that was", audit: true}
		default:
			a.failures[c.ID] = apperr.MessageOf(err)
			rep.Failed = append(rep.Failed, CommandFailure{ConnectUserID: a.id, EventID: c.CausedBy, CommandID: c.ID,
				Err: &DeliveryError{EventID: c.CausedBy, CommandID: c.ID, Destination: rules.Salesforce, Err: err}})
		}
		a.mu.Unlock()
	}

	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		sem = make(chan struct{}, b.e.opts.FlushConcurrency)
	)
	for _, a := range agents {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := b.settle(ctx, cfg, a, written); err != nil {
				b.e.log.ErrorContext(ctx, "engine: could not store delivery results; the outbox will send them again", "agent", a.id, "err", err)
				mu.Lock()
				rep.Errors = append(rep.Errors, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return rep, nil
}

// superseded reports whether send i of agent a failed before a newer send of a was delivered.
func superseded(lastOK map[*agentRun]int, a *agentRun, i int) bool {
	last, ok := lastOK[a]
	return ok && last > i
}

// settle stores what the batch did to the agent's outbox, and clears from its journal what
// Flush wrote (written), reloading on conflict; and it keeps the sweep's outbox index in step.
func (b *Batch) settle(ctx context.Context, cfg *Compiled, a *agentRun, written dynamo.AgentJournal) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.loaded {
		return nil
	}
	e := b.e
	subject := agentSubject(a.id)
	// clearable: the stored journal lists something Flush wrote, which the write drops.
	clearable := func() bool { return a.rec.Journal.Without(written).Len() < a.rec.Journal.Len() }
	if len(a.delivered)+len(a.failures)+len(a.dropped) > 0 || clearable() {
		now := e.now()
		for attempt := 0; ; attempt++ {
			rec := a.rec
			rec.Journal = rec.Journal.Without(written)
			st := rec.State
			var entries []audit.Entry
			var out []dynamo.OutboxEntry
			for _, en := range rec.Outbox {
				c := en.Command
				if a.delivered[c.ID] {
					continue
				}
				if d, ok := a.dropped[c.ID]; ok {
					if d.audit {
						entries = append(entries, dropEntry(subject, &st, c, d.reason, now, cfg.Version))
					}
					continue
				}
				if msg, ok := a.failures[c.ID]; ok {
					en.Attempts++
					en.LastError, en.LastAttemptAt = msg, now
				}
				out = append(out, en)
			}
			if err := e.appendAudits(ctx, cfg, entries...); err != nil {
				return err
			}
			if len(out) == len(rec.Outbox) && len(entries) == 0 && len(a.failures) == 0 && !clearable() {
				break // nothing of ours is in the stored outbox or journal any more
			}
			rec.State, rec.Outbox = st, out
			v, err := b.putAgent(ctx, rec)
			if apperr.Is(err, apperr.Conflict) && attempt < e.opts.ConflictRetries {
				if err := b.reload(ctx, a); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			rec.Version = v
			a.rec = rec
			break
		}
		clear(a.delivered)
		clear(a.failures)
		clear(a.dropped)
	}
	switch {
	case len(a.rec.Outbox) > 0 || !a.rec.Journal.Empty():
		since := e.now()
		if len(a.rec.Outbox) > 0 {
			since = a.rec.Outbox[0].Command.IssuedAt
		}
		if err := e.store.MarkOutbox(ctx, a.id, since); err != nil {
			return err
		}
		a.indexed = true
	case a.indexed:
		if err := e.store.ClearOutbox(ctx, a.id); err != nil {
			return err
		}
		a.indexed = false
	}
	return nil
}

// dropEntry settles and audits a command removed from the outbox without delivery. A
// Salesforce command is also settled in the state as failed (through presence.Acknowledge), so
// its pending entry and expected echo go and the sweep does not call it "console not open".
func dropEntry(subject string, st *presence.AgentState, c presence.Command, reason string, now time.Time, cfgVersion int64) audit.Entry {
	if c.Destination == rules.Salesforce {
		*st, _ = presence.Acknowledge(*st, presence.Ack{CommandID: c.ID, Applied: false, Reason: reason}, now)
	}
	msg := fmt.Sprintf("not applied: command %s (%s), caused by event %s, was dropped: %s", c.ID, c.Target, c.CausedBy, reason)
	a := presence.Audit{
		EventID: c.CausedBy, DecidedAt: now, ConnectUserID: st.ConnectUserID, SalesforceUserID: st.SalesforceUserID,
		Outcome: presence.OutcomeNotApplied, Explanation: msg, ChainID: c.ChainID, CommandID: c.ID,
		Results: []presence.Result{{Destination: c.Destination, Outcome: presence.OutcomeNotApplied, RuleID: c.RuleID, Target: c.Target, CommandID: c.ID, Detail: msg}},
	}
	return auditEntry(subject, c.ID+"/undelivered", c.IssuedAt, a, []presence.Command{c}, cfgVersion)
}

// flushFor flushes a one-event batch and reports the first delivery failure as the event's.
func (b *Batch) flushFor(ctx context.Context, eventID string) error {
	rep, err := b.Flush(ctx)
	if err != nil {
		return err
	}
	for _, f := range rep.Failed {
		if f.EventID == eventID {
			return f.Err
		}
	}
	if len(rep.Failed) > 0 {
		return rep.Failed[0].Err
	}
	return nil
}
