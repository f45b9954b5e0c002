package sessionsync

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
	"github.com/omnibridge/omnibridge/shared/session"
)

// Report is what one poll run saw and did.
type Report struct {
	// Disabled is true when the config has session-driven availability off: nothing was read.
	Disabled bool `json:"disabled,omitempty"`
	// At is the run's observation time.
	At time.Time `json:"at"`
	// SessionRows and ActiveUsers count AuthSession rows read and users with a valid session.
	SessionRows int `json:"sessionRows"`
	ActiveUsers int `json:"activeUsers"`
	// StoredUsers counts stored session states read.
	StoredUsers int `json:"storedUsers"`
	// ToggledOn and ToggledOff count transitions; LeftOff counts manual switch-offs respected;
	// NotRelevant counts users found to have left the relevant set.
	ToggledOn   int `json:"toggledOn"`
	ToggledOff  int `json:"toggledOff"`
	LeftOff     int `json:"leftOff"`
	NotRelevant int `json:"notRelevant"`
	// PresenceRows and PresenceEvents count presence rows read and the events they fed to the
	// presence engine.
	PresenceRows   int `json:"presenceRows"`
	PresenceEvents int `json:"presenceEvents"`
	// Delivered reports the deliveries, retries of earlier runs included.
	Delivered Delivered `json:"delivered"`
	// AheadRows counts AuthSession and presence rows dated beyond the allowed clock skew
	// (settings.maxClockSkewSeconds): audited and skipped, never trusted.
	AheadRows int `json:"aheadRows,omitempty"`
}

// Poll runs one scheduled pass:
//
//  1. stream the AuthSession rows of relevant users and keep, per user, the latest expiry of a
//     session still valid now (the only per-user data held for the whole run);
//  2. stream the recent UserServicePresence rows: each feeds the presence engine as a
//     Salesforce event flagged poll, where rules, echo suppression and the audit treat it as any
//     other (a change the webhook already delivered is stale or unchanged there), and notes the
//     user's Omni-Channel availability for the manual switch-off check;
//  3. stream the stored session states: a user with a valid session gets a "poll active" event,
//     a user known active without one a "poll inactive" event (after checking, 200 at a time,
//     that the user is still relevant), and stored retries are delivered again;
//  4. users with a valid session and no stored state get "poll active" too (first sight).
//
// Decisions on users without a versioned item are stored as first-sight items, in batches
// (delivery.settleFirstSights); first-sight items a versioned item has since superseded are
// deleted at the end of the run.
//
// Only transitions write or send anything; confirmations cost nothing but the reads.
func (s *Service) Poll(ctx context.Context) (Report, error) {
	now := s.opts.Now()
	rep := Report{At: now}
	cfg, err := s.d.Configs.Current(ctx)
	if err != nil {
		return rep, err
	}
	if !cfg.Session.Enabled {
		rep.Disabled = true
		return rep, nil
	}
	bound := cfg.Bound(now)
	active := map[string]time.Time{}
	for page, err := range s.d.Org.SessionPages(ctx, cfg.Session) {
		if err != nil {
			return rep, fmt.Errorf("read sessions: %w", err)
		}
		for _, r := range page {
			rep.SessionRows++
			// A session modified "in the future" would stay valid for as long.
			if s.ahead(ctx, cfg, bound, r.UserID, "session", "AuthSession LastModifiedDate", r.LastModified, &rep) {
				continue
			}
			if exp := r.Expires(); exp.After(now) && exp.After(active[r.UserID]) {
				active[r.UserID] = exp
			}
		}
	}
	rep.ActiveUsers = len(active)

	observed, err := s.reconcilePresence(ctx, cfg, now, &rep)
	if err != nil {
		return rep, err
	}

	d := newDelivery(s, cfg)
	var gone []dynamo.SessionRecord
	var superseded []string // first-sight items a versioned item replaced
	for rec, err := range s.d.Store.Sessions(ctx) {
		if err != nil {
			if rec.State.UserID == "" {
				return rep, fmt.Errorf("read stored sessions: %w", err)
			}
			// Skipped this run, and not taken for a first sighting either.
			delete(active, rec.State.UserID)
			s.opts.Logger.WarnContext(ctx, "session: stored state unreadable", "user", rec.State.UserID, "err", err)
			continue
		}
		rep.StoredUsers++
		id := rec.State.UserID
		if rec.StaleFirstSight {
			superseded = append(superseded, id)
		}
		exp, isActive := active[id]
		delete(active, id)
		switch {
		case isActive:
			if err := s.observe(ctx, cfg, d, rec, pollEvent(id, session.KindPollActive, now, exp, observed[id]), &rep); err != nil {
				return rep, err
			}
		case rec.State.Active:
			gone = append(gone, rec)
			if len(gone) == MaxToggleBatch {
				if err := s.ended(ctx, cfg, d, gone, now, &rep); err != nil {
					return rep, err
				}
				gone = gone[:0]
			}
		case len(rec.State.Retry) > 0:
			if err := d.add(ctx, rec); err != nil {
				return rep, err
			}
		}
	}
	if err := s.ended(ctx, cfg, d, gone, now, &rep); err != nil {
		return rep, err
	}
	for id, exp := range active {
		rec := dynamo.SessionRecord{State: session.State{UserID: id}}
		if err := s.observe(ctx, cfg, d, rec, pollEvent(id, session.KindPollActive, now, exp, observed[id]), &rep); err != nil {
			return rep, err
		}
	}
	done, err := d.flush(ctx)
	rep.Delivered = done
	if len(superseded) > 0 {
		// Best effort: an item left is only read past again, and deleted by the next run.
		if derr := s.d.Store.DeleteFirstSights(ctx, superseded); derr != nil {
			s.opts.Logger.WarnContext(ctx, "session: superseded first-sight states not deleted", "users", len(superseded), "err", derr)
		}
	}
	return rep, err
}

