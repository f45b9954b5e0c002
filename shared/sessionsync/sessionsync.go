// Package sessionsync is the shell around session.Decide: it applies Salesforce login and logout
// events from the webhook, runs the scheduled AuthSession poll and presence reconciliation, and
// delivers the resulting availability actions to their targets (the distribution package's
// invocable action, Omni-Channel and Amazon Connect through the presence engine).
//
// Nothing is lost: a webhook decision's actions are stored with the user's state (State.Retry)
// in the same conditional write that records the transition, before any is sent; an action
// leaves Retry only once its target accepted it, so a failed input, a failed call or a crash
// between the two is retried by the next run. A poll decision is sent first and stored once,
// with only its failed actions in Retry: the poll takes it again from Salesforce's sessions
// on its next run if the write never happened (see Service.decidePoll). A poll decision on a
// user with no versioned item is stored as a first-sight item, in batches (see
// delivery.settleFirstSights and dynamo.SessionRecord).
package sessionsync

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
	"github.com/omnibridge/omnibridge/shared/session"
)

// MaxToggleBatch is the most inputs one invocable action call takes.
const MaxToggleBatch = 200

// Store is the table (*dynamo.Store).
type Store interface {
	GetSession(ctx context.Context, userID string) (dynamo.SessionRecord, error)
	PutSession(ctx context.Context, st session.State, expectedVersion int64, b eventtime.Bound) (int64, error)
	Sessions(ctx context.Context) iter.Seq2[dynamo.SessionRecord, error]
	AppendAudit(ctx context.Context, e audit.Entry, retention time.Duration) error
	// AppendAudits writes many entries as AppendAudit would, in batches.
	AppendAudits(ctx context.Context, entries []audit.Entry, retention time.Duration) error
	// PutFirstSights stores poll decisions on users without a versioned item, in batches and
	// without conditions; VersionedSessions then finds the users a webhook decision wrote
	// meanwhile, whose versioned items supersede them (see dynamo.SessionRecord).
	PutFirstSights(ctx context.Context, states []session.State) error
	VersionedSessions(ctx context.Context, userIDs []string) (map[string]dynamo.SessionRecord, error)
	// DeleteFirstSights removes superseded first-sight items.
	DeleteFirstSights(ctx context.Context, userIDs []string) error
}

var _ Store = (*dynamo.Store)(nil)

// SessionRow is one AuthSession record.
type SessionRow struct {
	UserID       string
	LastModified time.Time
	SecondsValid int
}

// Expires is when the session stops being valid: LastModifiedDate + NumSecondsValid.
func (r SessionRow) Expires() time.Time {
	return r.LastModified.Add(time.Duration(r.SecondsValid) * time.Second)
}

// PresenceRow is one UserServicePresence record.
type PresenceRow struct {
	ID            string
	UserID        string
	StatusID      string
	DeveloperName string
	// Current is IsCurrentState: the user's present status. A row that is not current ended at
	// End.
	Current bool
	Start   time.Time
	End     time.Time
}

// Org is the Salesforce side of the poll and of the distribution toggle. Queries select only the
// relevant users of s (a semi-join on User) and stream their results page by page.
type Org interface {
	// SessionPages yields the AuthSession rows of relevant users, filtered by s's session and
	// login types.
	SessionPages(ctx context.Context, s config.Session) iter.Seq2[[]SessionRow, error]
	// PresencePages yields the UserServicePresence rows of relevant users that started or
	// ended at or after since.
	PresencePages(ctx context.Context, s config.Session, since time.Time) iter.Seq2[[]PresenceRow, error]
	// Relevant returns which of userIDs (at most MaxToggleBatch) are active relevant users.
	Relevant(ctx context.Context, s config.Session, userIDs []string) (map[string]bool, error)
	// Toggle calls the distribution target's invocable action with one input per action (at
	// most MaxToggleBatch) and returns one error per action, nil for accepted; a non-nil
	// second result means the call failed as a whole.
	Toggle(ctx context.Context, t config.DistributionTarget, actions []session.Action) ([]error, error)
}

// Presence is the presence engine (*engine.Engine): Omni-Channel and Connect actions become
// availability requests on its command path, and the poll's presence rows become events.
type Presence interface {
	NewBatch() *engine.Batch
}

var _ Presence = (*engine.Engine)(nil)

// Deps are the service's collaborators; all are required.
type Deps struct {
	Store    Store
	Configs  engine.Configs
	Org      Org
	Presence Presence
	// Publisher publishes Omni-Channel commands for users the presence engine cannot track
	// (no linked Connect agent).
	Publisher engine.PresencePublisher
}

