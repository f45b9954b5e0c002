package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// Batch is the work of one invocation (a Kinesis batch, a webhook event, a sweep): events are
// processed as they come and Connect commands are delivered at once, while Salesforce commands
// wait in the agents' outboxes until Flush publishes all of them in as few calls as possible.
//
// Process methods may run concurrently for different agents; the caller keeps one agent's
// events in order and on one goroutine at a time (the batch also serializes them). Flush runs
// after every Process call has returned. A Batch keeps each agent's loaded item between
// events, so an agent costs one read per batch, not one per event.
type Batch struct {
	e *Engine

	mu     sync.Mutex
	cfg    *Compiled
	agents map[string]*agentRun
	order  []string
	// marked are idempotency keys this batch processed; loose holds the markers that no agent
	// item's journal carries (events that stored nothing). Flush writes them.
	marked map[string]bool
	loose  dynamo.AgentJournal
	// known are idempotency keys PrefetchAgents read: true for processed.
	known map[string]bool
}

// agentRun is one agent's item as this batch last read or wrote it, and what the batch did to
// its outbox that is not stored yet (Flush stores it).
type agentRun struct {
	mu      sync.Mutex
	id      string
	rec     dynamo.AgentRecord
	loaded  bool
	drained bool
	// indexed: the agent may be listed in the outbox index (its stored outbox was not empty).
	indexed bool
	// delivered are commands delivered in this batch and still in the stored outbox.
	delivered map[string]bool
	// failures are commands whose delivery failed in this batch (retryable), with the error.
	failures map[string]string
	// dropped are commands removed without delivery: refused for good, superseded, or no
	// longer wanted. audit says whether the removal is news worth an audit entry.
	dropped map[string]drop
	// blocked is the retryable failure that stops the agent's later events in this batch.
	blocked error
}

type drop struct {
	reason string
	audit  bool
}

// ConnectEvent is one Connect agent event for the engine.
type ConnectEvent struct {
	// ConnectUserID is the agent (the id in the agent ARN).
	ConnectUserID string
	// Username is the Connect username from the event's snapshot, when it has one; it saves
	// a DescribeUser call when the link is resolved.
	Username string
	// Event is the normalized event.
	Event presence.Event
}

// Ack is a console acknowledgement for the engine.
type Ack struct {
	// EventID is the acknowledgement event's id (de-duplication and audit id); empty means
	// "ack/<command id>".
	EventID string
	// SalesforceUserID is the agent's Salesforce user id (18 characters).
	SalesforceUserID string
	// Time is when the console acknowledged; zero means now.
	Time time.Time
	// Ack is the acknowledgement.
	Ack presence.Ack
}

// NewBatch starts a batch.
func (e *Engine) NewBatch() *Batch {
	return &Batch{e: e, agents: map[string]*agentRun{}, marked: map[string]bool{}}
}

// config loads the config once per batch, so all of a batch's events decide with one version.
func (b *Batch) config(ctx context.Context) (*Compiled, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cfg == nil {
		c, err := b.e.configs.Current(ctx)
		if err != nil {
			return nil, err
		}
		b.cfg = c
	}
	return b.cfg, nil
}

func (b *Batch) agent(id string) *agentRun {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.agents[id]
	if !ok {
		a = &agentRun{id: id, delivered: map[string]bool{}, failures: map[string]string{}, dropped: map[string]drop{}}
		b.agents[id] = a
		b.order = append(b.order, id)
	}
	return a
}

// ProcessConnect applies one Connect agent event. A returned error is either retryable (see
// Retryable; the event, and the agent's later events, should be delivered again) or final (the
// event cannot be applied; it was not audited). A command that could not be delivered yields a
// *DeliveryError after the decision was stored: the event is decided for good and the command
// waits in the outbox.
func (b *Batch) ProcessConnect(ctx context.Context, in ConnectEvent) (Result, error) {
	if in.ConnectUserID == "" {
		return Result{}, apperr.New(apperr.Invalid, "Connect event %s names no agent", in.Event.ID)
	}
	cfg, err := b.config(ctx)
	if err != nil {
		return Result{}, err
	}
	a := b.agent(in.ConnectUserID)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.blocked != nil {
		return Result{Subject: agentSubject(a.id)}, errBlocked(a.id, a.blocked)
	}
	res, err := b.process(ctx, cfg, a, in.Event, func(ctx context.Context) (dynamo.Link, error) {
		return b.e.links.fromConnect(ctx, cfg.identityField(), a.id, in.Username)
	})
	if err != nil && Retryable(err) {
		a.blocked = err
	}
	return res, err
}