// pollEvent builds the poll's event for one user.
func pollEvent(userID string, kind session.Kind, now, expires time.Time, p *session.Presence) session.Event {
	return session.Event{
		ID: fmt.Sprintf("poll/%s/%s", now.UTC().Format(time.RFC3339Nano), userID), Kind: kind, UserID: userID,
		At: now, Source: session.SourcePoll, SessionExpires: expires, Presence: p,
	}
}

// observe applies a poll event and counts its outcome; a stored retry list is delivered too:
// the one the decision left, never the one read before it (a decision may drop retries, such as
// a pending switch-on of a user who switched themselves off).
func (s *Service) observe(ctx context.Context, cfg *engine.Compiled, d *delivery, rec dynamo.SessionRecord, ev session.Event, rep *Report) error {
	res, err := s.decidePoll(ctx, cfg, d, rec, ev)
	if err != nil {
		return err
	}
	switch res.Outcome {
	case session.OutcomeToggledOn, session.OutcomeReasserted:
		rep.ToggledOn++
	case session.OutcomeToggledOff:
		rep.ToggledOff++
	case session.OutcomeLeftOff:
		rep.LeftOff++
	}
	if !res.queued && len(res.rec.State.Retry) > 0 {
		return d.add(ctx, res.rec)
	}
	return nil
}

// ended handles users known active whose session the poll no longer finds: those still
// relevant get "poll inactive"; the others left the relevant set and are audited and forgotten
// as active without any toggle.
func (s *Service) ended(ctx context.Context, cfg *engine.Compiled, d *delivery, recs []dynamo.SessionRecord, now time.Time, rep *Report) error {
	if len(recs) == 0 {
		return nil
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.State.UserID
	}
	rel, err := s.d.Org.Relevant(ctx, cfg.Session, ids)
	if err != nil {
		return fmt.Errorf("check relevant users: %w", err)
	}
	for _, rec := range recs {
		id := rec.State.UserID
		if rel[id] {
			if err := s.observe(ctx, cfg, d, rec, pollEvent(id, session.KindPollInactive, now, time.Time{}, nil), rep); err != nil {
				return err
			}
			continue
		}
		rep.NotRelevant++
		st := rec.State
		st.Active, st.At, st.Source, st.Retry = false, now, session.SourcePoll, nil
		st.LastEventID = pollEvent(id, session.KindPollInactive, now, time.Time{}, nil).ID
		if _, err := s.d.Store.PutSession(ctx, st, rec.Version, cfg.Bound(now)); err != nil {
			s.opts.Logger.WarnContext(ctx, "session: forget user outside the relevant set", "user", id, "err", err)
			continue
		}
		s.audit(ctx, cfg, audit.Entry{Subject: subject(id), Time: now, ID: st.LastEventID, EventID: st.LastEventID,
			Outcome: string(OutcomeNotRelevant),
			Message: "user is no longer an active user in the relevant set; their availability is left as it is and no longer managed"})
	}
	return nil
}

