// Package contactdispatch delivers each Amazon Connect contact event to every consumer of
// contact events (case routing, call logging): one function, one EventBridge rule, one decode and
// clock check, and any number of handlers.
//
// EventBridge delivers at least once and Lambda retries a failed asynchronous invocation, so the
// dispatcher records, per handler and event id, that a handler has processed an event, and only
// after it succeeded. A retry therefore re-runs only the handlers that failed: one consumer's
// outage never makes another consumer act twice. Handler failures are classified by apperr code:
// Unavailable and Internal are retried (the invocation fails, Lambda retries, and after its
// retries the event lands in the on-failure queue); any other code is final, audited under
// contact/<id> and recorded as processed, so one bad event is never retried forever.
//
// Events that do not decode, or that claim a time beyond the bridge's clock plus the allowed
// skew, are poison: audited and dropped, never handed to a handler.
//
// This is domain code: no AWS SDK and no Lambda types. The function's main passes the raw
// EventBridge event.
package contactdispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/contactevent"
)

// Handler is one consumer of contact events. HandleContactEvent must itself be safe to repeat
// for the same event (the dispatcher's record is written after it returns, so a crash between
// the two repeats it); ordering is the handler's business: events arrive unordered, and
// Event.OccurredAt is the time to order by.
type Handler interface {
	// Name identifies the handler in dedupe keys and audits; it must be stable across releases.
	Name() string
	// HandleContactEvent processes one decoded, clock-checked event. Events of types the handler
	// does not consume must return nil.
	HandleContactEvent(ctx context.Context, ev contactevent.Event) error
}

