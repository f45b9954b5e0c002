package routingsync

import (
	"context"
	"fmt"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/contactdispatch"
	"github.com/omnibridge/omnibridge/shared/contactevent"
	"github.com/omnibridge/omnibridge/shared/routing"
	"github.com/omnibridge/omnibridge/shared/screenpop"
)

// HandlerName is the contact-events handler's stable name (dedupe keys and audits).
const HandlerName = "case-routing"

var _ contactdispatch.Handler = (*Service)(nil)

// Name identifies case routing among the contact event consumers.
func (s *Service) Name() string { return HandlerName }

// HandleContactEvent follows the tasks case routing created: CONNECTED_TO_AGENT pops the case to
// the agent's Salesforce user (and makes that user the owner when routing.assignOwnerOnAccept),
// DISCONNECTED completes the entry or, for a task nobody answered, routes the case again or marks
// it (routing.onUnanswered). Contacts that are not tasks the bridge created are ignored. The
// effects of a transition (write-back, owner, pop) run before the entry is saved and are
// idempotent, so a failure retried by the dispatcher redoes them rather than losing them.
func (s *Service) HandleContactEvent(ctx context.Context, ev contactevent.Event) error {
	d := ev.Detail
	if d.Channel != agentevent.ChannelTask || (d.EventType != contactevent.ConnectedToAgent && d.EventType != contactevent.Disconnected) {
		return nil
	}
	caseID, err := s.d.Store.RoutingTaskCase(ctx, d.ContactID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg, cat, err := s.current(ctx)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		rec, err := s.d.Store.GetRouting(ctx, caseID)
		if apperr.Is(err, apperr.NotFound) {
			return nil // expired with its retention
		}
		if err != nil {
			return err
		}
		e := rec.Entry
		if e.ContactID == "" && e.State == routing.StateRouting && !hadTask(e, d.ContactID) {
			// The event outran the routed write. A task the case had before is not this
			// attempt's: its late event must not take the attempt over.
			e.ContactID = d.ContactID
		}
		eff := routing.ApplyContactEvent(&e, ev, cfg.Routing)
		if !eff.Changed {
			return nil
		}
		if eff.Connected {
			if err := s.connected(ctx, cfg.Routing.AssignOwnerOnAccept, &e, ev); err != nil {
				return err
			}
		} else if eff.Status != "" {
			if err := s.writeBack(ctx, caseID, map[string]any{FieldRoutingStatus: eff.Status}); err != nil {
				return err
			}
		}
		if _, err := s.d.Store.PutRouting(ctx, e, rec.Version); err != nil {
			if apperr.Is(err, apperr.Conflict) && attempt < conflictRetries {
				continue
			}
			return err
		}
		s.audit(ctx, cfg, caseID, ev.ID, Result{Outcome: string(e.State), Detail: eff.Detail, ContactID: d.ContactID},
			map[string]any{"contactEvent": string(d.EventType), "agentId": e.AgentID})
		if eff.Reroute {
			// A re-route that fails here leaves the entry failed, which the next sweep routes.
			rec.Entry, rec.Version = e, rec.Version+1
			q, ok := cfg.Routing.Queue(e.Queue)
			if !ok {
				return nil
			}
			c := caseOf{Case: routing.Case{ID: caseID, Number: e.CaseNumber, Subject: e.Subject, Priority: e.Priority}, Skills: e.Skills}
			dec := routing.Decision{Action: routing.ActionRoute, Reason: routing.ReasonUnanswered, Queue: q, Key: eff.RerouteKey, Detail: eff.Detail}
			_, err := s.route(ctx, cfg, cat, c, dec, rec, ev.ID, s.writeBack)
			if err != nil && !apperr.Retryable(err) {
				return nil
			}
			return err
		}
		return nil
	}
}

// connected runs the effects of a task reaching an agent: the agent's Salesforce user, the
// write-back (status, and owner when configured) and the screen pop.
func (s *Service) connected(ctx context.Context, assignOwner bool, e *routing.Entry, ev contactevent.Event) error {
	sfUser, found, err := s.d.Identity.SalesforceUserOf(ctx, e.AgentID)
	if err != nil && apperr.Retryable(err) {
		return err
	}
	if found {
		e.AgentUserID = sfUser
	}
	fields := map[string]any{FieldRoutingStatus: "Connected"}
	if assignOwner && found {
		fields[FieldOwnerID] = sfUser
	}
	if err := s.writeBack(ctx, e.CaseID, fields); err != nil {
		return err
	}
	if !found {
		return nil
	}
	now := s.opts.Now()
	if now.Sub(ev.OccurredAt()) > screenpop.MaxAge {
		return nil // the console would ignore it: the event arrived late (a retry, a backlog)
	}
	pop := screenpop.Pop{ID: fmt.Sprintf("%s/%s", screenpop.ReasonCaseRouted, ev.Detail.ContactID), UserID: sfUser,
		RecordID: e.CaseID, ConnectContactID: ev.Detail.ContactID, Reason: screenpop.ReasonCaseRouted, IssuedAt: now}
	if err := s.d.Org.PublishScreenPop(ctx, pop); err != nil && apperr.Retryable(err) {
		return err
	}
	return nil
}

// hadTask reports whether contactID was one of the entry's earlier tasks, as its history
// (bounded by routing.MaxHistory) records them.
func hadTask(e routing.Entry, contactID string) bool {
	for _, st := range e.History {
		if st.ContactID == contactID {
			return true
		}
	}
	return false
}
