package sessionsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
	"github.com/omnibridge/omnibridge/shared/session"
)

// Delivered counts what deliveries did.
type Delivered struct {
	// Toggled counts distribution inputs the invocable action accepted.
	Toggled int `json:"toggled"`
	// ToggleCalls counts invocable action calls.
	ToggleCalls int `json:"toggleCalls"`
	// Requested counts Omni-Channel and Connect requests the presence engine took.
	Requested int `json:"requested"`
	// Failed counts actions kept in the users' Retry for the next run.
	Failed int `json:"failed"`
	// Corrected counts actions queued again because this run delivered the opposite one after a
	// newer decision for the user was stored and delivered (see settle).
	Corrected int `json:"corrected,omitempty"`
}

// delivery sends the actions stored in users' Retry lists, up to MaxToggleBatch users at a time,
// so that each invocable action call carries as many inputs as it can. It also holds the audit
// entries of the run until they can be written in batches (see flushAudits).
type delivery struct {
	s       *Service
	cfg     *engine.Compiled
	pending []queued

	mu     sync.Mutex // guards done and audits: the state writes run concurrently
	done   Delivered
	audits []audit.Entry
}

// queued is one user's actions waiting for delivery. A stored record's Retry is already in the
// table (a webhook decision, or a retry of an earlier run). An unstored one is a poll decision
// not written yet: its state is written once, after the delivery, with only the actions that
// failed in Retry (see Service.decidePoll), conditional on the version and under the bound it
// was decided with.
type queued struct {
	rec    dynamo.SessionRecord
	stored bool
	bound  eventtime.Bound
}

func newDelivery(s *Service, cfg *engine.Compiled) *delivery { return &delivery{s: s, cfg: cfg} }

// add queues rec's stored Retry actions, flushing when a call's worth is queued.
func (d *delivery) add(ctx context.Context, rec dynamo.SessionRecord) error {
	return d.queue(ctx, queued{rec: rec, stored: true})
}

func (d *delivery) queue(ctx context.Context, q queued) error {
	d.pending = append(d.pending, q)
	if len(d.pending) < MaxToggleBatch {
		return nil
	}
	_, err := d.flush(ctx)
	return err
}

// audit holds an entry for the next flushAudits.
func (d *delivery) audit(e audit.Entry) {
	d.mu.Lock()
	d.audits = append(d.audits, e)
	d.mu.Unlock()
}

// flushAudits writes the held entries, 25 a call. Audits are best effort here as everywhere in
// this package: a failure is logged and does not stop the run.
func (d *delivery) flushAudits(ctx context.Context) {
	d.mu.Lock()
	entries := d.audits
	d.audits = nil
	d.mu.Unlock()
	if len(entries) == 0 {
		return
	}
	if err := d.s.d.Store.AppendAudits(ctx, entries, d.cfg.Retention()); err != nil {
		d.s.opts.Logger.WarnContext(ctx, "session audit not written", "entries", len(entries), "err", err)
	}
}

// key identifies an action within a user's Retry list.
type key struct {
	target   session.Target
	online   bool
	causedBy string
}

func keyOf(a session.Action) key { return key{a.Target, a.Online, a.CausedBy} }