// Marks records which (handler, event) pairs are done; dynamo.Store implements it.
type Marks interface {
	// Seen reports whether key is recorded.
	Seen(ctx context.Context, key string) (bool, error)
	// Claim records key for ttl and reports whether this caller recorded it.
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Auditor appends audit entries; dynamo.Store implements it.
type Auditor interface {
	AppendAudit(ctx context.Context, e audit.Entry, retention time.Duration) error
}

// Settings returns the current config settings (skew bound, audit retention).
type Settings func(ctx context.Context) (config.Settings, error)

// MarkTTL is how long a processed mark is kept: longer than EventBridge's 24-hour retry window
// and Lambda's asynchronous retries together.
const MarkTTL = 48 * time.Hour

// Outcomes audited by the dispatcher.
const (
	OutcomePoison       = "poison"
	OutcomeHandlerError = "handler-failed"
)

// Dispatcher decodes contact events and fans them out to its handlers.
type Dispatcher struct {
	handlers []Handler
	marks    Marks
	auditor  Auditor
	settings Settings
	now      func() time.Time
	log      *slog.Logger
}

// New returns a dispatcher over handlers. now is the bridge's clock (time.Now in Lambda).
func New(marks Marks, auditor Auditor, settings Settings, now func() time.Time, log *slog.Logger, handlers ...Handler) *Dispatcher {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{handlers: handlers, marks: marks, auditor: auditor, settings: settings, now: now, log: log}
}

// Report says what one dispatch did, for logs and tests.
type Report struct {
	// EventID is the EventBridge event id ("" when the event did not decode).
	EventID string `json:"eventId,omitempty"`
	// ContactID is the event's contact.
	ContactID string `json:"contactId,omitempty"`
	// Poison is the reason the event was refused, "" when it was accepted.
	Poison string `json:"poison,omitempty"`
	// Handled lists the handlers that processed the event in this call.
	Handled []string `json:"handled,omitempty"`
	// Skipped lists the handlers that had already processed it.
	Skipped []string `json:"skipped,omitempty"`
	// Failed lists the handlers whose failure was final (audited, not retried).
	Failed []string `json:"failed,omitempty"`
	// Retry lists the handlers whose failure is retryable.
	Retry []string `json:"retry,omitempty"`
}

// Dispatch processes one raw EventBridge event. It returns an error only when a retry may
// succeed (a retryable handler failure, or the store unreachable); the error names the
// handlers to retry.
func (d *Dispatcher) Dispatch(ctx context.Context, raw json.RawMessage) (Report, error) {
	settings, err := d.settings(ctx)
	if err != nil {
		return Report{}, err
	}
	ev, err := contactevent.Decode(raw)
	if err == nil {
		err = ev.CheckClock(d.now(), settings.MaxClockSkew())
	}
	if err != nil {
		rep := Report{EventID: ev.ID, ContactID: ev.Detail.ContactID, Poison: apperr.MessageOf(err)}
		if !apperr.Is(err, apperr.Invalid) {
			return rep, err
		}
		return rep, d.audit(ctx, settings, ev, OutcomePoison, "contact event refused: "+rep.Poison,
			map[string]any{"problems": apperr.ProblemsOf(err)})
	}
	return d.fanOut(ctx, settings, ev)
}

// DispatchEvent processes an event already decoded and clock-checked (the simulator's path).
func (d *Dispatcher) DispatchEvent(ctx context.Context, ev contactevent.Event) (Report, error) {
	settings, err := d.settings(ctx)
	if err != nil {
		return Report{}, err
	}
	return d.fanOut(ctx, settings, ev)
}

func (d *Dispatcher) fanOut(ctx context.Context, settings config.Settings, ev contactevent.Event) (Report, error) {
	rep := Report{EventID: ev.ID, ContactID: ev.Detail.ContactID}
	var retry []error
	for _, h := range d.handlers {
		key := MarkKey(h.Name(), ev.ID)
		done, err := d.marks.Seen(ctx, key)
		if err != nil {
			retry = append(retry, fmt.Errorf("%s: %w", h.Name(), err))
			rep.Retry = append(rep.Retry, h.Name())
			continue
		}
		if done {
			rep.Skipped = append(rep.Skipped, h.Name())
			continue
		}
		herr := h.HandleContactEvent(ctx, ev)
		switch {
		case herr == nil:
			rep.Handled = append(rep.Handled, h.Name())
		case apperr.Retryable(herr):
			d.log.WarnContext(ctx, "contact event handler failed; will retry", "handler", h.Name(),
				"eventId", ev.ID, "contactId", ev.Detail.ContactID, "error", herr.Error())
			retry = append(retry, fmt.Errorf("%s: %w", h.Name(), herr))
			rep.Retry = append(rep.Retry, h.Name())
			continue
		default:
			rep.Failed = append(rep.Failed, h.Name())
			if err := d.audit(ctx, settings, ev, OutcomeHandlerError,
				h.Name()+" could not process the event: "+apperr.MessageOf(herr),
				map[string]any{"handler": h.Name(), "code": string(apperr.CodeOf(herr))}); err != nil {
				retry = append(retry, err)
				continue
			}
		}
		if _, err := d.marks.Claim(ctx, key, MarkTTL); err != nil {
			// The handler's work is done and idempotent; a retry repeats it harmlessly.
			retry = append(retry, fmt.Errorf("%s: record processed: %w", h.Name(), err))
		}
	}
	if len(retry) > 0 {
		return rep, apperr.Wrap(apperr.Unavailable, errors.Join(retry...), "contact event %s: retry", ev.ID)
	}
	return rep, nil
}

// MarkKey is the processed-mark key of handler for event id.
func MarkKey(handler, eventID string) string {
	return "contact-event/" + handler + "/" + eventID
}

func (d *Dispatcher) audit(ctx context.Context, settings config.Settings, ev contactevent.Event, outcome, msg string, details map[string]any) error {
	subject := audit.Subject(audit.KindSystem, "contact-events")
	if ev.Detail.ContactID != "" {
		subject = audit.Subject(audit.KindContact, ev.Detail.ContactID)
	}
	id := ev.ID
	if id == "" {
		id = fmt.Sprintf("%s-%d", outcome, d.now().UnixNano())
	}
	e := audit.Entry{Subject: subject, Time: d.now(), ID: id, EventID: ev.ID, Outcome: outcome, Message: msg, Details: details}
	return d.auditor.AppendAudit(ctx, e, time.Duration(settings.AuditRetentionDays)*24*time.Hour)
}