// Options tune the service.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives failures that do not change an outcome; nil discards.
	Logger *slog.Logger
	// PresenceLookback is how far back the poll looks for presence changes the webhook may have
	// missed; DefaultPresenceLookback when zero. Make it longer than the poll interval.
	PresenceLookback time.Duration
	// ConflictRetries bounds reload-and-decide rounds after a concurrent write (default 5).
	ConflictRetries int
	// WriteConcurrency bounds the users whose states a delivery writes at once
	// (DefaultWriteConcurrency when zero).
	WriteConcurrency int
}

// DefaultWriteConcurrency is how many users' states a delivery writes at once: each write is
// one conditional PutItem on its own item, so they are independent, and at a few milliseconds a
// write from Lambda, 32 at once keep a first poll of 50,000 users to seconds (BENCHMARKS.md §8.4).
const DefaultWriteConcurrency = 32

// DefaultPresenceLookback covers two runs of the default 5-minute schedule and a margin.
const DefaultPresenceLookback = 15 * time.Minute

// Service applies session events and runs the poll. Safe for concurrent use.
type Service struct {
	d    Deps
	opts Options
}

// New returns the service.
func New(d Deps, o Options) (*Service, error) {
	if d.Store == nil || d.Configs == nil || d.Org == nil || d.Presence == nil || d.Publisher == nil {
		return nil, errors.New("sessionsync: every dependency is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PresenceLookback <= 0 {
		o.PresenceLookback = DefaultPresenceLookback
	}
	if o.ConflictRetries <= 0 {
		o.ConflictRetries = 5
	}
	if o.WriteConcurrency <= 0 {
		o.WriteConcurrency = DefaultWriteConcurrency
	}
	return &Service{d: d, opts: o}, nil
}

// Result is what became of one event.
type Result struct {
	Outcome session.Outcome
	Detail  string
	// Actions counts the availability actions the decision issued.
	Actions int
	// queued is set when the stored Retry list was queued for delivery.
	queued bool
	// rec is the user's record as apply left it: the one it wrote, or the one it decided on
	// (reloaded after a conflict) when nothing was written.
	rec dynamo.SessionRecord
}

// ProcessSession applies one login or logout event from the webhook: decided, stored, audited
// and delivered at once (a logout acts without waiting for the poll). A user outside the
// relevant set is audited and left alone.
func (s *Service) ProcessSession(ctx context.Context, ev session.Event) (Result, error) {
	cfg, err := s.d.Configs.Current(ctx)
	if err != nil {
		return Result{}, err
	}
	if !cfg.Session.Enabled {
		return Result{Outcome: session.OutcomeUnchanged, Detail: "session-driven availability is disabled in the config; nothing done"}, nil
	}
	rel, err := s.d.Org.Relevant(ctx, cfg.Session, []string{ev.UserID})
	if err != nil {
		return Result{}, err
	}
	if !rel[ev.UserID] {
		detail := fmt.Sprintf("user %s is not an active user in the relevant set; %s event %s ignored", ev.UserID, ev.Kind, ev.ID)
		s.audit(ctx, cfg, audit.Entry{Subject: subject(ev.UserID), Time: ev.At, ID: ev.ID, EventID: ev.ID,
			Outcome: string(OutcomeNotRelevant), Message: detail, Details: map[string]any{"source": ev.Source, "kind": ev.Kind}})
		return Result{Outcome: OutcomeNotRelevant, Detail: detail}, nil
	}
	rec, err := s.d.Store.GetSession(ctx, ev.UserID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return Result{}, err
	}
	rec.State.UserID = ev.UserID
	d := newDelivery(s, cfg)
	res, err := s.apply(ctx, cfg, d, rec, ev)
	if err != nil {
		return res, err
	}
	_, err = d.flush(ctx)
	return res, err
}

// OutcomeNotRelevant is the audit outcome for events of users outside the relevant set.
const OutcomeNotRelevant session.Outcome = "not-relevant"

// apply decides ev on rec (reloading after conflicts), stores the state with the decision's
// actions in Retry, audits, and queues the actions on d.
func (s *Service) apply(ctx context.Context, cfg *engine.Compiled, d *delivery, rec dynamo.SessionRecord, ev session.Event) (Result, error) {
	bound := cfg.Bound(s.opts.Now())
	for attempt := 0; ; attempt++ {
		dec := session.Decide(rec.State, ev, cfg.Session, bound)
		res := Result{Outcome: dec.Audit.Outcome, Detail: dec.Audit.Explanation, Actions: len(dec.Actions), rec: rec}
		if dec.Audit.Record {
			s.audit(ctx, cfg, decisionEntry(dec))
		}
		if !dec.Write {
			return res, nil
		}
		st := dec.State
		st.Retry = mergeRetry(st.Retry, dec.Actions)
		v, err := s.d.Store.PutSession(ctx, st, rec.Version, bound)
		if apperr.Is(err, apperr.Conflict) && attempt < s.opts.ConflictRetries {
			if rec, err = s.reload(ctx, ev.UserID); err != nil {
				return res, err
			}
			continue
		}
		if err != nil {
			return res, err
		}
		res.rec = dynamo.SessionRecord{State: st, Version: v}
		if len(st.Retry) > 0 {
			res.queued = true
			if err := d.add(ctx, res.rec); err != nil {
				return res, err
			}
		}
		return res, nil
	}
}

// decidePoll decides a poll event on rec and queues the decision on d without writing it: d's
// flush sends its actions and then writes the state once, with only the actions that failed
// left in Retry, instead of writing the state with every action in Retry and again after the
// delivery. The decision's audit entry is written before either (by the flush).
//
// This is safe for the poll's decisions, and only for them, because the poll derives them
// again on every run from what Salesforce reports (sessions and presence) and the stored
// state; a webhook event is seen once, so its actions go to Retry first (apply). A crash
// before the write leaves the stored state as it was, and the next poll decides the same again
// and sends the actions again, which switch the user to what the first sending switched them
// to. The write stays conditional (version and newer-wins, under the
// bound decided with), so a concurrent webhook decision is never overwritten; see settle.
func (s *Service) decidePoll(ctx context.Context, cfg *engine.Compiled, d *delivery, rec dynamo.SessionRecord, ev session.Event) (Result, error) {
	bound := cfg.Bound(s.opts.Now())
	dec := session.Decide(rec.State, ev, cfg.Session, bound)
	res := Result{Outcome: dec.Audit.Outcome, Detail: dec.Audit.Explanation, Actions: len(dec.Actions), rec: rec}
	if dec.Audit.Record {
		d.audit(decisionEntry(dec))
	}
	if !dec.Write {
		return res, nil
	}
	st := dec.State
	st.Retry = mergeRetry(st.Retry, dec.Actions)
	res.queued = true
	return res, d.queue(ctx, queued{rec: dynamo.SessionRecord{State: st, Version: rec.Version}, bound: bound})
}

func (s *Service) reload(ctx context.Context, userID string) (dynamo.SessionRecord, error) {
	rec, err := s.d.Store.GetSession(ctx, userID)
	if apperr.Is(err, apperr.NotFound) {
		return dynamo.SessionRecord{State: session.State{UserID: userID}}, nil
	}
	return rec, err
}

// mergeRetry adds actions to the retry list, replacing older entries for the same target.
func mergeRetry(retry, actions []session.Action) []session.Action {
	out := make([]session.Action, 0, len(retry)+len(actions))
	for _, r := range retry {
		superseded := false
		for _, a := range actions {
			if a.Target == r.Target {
				superseded = true
			}
		}
		if !superseded {
			out = append(out, r)
		}
	}
	return append(out, actions...)
}

func subject(userID string) string { return audit.Subject(audit.KindUser, userID) }

func (s *Service) audit(ctx context.Context, cfg *engine.Compiled, e audit.Entry) {
	if err := s.d.Store.AppendAudit(ctx, e, cfg.Retention()); err != nil {
		s.opts.Logger.WarnContext(ctx, "session audit not written", "subject", e.Subject, "id", e.ID, "err", err)
	}
}

func decisionEntry(d session.Decision) audit.Entry {
	a := d.Audit
	details := map[string]any{
		"kind": a.Kind, "source": a.Source, "active": a.Active,
		"decidedAt": a.DecidedAt.UTC().Format(time.RFC3339Nano),
	}
	if a.Reason != "" {
		details["reason"] = a.Reason
	}
	if a.Available != nil {
		details["available"] = *a.Available
	}
	if len(d.Actions) > 0 {
		details["actions"] = d.Actions
	}
	t := a.EventAt
	if t.IsZero() {
		t = a.DecidedAt
	}
	return audit.Entry{Subject: subject(a.UserID), Time: t, ID: a.EventID, EventID: a.EventID,
		Outcome: string(a.Outcome), Message: a.Explanation, Details: details}
}

// availabilityEvent turns an Omni-Channel or Connect action into the presence engine's
// availability request. Its id is derived from the causing event, the target and the
// direction, so a retried action is recognised by the engine as the same request.
func availabilityEvent(a session.Action, cs config.Session, now time.Time) presence.Event {
	// Only a session's end switches a user off (logout, or no valid session found).
	req := &presence.AvailabilityRequest{Status: a.Status, Reason: a.Reason, SessionEnded: !a.Online}
	switch a.Target {
	case session.TargetOmniChannel:
		req.Destination = rules.Salesforce
	case session.TargetConnect:
		req.Destination = rules.Connect
		req.WhileOnContact = rules.Policy(cs.Targets.Connect.WhileOnContact)
	}
	dir := "off"
	if a.Online {
		dir = "on"
	}
	return presence.Event{
		ID: fmt.Sprintf("session/%s/%s/%s", a.CausedBy, a.Target, dir), Kind: presence.KindAvailability,
		Time: now, Origin: presence.OriginSession, Availability: req,
	}
}