// flush writes the held audits (the decisions' entries go before anything is sent or stored),
// delivers every queued action, then writes each user's state, up to WriteConcurrency users at
// once: Retry without the delivered actions, and for an unstored decision the whole state. A
// failed write does not stop the others; the errors are returned together.
func (d *delivery) flush(ctx context.Context) (Delivered, error) {
	d.flushAudits(ctx)
	if len(d.pending) == 0 {
		return d.snapshot(), nil
	}
	pending := d.pending
	d.pending = nil
	failed := map[string]map[key]error{}       // user → action → error
	delivered := map[string][]session.Action{} // user → actions the targets took
	fail := func(a session.Action, err error) {
		if failed[a.UserID] == nil {
			failed[a.UserID] = map[key]error{}
		}
		failed[a.UserID][keyOf(a)] = err
	}
	targets := d.cfg.Session.Targets
	var toggles, directFor []session.Action
	var direct []presence.Command
	batch := d.s.d.Presence.NewBatch()
	now := d.s.opts.Now()
	for _, q := range pending {
		rec := q.rec
		for _, a := range rec.State.Retry {
			a.UserID = rec.State.UserID
			switch {
			case a.Target == session.TargetDistribution && targets.Distribution.Enabled:
				toggles = append(toggles, a)
			case a.Target == session.TargetOmniChannel && targets.OmniChannel.Enabled,
				a.Target == session.TargetConnect && targets.Connect.Enabled:
				ev := availabilityEvent(a, d.cfg.Session, now)
				res, err := batch.ProcessSalesforce(ctx, a.UserID, ev)
				switch {
				case err == nil && res.Outcome == presence.OutcomeUnlinked && a.Target == session.TargetOmniChannel:
					// A Salesforce user with no Connect agent has no presence state to track the
					// command in; Omni-Channel still gets it, untracked.
					if cmd, ok := untrackedCommand(d.cfg, a, ev, now); ok {
						direct = append(direct, cmd)
						directFor = append(directFor, a)
					}
				case err != nil && engine.Retryable(err):
					fail(a, err)
				case err == nil:
					delivered[a.UserID] = append(delivered[a.UserID], a)
					d.count(func(c *Delivered) { c.Requested++ })
				default:
					d.count(func(c *Delivered) { c.Requested++ }) // refused for good; the engine audited why
				}
			default:
				// The target was disabled since: the action is dropped with the next write.
			}
		}
	}
	if len(toggles) > 0 {
		d.count(func(c *Delivered) { c.ToggleCalls++ })
		errs, err := d.s.d.Org.Toggle(ctx, targets.Distribution, toggles)
		for i, a := range toggles {
			e := err
			if i < len(errs) && errs[i] != nil {
				e = errs[i]
			}
			if e != nil {
				fail(a, e)
			} else {
				delivered[a.UserID] = append(delivered[a.UserID], a)
				d.count(func(c *Delivered) { c.Toggled++ })
			}
		}
	}
	if len(direct) > 0 {
		errs, err := d.s.d.Publisher.PublishPresenceCommands(ctx, direct)
		for i, a := range directFor {
			e := err
			if i < len(errs) && errs[i] != nil {
				e = errs[i]
			}
			switch {
			case e == nil:
				delivered[a.UserID] = append(delivered[a.UserID], a)
				d.count(func(c *Delivered) { c.Requested++ })
			case engine.Retryable(e):
				fail(a, e)
			default:
				d.audit(audit.Entry{Subject: subject(a.UserID), Time: now, ID: direct[i].ID + "/refused", EventID: a.CausedBy,
					Outcome: "delivery-refused", Message: fmt.Sprintf("Omni-Channel %s for user %s refused: %s; not retried", a.Status, a.UserID, apperr.MessageOf(e))})
			}
		}
	}
	if _, err := batch.Flush(ctx); err != nil {
		// The engine keeps undelivered commands in its outbox and its sweep retries them: the
		// requests were taken.
		d.s.opts.Logger.WarnContext(ctx, "session: presence engine flush", "err", err)
	}
	// One goroutine per user at a time, so a user's writes stay in order; the users' are
	// independent (their own items, conditional on their own versions). Decisions on users
	// without a versioned item are stored together, as first-sight items.
	var g errgroup.Group
	g.SetLimit(d.s.opts.WriteConcurrency)
	errs := make([]error, len(pending)+1)
	var firsts []queued
	for i, q := range pending {
		if !q.stored && q.rec.Version == 0 {
			firsts = append(firsts, q)
			continue
		}
		id := q.rec.State.UserID
		g.Go(func() error {
			if ctx.Err() != nil {
				// Not written: a stored Retry is delivered again by the next run, and an
				// unstored decision is taken again by the next poll.
				errs[i] = fmt.Errorf("store delivery results of user %s: %w", id, ctx.Err())
				return nil
			}
			errs[i] = d.settle(ctx, q, failed[id], delivered[id])
			return nil
		})
	}
	if len(firsts) > 0 {
		g.Go(func() error {
			errs[len(pending)] = d.settleFirstSights(ctx, firsts, failed, delivered)
			return nil
		})
	}
	_ = g.Wait()
	d.flushAudits(ctx)
	return d.snapshot(), errors.Join(errs...)
}

// count updates the counters under the lock.
func (d *delivery) count(f func(*Delivered)) {
	d.mu.Lock()
	f(&d.done)
	d.mu.Unlock()
}

func (d *delivery) snapshot() Delivered {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.done
}

