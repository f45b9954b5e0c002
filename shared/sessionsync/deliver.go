package sessionsync

import (
	"context"
	"fmt"
	"slices"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
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
}

// delivery sends the actions stored in users' Retry lists, up to MaxToggleBatch users at a time,
// so that each invocable action call carries as many inputs as it can.
type delivery struct {
	s       *Service
	cfg     *engine.Compiled
	pending []dynamo.SessionRecord
	done    Delivered
}

func newDelivery(s *Service, cfg *engine.Compiled) *delivery { return &delivery{s: s, cfg: cfg} }

// add queues rec's Retry actions, flushing when a call's worth is queued.
func (d *delivery) add(ctx context.Context, rec dynamo.SessionRecord) error {
	d.pending = append(d.pending, rec)
	if len(d.pending) < MaxToggleBatch {
		return nil
	}
	_, err := d.flush(ctx)
	return err
}

// key identifies an action within a user's Retry list.
type key struct {
	target   session.Target
	online   bool
	causedBy string
}

func keyOf(a session.Action) key { return key{a.Target, a.Online, a.CausedBy} }

// flush delivers every queued action, then stores each user's Retry without the delivered ones.
func (d *delivery) flush(ctx context.Context) (Delivered, error) {
	if len(d.pending) == 0 {
		return d.done, nil
	}
	pending := d.pending
	d.pending = nil
	failed := map[string]map[key]error{} // user → action → error
	fail := func(a session.Action, err error) {
		if failed[a.UserID] == nil {
			failed[a.UserID] = map[key]error{}
		}
		failed[a.UserID][keyOf(a)] = err
	}
	targets := d.cfg.Session.Targets
	var toggles []session.Action
	batch := d.s.d.Presence.NewBatch()
	now := d.s.opts.Now()
	for _, rec := range pending {
		for _, a := range rec.State.Retry {
			a.UserID = rec.State.UserID
			switch {
			case a.Target == session.TargetDistribution && targets.Distribution.Enabled:
				toggles = append(toggles, a)
			case a.Target == session.TargetOmniChannel && targets.OmniChannel.Enabled,
				a.Target == session.TargetConnect && targets.Connect.Enabled:
				if _, err := batch.ProcessSalesforce(ctx, a.UserID, availabilityEvent(a, d.cfg.Session, now)); err != nil && engine.Retryable(err) {
					fail(a, err)
				} else {
					d.done.Requested++
				}
			default:
				// The target was disabled since: the action is dropped with the next write.
			}
		}
	}
	if len(toggles) > 0 {
		d.done.ToggleCalls++
		errs, err := d.s.d.Org.Toggle(ctx, targets.Distribution, toggles)
		for i, a := range toggles {
			e := err
			if i < len(errs) && errs[i] != nil {
				e = errs[i]
			}
			if e != nil {
				fail(a, e)
			} else {
				d.done.Toggled++
			}
		}
	}
	if _, err := batch.Flush(ctx); err != nil {
		// The engine keeps undelivered commands in its outbox and its sweep retries them: the
		// requests were taken.
		d.s.opts.Logger.WarnContext(ctx, "session: presence engine flush", "err", err)
	}
	for _, rec := range pending {
		if err := d.settle(ctx, rec, failed[rec.State.UserID]); err != nil {
			return d.done, err
		}
	}
	return d.done, nil
}

// settle stores rec's Retry as the actions that failed (attempts counted), reloading on a
// concurrent write and removing only what was delivered.
func (d *delivery) settle(ctx context.Context, rec dynamo.SessionRecord, failed map[key]error) error {
	sent := map[key]bool{}
	for _, a := range rec.State.Retry {
		if _, bad := failed[keyOf(a)]; !bad {
			sent[keyOf(a)] = true
		}
	}
	for k, err := range failed {
		d.done.Failed++
		msg := fmt.Sprintf("%s %s for user %s failed: %s; kept for the next run", k.target, onOff(k.online), rec.State.UserID, apperr.MessageOf(err))
		d.s.audit(ctx, d.cfg, audit.Entry{Subject: subject(rec.State.UserID), Time: d.s.opts.Now(),
			ID: fmt.Sprintf("%s/%s/%s/failed", k.causedBy, k.target, onOff(k.online)), EventID: k.causedBy,
			Outcome: "delivery-failed", Message: msg, Details: map[string]any{"target": k.target, "online": k.online}})
	}
	for attempt := 0; ; attempt++ {
		st := rec.State
		st.Retry = nil
		for _, a := range rec.State.Retry {
			if sent[keyOf(a)] {
				continue
			}
			if _, bad := failed[keyOf(a)]; bad {
				a.Attempts++
			}
			st.Retry = append(st.Retry, a)
		}
		if slices.Equal(st.Retry, rec.State.Retry) {
			return nil
		}
		_, err := d.s.d.Store.PutSession(ctx, st, rec.Version)
		if apperr.Is(err, apperr.Conflict) && attempt < d.s.opts.ConflictRetries {
			if rec, err = d.s.reload(ctx, rec.State.UserID); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

func onOff(online bool) string {
	if online {
		return "on"
	}
	return "off"
}