// ProcessSalesforce applies one Salesforce presence event of the user sfUserID. The event
// reaches the agent item through the identity link; a Salesforce user linked to no Connect
// user has no agent item, so the event is decided on an empty state for the audit (subject
// "user/<id>", outcome unlinked) and nothing is stored. Errors as for ProcessConnect.
func (b *Batch) ProcessSalesforce(ctx context.Context, sfUserID string, ev presence.Event) (Result, error) {
	if sfUserID == "" {
		return Result{}, apperr.New(apperr.Invalid, "Salesforce event %s names no user", ev.ID)
	}
	cfg, err := b.config(ctx)
	if err != nil {
		return Result{}, err
	}
	l, err := b.e.links.fromSalesforce(ctx, cfg.identityField(), sfUserID)
	if err != nil {
		return Result{Subject: userSubject(sfUserID)}, err
	}
	if !l.Found {
		return b.unlinkedSalesforce(ctx, cfg, sfUserID, ev, l)
	}
	a := b.agent(l.ConnectUserID)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.blocked != nil {
		return Result{Subject: agentSubject(a.id)}, errBlocked(a.id, a.blocked)
	}
	res, err := b.process(ctx, cfg, a, ev, func(context.Context) (dynamo.Link, error) { return l, nil })
	if err != nil && Retryable(err) {
		a.blocked = err
	}
	return res, err
}