// settle stores q's Retry as the actions that failed (attempts counted), reloading on a
// concurrent write and removing only what was delivered. An unstored decision is written even
// when its Retry did not change, since its state is not in the table yet.
//
// A concurrent write means a newer decision was stored after rec was read, and it may have been
// delivered before the actions just delivered from rec, which then overwrote it at the target
// (a poll's switch-on landing after the logout's switch-off). The targets take no ordering key,
// so the newer state's availability is queued again where that may have happened (see
// corrections); the next run sends it. An unstored poll decision that meets such a write is not
// decided again in this run: the next poll observes the user afresh.
func (d *delivery) settle(ctx context.Context, q queued, failed map[key]error, delivered []session.Action) error {
	sent := d.sentAndAudit(q.rec, failed)
	return d.store(ctx, q, q.rec, sent, failed, delivered, 0)
}

// settleFirstSights stores the poll's decisions on users who have no versioned item (first
// sight, or a first-sight item still in effect) as first-sight items, 25 to a call and without
// conditions, Retry being the actions that failed. Then it reads which of those users have a
// versioned item now: one a webhook decision wrote after the poll read the table. That
// decision stands (a versioned item supersedes a first-sight item), and its delivery may have
// reached the targets before this delivery's opposite action, so it is settled as after a
// conflict: its availability is queued again where that may have happened (see corrections).
// A versioned item written after the check was written after this delivery, so its own
// delivery lands last.
//
// A failed batch leaves the users without a stored state: the next poll sees them for the
// first time again and sends the same switch.
func (d *delivery) settleFirstSights(ctx context.Context, qs []queued, failed map[string]map[key]error, delivered map[string][]session.Action) error {
	states := make([]session.State, len(qs))
	ids := make([]string, len(qs))
	sent := make([]map[key]bool, len(qs))
	for i, q := range qs {
		id := q.rec.State.UserID
		sent[i] = d.sentAndAudit(q.rec, failed[id])
		st := q.rec.State
		st.Retry = retryLeft(q.rec.State.Retry, sent[i], failed[id])
		states[i], ids[i] = st, id
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store first-sight states of %d users: %w", len(qs), err)
	}
	if err := d.s.d.Store.PutFirstSights(ctx, states); err != nil {
		return fmt.Errorf("store first-sight states of %d users: %w", len(qs), err)
	}
	written, err := d.s.d.Store.VersionedSessions(ctx, ids)
	if err != nil {
		return fmt.Errorf("check %d first-sight users for concurrent writes: %w", len(ids), err)
	}
	var errs []error
	for i, q := range qs {
		if rec, ok := written[ids[i]]; ok {
			errs = append(errs, d.store(ctx, q, rec, sent[i], failed[ids[i]], delivered[ids[i]], 1))
		}
	}
	return errors.Join(errs...)
}

// sentAndAudit returns the keys of rec's Retry actions that were delivered, and counts and
// audits the ones that failed.
func (d *delivery) sentAndAudit(rec dynamo.SessionRecord, failed map[key]error) map[key]bool {
	sent := map[key]bool{}
	for _, a := range rec.State.Retry {
		if _, bad := failed[keyOf(a)]; !bad {
			sent[keyOf(a)] = true
		}
	}
	for k, err := range failed {
		d.count(func(n *Delivered) { n.Failed++ })
		msg := fmt.Sprintf("%s %s for user %s failed: %s; kept for the next run", k.target, onOff(k.online), rec.State.UserID, apperr.MessageOf(err))
		d.audit(audit.Entry{Subject: subject(rec.State.UserID), Time: d.s.opts.Now(),
			ID: fmt.Sprintf("%s/%s/%s/failed", k.causedBy, k.target, onOff(k.online)), EventID: k.causedBy,
			Outcome: "delivery-failed", Message: msg, Details: map[string]any{"target": k.target, "online": k.online}})
	}
	return sent
}

// retryLeft is retry without the actions sent, the failed ones' attempts counted.
func retryLeft(retry []session.Action, sent map[key]bool, failed map[key]error) []session.Action {
	var out []session.Action
	for _, a := range retry {
		if sent[keyOf(a)] {
			continue
		}
		if _, bad := failed[keyOf(a)]; bad {
			a.Attempts++
		}
		out = append(out, a)
	}
	return out
}