// reconcilePresence feeds recent presence changes to the presence engine and returns, per user,
// the current Omni-Channel presence seen.
func (s *Service) reconcilePresence(ctx context.Context, cfg *engine.Compiled, now time.Time, rep *Report) (map[string]*session.Presence, error) {
	observed := map[string]*session.Presence{}
	latest := map[string]PresenceRow{}
	bound := cfg.Bound(now)
	for page, err := range s.d.Org.PresencePages(ctx, cfg.Session, now.Add(-s.opts.PresenceLookback)) {
		if err != nil {
			return nil, fmt.Errorf("read presence: %w", err)
		}
		for _, r := range page {
			rep.PresenceRows++
			if s.ahead(ctx, cfg, bound, r.UserID, r.ID, "UserServicePresence "+r.ID, rowTime(r), rep) {
				continue
			}
			if cur, ok := latest[r.UserID]; !ok || bound.Newer(rowTime(r), rowTime(cur)) || (r.Current && !cur.Current) {
				latest[r.UserID] = r
			}
		}
	}
	ids := make([]string, 0, len(latest))
	for id := range latest {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	batch := s.d.Presence.NewBatch()
	for _, id := range ids {
		r := latest[id]
		ev := presence.Event{ID: "poll/" + r.ID + "/" + rowTime(r).UTC().Format(time.RFC3339Nano), Time: rowTime(r), Origin: presence.OriginPoll}
		if r.Current {
			ev.Kind = rules.EventSalesforceAgentStateChanged
			ev.Salesforce.StatusID, ev.Salesforce.StatusName = r.StatusID, r.DeveloperName
			st, known := cfg.Set.SalesforceStatusByName(r.DeveloperName)
			observed[id] = &session.Presence{StatusDeveloperName: r.DeveloperName, Available: known && st.HasChannels}
		} else {
			ev.Kind = rules.EventSalesforceAgentLogout
			ev.Salesforce.StatusID, ev.Salesforce.StatusName = rules.OfflineStatusID, rules.Offline
			observed[id] = &session.Presence{StatusDeveloperName: rules.Offline}
		}
		if _, err := batch.ProcessSalesforce(ctx, id, ev); err != nil {
			s.opts.Logger.WarnContext(ctx, "session: presence reconciliation", "user", id, "err", err)
			continue
		}
		rep.PresenceEvents++
	}
	if _, err := batch.Flush(ctx); err != nil {
		s.opts.Logger.WarnContext(ctx, "session: presence reconciliation flush", "err", err)
	}
	return observed, nil
}

// ahead reports whether a row's time is beyond the clock-skew bound, auditing the skip under the
// user: such a row is never trusted, and a later run finds it again only while it stays ahead.
func (s *Service) ahead(ctx context.Context, cfg *engine.Compiled, bound eventtime.Bound, userID, key, what string, at time.Time, rep *Report) bool {
	err := bound.Check(at)
	if err == nil {
		return false
	}
	rep.AheadRows++
	id := fmt.Sprintf("poll/%s/%s/ahead", bound.Now.UTC().Format(time.RFC3339Nano), key)
	s.audit(ctx, cfg, audit.Entry{Subject: subject(userID), Time: bound.Now, ID: id, Outcome: string(session.OutcomeInvalid),
		Message: fmt.Sprintf("poll: %s time %s; row skipped", what, err)})
	return true
}

// rowTime is when a presence row's state began (current rows) or ended.
func rowTime(r PresenceRow) time.Time {
	if r.Current || r.End.IsZero() {
		return r.Start
	}
	return r.End
}