// process is the shell's contract (package presence) for one event of a known agent:
// de-duplicate, resolve, load, decide, audit, store state and outbox, mark, deliver.
//
// Exactly-once effect rests on three things. The decision, its commands and its journal (its
// audit entries, the pending-index entries of its Salesforce commands and the event's
// idempotency key, see dynamo.AgentJournal) are stored in one conditional write, so a decision
// is never half-stored, and it costs one write on the event's path; Flush writes the
// journal's items in batches and the next write of the item clears them. A crash before the
// write leaves the event unprocessed and it is decided again; a crash after it is caught
// because the event's key is in the journal (or, once the journal is written, the key is
// marked processed; or Decide finds the event stale and the state names it as the last one
// applied, a "replay"), which counts as a duplicate; the replay's load finds the journal and
// its Flush writes it. And commands leave only from the outbox and carry ids derived from the
// event, so a resend after a lost acknowledgement is recognised by the receiver.
func (b *Batch) process(ctx context.Context, cfg *Compiled, a *agentRun, ev presence.Event,
	link func(context.Context) (dynamo.Link, error)) (Result, error) {
	e := b.e
	subject := agentSubject(a.id)
	// The idempotency check and the agent's load are independent reads: made at once, they
	// cost one round trip. A duplicate needs the loaded agent too, so the load is never wasted.
	var seen bool
	reads, rctx := errgroup.WithContext(ctx)
	if ev.ID != "" {
		if v, ok := b.prefetched(idemKey(ev.ID)); ok {
			seen = v
		} else {
			reads.Go(func() (err error) { seen, err = e.store.Seen(rctx, idemKey(ev.ID)); return err })
		}
	}
	reads.Go(func() error { return b.prepare(rctx, a) })
	if err := reads.Wait(); err != nil {
		return Result{Subject: subject}, err
	}
	if seen || b.processed(a, ev.ID) {
		return b.duplicate(ctx, cfg, a, ev)
	}
	l, err := link(ctx)
	if err != nil {
		return Result{Subject: subject}, err
	}
	// One clock reading per event: conflict retries then compute the same deadlines, so the
	// pending index entries they write are the same items.
	now := e.now()
	auditID := ev.ID
	if auditID == "" {
		auditID = fmt.Sprintf("no-id-%d", now.UnixNano())
	}
	var d presence.Decision
	for attempt := 0; ; attempt++ {
		st := a.rec.State
		st.ConnectUserID, st.SalesforceUserID = a.id, ""
		if l.Found {
			st.SalesforceUserID = l.SalesforceUserID
		}
		idsChanged := st.ConnectUserID != a.rec.State.ConnectUserID || st.SalesforceUserID != a.rec.State.SalesforceUserID
		deadlines := pendingDeadlines(st)
		var expired []presence.Audit
		if dl, ok := st.NextDeadline(); ok && !now.Before(dl) {
			st, expired = presence.ExpireCommands(st, now)
		}
		d = presence.Decide(st, ev, cfg.Set, cfg.Settings, now)
		if d.Audit.Outcome == presence.OutcomeStale && replayOf(a.rec.State, ev) {
			return b.duplicate(ctx, cfg, a, ev)
		}
		entries := expiryEntries(subject, expired, deadlines, a.rec.Outbox, cfg.Version)
		entries = append(entries, auditEntry(subject, auditID, now, d.Audit, d.Commands, cfg.Version))
		skip := d.Audit.Outcome == presence.OutcomeStale || d.Audit.Outcome == presence.OutcomeInvalid
		if skip && !idsChanged && len(expired) == 0 {
			// Nothing to store, so no journal: the audit is written now, and a failure fails
			// the event, to be delivered again. The marker waits for Flush; lost, it costs a
			// redelivered event the same decision and the same audit entry again.
			if err := e.appendAudits(ctx, cfg, entries...); err != nil {
				return Result{Subject: subject}, err
			}
			b.later(dynamo.AgentJournal{Keys: keysOf(ev.ID)})
			b.mark(ev.ID)
			break
		}
		rec := a.rec
		rec.ConnectUserID, rec.State = a.id, d.State
		rec.Outbox = slices.Clone(a.rec.Outbox)
		for _, c := range d.Commands {
			rec.Outbox = append(rec.Outbox, dynamo.OutboxEntry{Command: c})
		}
		if len(expired) > 0 {
			rec.Outbox = slices.DeleteFunc(rec.Outbox, func(en dynamo.OutboxEntry) bool { return !wanted(rec.State, en.Command, now) })
		}
		// Audits are keyed by event id and time and pending entries by deadline, agent and
		// command, so writing them again after a conflict retry or a crash overwrites them.
		if a.rec.Journal.Len() >= maxJournal {
			// Many events of one agent in one batch: the journal is written now rather than
			// let the item grow towards DynamoDB's 400 KB limit.
			if err := e.store.WriteJournal(ctx, a.rec.Journal, cfg.retention(), e.opts.IdempotencyTTL); err != nil {
				return Result{Subject: subject}, err
			}
			a.rec.Journal = dynamo.AgentJournal{}
		}
		rec.Journal = a.rec.Journal.Add(dynamo.AgentJournal{Keys: keysOf(ev.ID), Audits: entries, Pending: pendingRefs(a.id, d)})
		v, err := b.putAgent(ctx, rec)
		if apperr.Is(err, apperr.Conflict) && attempt < e.opts.ConflictRetries {
			if err := b.reload(ctx, a); err != nil {
				return Result{Subject: subject}, err
			}
			continue
		}
		if err != nil {
			return Result{Subject: subject}, err
		}
		rec.Version = v
		a.rec = rec
		b.mark(ev.ID)
		break
	}
	res := Result{Outcome: d.Audit.Outcome, Detail: d.Audit.Explanation, Subject: subject, Commands: d.Commands}
	if err := b.deliverConnect(ctx, a); err != nil {
		return res, err
	}
	return res, nil
}

// duplicate handles an event processed before: nothing is decided, but the agent's outbox is
// still drained, because a redelivered batch is how an undelivered command gets its retry.
func (b *Batch) duplicate(ctx context.Context, cfg *Compiled, a *agentRun, ev presence.Event) (Result, error) {
	subject := agentSubject(a.id)
	if err := b.prepare(ctx, a); err != nil {
		return Result{Subject: subject}, err
	}
	da := presence.Duplicate(a.rec.State, ev, b.e.now())
	// Its own id, so the decision's entry is kept; the same id every time, so replays overwrite.
	if err := b.e.appendAudits(ctx, cfg, auditEntry(subject, ev.ID+"/duplicate", time.Time{}, da, nil, cfg.Version)); err != nil {
		return Result{Subject: subject}, err
	}
	b.later(dynamo.AgentJournal{Keys: keysOf(ev.ID)})
	return Result{Outcome: presence.OutcomeDuplicate, Detail: da.Explanation, Subject: subject}, nil
}