// store writes rec (q's record, or from attempt 1 on the one reloaded after a concurrent write)
// with its Retry less the actions sent, and after a reload the corrections, reloading again on
// a conflict.
func (d *delivery) store(ctx context.Context, q queued, rec dynamo.SessionRecord, sent map[key]bool, failed map[key]error, delivered []session.Action, attempt int) error {
	bound := q.bound
	if q.stored || attempt > 0 {
		bound = d.cfg.Bound(d.s.opts.Now())
	}
	var fixes []session.Action
	for ; ; attempt++ {
		st := rec.State
		st.Retry = retryLeft(rec.State.Retry, sent, failed)
		if attempt > 0 { // rec was reloaded: a newer decision may have been overtaken
			fixes = d.corrections(rec.State, delivered, st.Retry)
			st.Retry = append(st.Retry, fixes...)
		}
		if (q.stored || attempt > 0) && slices.Equal(st.Retry, rec.State.Retry) {
			return nil
		}
		_, err := d.s.d.Store.PutSession(ctx, st, rec.Version, bound)
		if apperr.Is(err, apperr.Conflict) && attempt < d.s.opts.ConflictRetries {
			if rec, err = d.s.reload(ctx, rec.State.UserID); err != nil {
				return err
			}
			bound = d.cfg.Bound(d.s.opts.Now())
			continue
		}
		if err == nil {
			for _, c := range fixes {
				d.count(func(n *Delivered) { n.Corrected++ })
				msg := fmt.Sprintf("%s %s for user %s was delivered after a newer decision (%s) was stored; %s queued again for the next run",
					c.Target, onOff(!c.Online), c.UserID, rec.State.LastEventID, onOff(c.Online))
				d.audit(audit.Entry{Subject: subject(c.UserID), Time: d.s.opts.Now(), ID: c.CausedBy + "/requeued",
					EventID: rec.State.LastEventID, Outcome: OutcomeRequeued, Message: msg,
					Details: map[string]any{"target": c.Target, "online": c.Online}})
			}
		}
		return err
	}
}

// OutcomeRequeued is the audit outcome of an availability queued again because an older
// decision's action overtook it at the target.
const OutcomeRequeued = "requeued"

// corrections returns the actions that restore cur's availability on the targets to which this
// delivery sent the opposite, unless the decision that set cur still has its own action for the
// target pending (it will land after this one) or cur is a manual switch-off being respected.
// Their CausedBy names both decisions, so each is a new request to the presence engine.
func (d *delivery) corrections(cur session.State, delivered, pending []session.Action) []session.Action {
	if cur.Available == nil || (*cur.Available && cur.ManualOff) {
		return nil
	}
	want := *cur.Available
	t := d.cfg.Session.Targets
	reasons := d.cfg.Session.Reasons
	reason := reasons.LoggedIn
	if !want {
		reason = reasons.LoggedOut
		if cur.Source == session.SourcePoll {
			reason = reasons.NoSession
		}
	}
	var out []session.Action
	for _, a := range delivered {
		if a.Online == want || slices.ContainsFunc(pending, func(p session.Action) bool { return p.Target == a.Target && p.Online == want }) {
			continue
		}
		c := session.Action{Target: a.Target, UserID: cur.UserID, Online: want, Reason: reason,
			CausedBy: cur.LastEventID + "/after/" + a.CausedBy}
		switch a.Target {
		case session.TargetOmniChannel:
			c.Status = session.OfflineStatus
			if want {
				c.Status = t.OmniChannel.OnLoginStatus // none: login leaves presence alone
			}
		case session.TargetConnect:
			c.Status = t.Connect.OnLogoutStatus
			if want {
				c.Status = "" // login sets nothing in Connect
			}
		}
		if a.Target != session.TargetDistribution && c.Status == "" {
			continue
		}
		out = append(out, c)
	}
	return out
}

func onOff(online bool) string {
	if online {
		return "on"
	}
	return "off"
}

// untrackedCommand is the Omni-Channel command for a user the presence engine cannot track (no
// Connect agent): the same id, target and reason the engine would send.
func untrackedCommand(cfg *engine.Compiled, a session.Action, ev presence.Event, now time.Time) (presence.Command, bool) {
	target, ok := cfg.Set.TargetFor(rules.Salesforce, a.Status)
	if !ok {
		return presence.Command{}, false
	}
	return presence.Command{
		ID: presence.CommandID(ev.ID, rules.Salesforce), Destination: rules.Salesforce, UserID: a.UserID, Target: target,
		Mode: presence.ModeNow, Reason: a.Reason, CausedBy: ev.ID, ChainID: ev.ID, IssuedAt: now,
	}, true
}