// unlinkedSalesforce audits an event of a Salesforce user linked to no agent.
func (b *Batch) unlinkedSalesforce(ctx context.Context, cfg *Compiled, sfUserID string, ev presence.Event, l dynamo.Link) (Result, error) {
	e := b.e
	subject := userSubject(sfUserID)
	now := e.now()
	st := presence.AgentState{SalesforceUserID: sfUserID}
	if ev.ID != "" {
		seen, err := e.store.Seen(ctx, idemKey(ev.ID))
		if err != nil {
			return Result{Subject: subject}, err
		}
		if seen || b.processed(nil, ev.ID) {
			da := presence.Duplicate(st, ev, now)
			return Result{Outcome: presence.OutcomeDuplicate, Detail: da.Explanation, Subject: subject},
				e.appendAudits(ctx, cfg, auditEntry(subject, ev.ID+"/duplicate", now, da, nil, cfg.Version))
		}
	}
	d := presence.Decide(st, ev, cfg.Set, cfg.Settings, now)
	a := d.Audit
	if a.Outcome != presence.OutcomeInvalid {
		a.Outcome = presence.OutcomeUnlinked
		a.Explanation = fmt.Sprintf("Salesforce user %s is linked to no Connect user (%s, checked %s); nothing stored or sent. %s",
			sfUserID, l.Reason, l.ResolvedAt.UTC().Format(time.RFC3339), a.Explanation)
	}
	id := ev.ID
	if id == "" {
		id = fmt.Sprintf("no-id-%d", now.UnixNano())
	}
	if err := e.appendAudits(ctx, cfg, auditEntry(subject, id, now, a, nil, cfg.Version)); err != nil {
		return Result{Subject: subject}, err
	}
	b.mark(ev.ID)
	b.later(dynamo.AgentJournal{Keys: keysOf(ev.ID)})
	return Result{Outcome: a.Outcome, Detail: a.Explanation, Subject: subject}, nil
}

// Acknowledge applies a console acknowledgement: the pending command is settled, audited and
// removed from the sweep's index.
func (b *Batch) Acknowledge(ctx context.Context, in Ack) (Result, error) {
	e := b.e
	cfg, err := b.config(ctx)
	if err != nil {
		return Result{}, err
	}
	if in.SalesforceUserID == "" {
		return Result{}, apperr.New(apperr.Invalid, "acknowledgement names no Salesforce user")
	}
	now := e.now()
	at := in.Time
	if at.IsZero() {
		at = now
	}
	id := in.EventID
	if id == "" {
		id = "ack/" + in.Ack.CommandID
	}
	l, err := e.links.fromSalesforce(ctx, cfg.identityField(), in.SalesforceUserID)
	if err != nil {
		return Result{Subject: userSubject(in.SalesforceUserID)}, err
	}
	if !l.Found {
		subject := userSubject(in.SalesforceUserID)
		_, aud := presence.Acknowledge(presence.AgentState{SalesforceUserID: in.SalesforceUserID}, in.Ack, now)
		if err := e.appendAudits(ctx, cfg, auditEntry(subject, id, at, aud, nil, cfg.Version)); err != nil {
			return Result{Subject: subject}, err
		}
		return Result{Outcome: aud.Outcome, Detail: aud.Explanation, Subject: subject}, nil
	}
	a := b.agent(l.ConnectUserID)
	a.mu.Lock()
	defer a.mu.Unlock()
	subject := agentSubject(a.id)
	if a.blocked != nil {
		return Result{Subject: subject}, errBlocked(a.id, a.blocked)
	}
	if seen, err := e.store.Seen(ctx, idemKey(id)); err != nil {
		return Result{Subject: subject}, err
	} else if seen || b.processed(nil, id) {
		return Result{Outcome: presence.OutcomeDuplicate, Detail: "acknowledgement " + id + " was already processed; nothing done", Subject: subject}, nil
	}
	if err := b.prepare(ctx, a); err != nil {
		a.blocked = err
		return Result{Subject: subject}, err
	}
	var aud presence.Audit
	var settled *presence.PendingCommand
	for attempt := 0; ; attempt++ {
		i := slices.IndexFunc(a.rec.State.Pending, func(p presence.PendingCommand) bool { return p.Command.ID == in.Ack.CommandID })
		var st presence.AgentState
		st, aud = presence.Acknowledge(a.rec.State, in.Ack, now)
		if err := e.appendAudits(ctx, cfg, auditEntry(subject, id, at, aud, nil, cfg.Version)); err != nil {
			return Result{Subject: subject}, err
		}
		if i < 0 {
			break
		}
		p := a.rec.State.Pending[i]
		settled = &p
		rec := a.rec
		rec.State = st
		rec.Outbox = slices.DeleteFunc(slices.Clone(rec.Outbox), func(en dynamo.OutboxEntry) bool { return en.Command.ID == in.Ack.CommandID })
		v, err := b.putAgent(ctx, rec)
		if apperr.Is(err, apperr.Conflict) && attempt < e.opts.ConflictRetries {
			if err := b.reload(ctx, a); err != nil {
				return Result{Subject: subject}, err
			}
			continue
		}
		if err != nil {
			a.blocked = err
			return Result{Subject: subject}, err
		}
		rec.Version = v
		a.rec = rec
		break
	}
	if settled != nil {
		if err := e.store.DeletePending(ctx, dynamo.PendingRef{Deadline: settled.Deadline, ConnectUserID: a.id, CommandID: settled.Command.ID}); err != nil {
			e.log.WarnContext(ctx, "engine: could not remove a settled command from the pending index; the sweep will", "agent", a.id, "commandId", settled.Command.ID, "err", err)
		}
	}
	b.mark(id)
	b.later(dynamo.AgentJournal{Keys: keysOf(id)})
	return Result{Outcome: aud.Outcome, Detail: aud.Explanation, Subject: subject}, nil
}

// prepare loads the agent once per batch and delivers what its outbox holds for Connect from
// earlier invocations (Salesforce entries go out with Flush).
func (b *Batch) prepare(ctx context.Context, a *agentRun) error {
	if !a.loaded {
		if err := b.reload(ctx, a); err != nil {
			return err
		}
		// A journal left by an earlier invocation means that one did not finish: its items are
		// written with this batch's Flush, and the agent stays listed until they are.
		a.indexed = len(a.rec.Outbox) > 0 || !a.rec.Journal.Empty()
	}
	if !a.drained {
		if err := b.deliverConnect(ctx, a); err != nil {
			return err
		}
		a.drained = true
	}
	return nil
}

func (b *Batch) reload(ctx context.Context, a *agentRun) error {
	rec, err := b.e.store.GetAgent(ctx, a.id)
	if apperr.Is(err, apperr.NotFound) {
		rec, err = dynamo.AgentRecord{ConnectUserID: a.id}, nil
	}
	if err != nil {
		return err
	}
	a.rec, a.loaded = rec, true
	return nil
}

// PrefetchAgents reads, before the batch's events are processed, the agent items of agentIDs
// and the processed markers of eventIDs, in one BatchGetItem per 100 keys, instead of one
// GetItem per agent and per event on each event's path. What it reads is what the events'
// own reads would have read at the batch's start; an item written since by another writer is
// caught by the conditional write, which reloads. It is an optimisation only: on failure the
// events read for themselves, and report any error then.
func (b *Batch) PrefetchAgents(ctx context.Context, agentIDs, eventIDs []string) {
	keys := make([]string, 0, len(eventIDs))
	for _, id := range eventIDs {
		if id != "" {
			keys = append(keys, idemKey(id))
		}
	}
	var (
		recs  map[string]dynamo.AgentRecord
		known map[string]bool
		g     errgroup.Group
	)
	if len(agentIDs) > 0 {
		g.Go(func() (err error) { recs, err = b.e.store.GetAgents(ctx, agentIDs); return err })
	}
	if len(keys) > 0 {
		g.Go(func() (err error) { known, err = b.e.store.SeenKeys(ctx, keys); return err })
	}
	if err := g.Wait(); err != nil {
		b.e.log.WarnContext(ctx, "engine: prefetch failed; events read for themselves", "err", err)
		return
	}
	b.mu.Lock()
	b.known = known
	b.mu.Unlock()
	for _, id := range agentIDs {
		if id == "" {
			continue
		}
		a := b.agent(id)
		a.mu.Lock()
		if !a.loaded {
			rec, ok := recs[id]
			if !ok {
				rec = dynamo.AgentRecord{ConnectUserID: id}
			}
			a.rec, a.loaded = rec, true
			a.indexed = len(a.rec.Outbox) > 0 || !a.rec.Journal.Empty()
		}
		a.mu.Unlock()
	}
}

// prefetched returns what PrefetchAgents read for key, if it read it.
func (b *Batch) prefetched(key string) (seen, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen, ok = b.known[key]
	return seen, ok
}

// processed reports whether this batch processed the event already or, for a, whether its
// key waits in a's journal (stored, not yet marked).
func (b *Batch) processed(a *agentRun, eventID string) bool {
	if eventID == "" {
		return false
	}
	key := idemKey(eventID)
	b.mu.Lock()
	done := b.marked[key]
	b.mu.Unlock()
	return done || (a != nil && a.rec.Journal.HasKey(key))
}

// mark remembers an event id as processed for the rest of the batch.
func (b *Batch) mark(eventID string) {
	if eventID == "" {
		return
	}
	b.mu.Lock()
	b.marked[idemKey(eventID)] = true
	b.mu.Unlock()
}

// later queues markers for Flush that no agent item's journal carries.
func (b *Batch) later(j dynamo.AgentJournal) {
	b.mu.Lock()
	b.loose = b.loose.Add(j)
	b.mu.Unlock()
}

// maxJournal bounds the entries an agent item's journal carries: about eight decisions, each
// an audit entry of a few KB, an idempotency key and a pending-index entry.
const maxJournal = 24

func keysOf(eventID string) []string {
	if eventID == "" {
		return nil
	}
	return []string{idemKey(eventID)}
}

// putAgent stores rec, keeping in its journal only the pending-index entries of commands still
// pending in its state: an entry written after its command was settled (and its index entry
// deleted) would only cost the sweep a read, but there is no reason to write it.
func (b *Batch) putAgent(ctx context.Context, rec dynamo.AgentRecord) (int64, error) {
	rec.Journal.Pending = slices.DeleteFunc(slices.Clone(rec.Journal.Pending), func(p dynamo.PendingRef) bool {
		return !slices.ContainsFunc(rec.State.Pending, func(q presence.PendingCommand) bool { return q.Command.ID == p.CommandID })
	})
	if len(rec.Journal.Pending) == 0 {
		rec.Journal.Pending = nil
	}
	return b.e.store.PutAgent(ctx, rec)
}

// pendingRefs are the sweep's index entries of the decision's new Salesforce commands. They
// travel in the journal of the write that stores the commands: the state holding a pending
// command is never stored without the promise of its entry, so it always times out.
func pendingRefs(agentID string, d presence.Decision) []dynamo.PendingRef {
	var out []dynamo.PendingRef
	for _, c := range d.Commands {
		if c.Destination != rules.Salesforce {
			continue
		}
		for _, p := range d.State.Pending {
			if p.Command.ID == c.ID {
				out = append(out, dynamo.PendingRef{Deadline: p.Deadline, ConnectUserID: agentID, CommandID: c.ID})
			}
		}
	}
	return out
}

// replayOf reports whether ev is the last event the state applied from its system.
func replayOf(st presence.AgentState, ev presence.Event) bool {
	if ev.ID == "" {
		return false
	}
	if ev.Kind.System() == rules.Connect {
		return st.Connect.EventID == ev.ID
	}
	return st.Salesforce.EventID == ev.ID
}

func pendingDeadlines(st presence.AgentState) map[string]time.Time {
	m := make(map[string]time.Time, len(st.Pending))
	for _, p := range st.Pending {
		m[p.Command.ID] = p.Deadline
	}
	return m
}

// expiryEntries audits expired commands at their deadline (so a sweep that runs twice writes
// one entry), noting when the command never even left the outbox.
func expiryEntries(subject string, expired []presence.Audit, deadlines map[string]time.Time, outbox []dynamo.OutboxEntry, cfgVersion int64) []audit.Entry {
	out := make([]audit.Entry, 0, len(expired)+1)
	for _, x := range expired {
		for _, en := range outbox {
			if en.Command.ID == x.CommandID {
				x.Explanation += "; the platform event was never published"
				if en.LastError != "" {
					x.Explanation += " (last error: " + en.LastError + ")"
				}
			}
		}
		out = append(out, auditEntry(subject, x.CommandID+"/not-applied", deadlines[x.CommandID], x, nil, cfgVersion))
	}
	return out
}
