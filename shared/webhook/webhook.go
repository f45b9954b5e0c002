// Package webhook serves the Salesforce webhooks: presence, POST /webhooks/salesforce/presence,
// and session, POST /webhooks/salesforce/session. For either it authenticates the request's
// signature, decodes the batch (package sfevents), hands each event to the route's processor
// (PresenceProcessor, SessionProcessor) in per-user time order, and answers with one result per
// event.
//
// It answers 2xx only once every event has been processed, and 503 when any event failed in a
// way a retry can fix, so Salesforce sends the batch again; the processor de-duplicates by event
// id, so events that did succeed are not applied twice. Like the admin API it is a plain
// net/http handler, served in Lambda through API Gateway's v2 proxy adapter and directly by the
// local stack.
package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/session"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// Path is the presence webhook's route.
const Path = "/webhooks/salesforce/presence"

// SessionPath is the session webhook's route: Salesforce login and logout events (contract
// sfevents.DecodeSession). It exists only when Options.Session is set.
const SessionPath = "/webhooks/salesforce/session"

// CasesPath is the case webhook's route: case created, owner changed, comment and email events
// from the package's triggers (contract sfevents.DecodeCases). It exists only when
// Options.Cases is set.
const CasesPath = "/webhooks/salesforce/cases"

// MaxBodyBytes bounds a request body (256 KiB); larger bodies get 413.
const MaxBodyBytes = 256 << 10

// DefaultConcurrency is how many agents' events are processed at once.
const DefaultConcurrency = 8

// PresenceProcessor applies console events. Both methods must be idempotent by event id: a batch
// that got 503 is sent again whole. An error coded apperr.Unavailable or apperr.Internal (or any
// uncoded error) is retryable and turns the response into 503; any other code is final for that
// event and is reported in its result.
type PresenceProcessor interface {
	// ProcessSalesforce applies one presence event of the agent with Salesforce user id userID
	// (18-character form).
	ProcessSalesforce(ctx context.Context, userID string, ev presence.Event) (Result, error)
	// Acknowledge records the console's report on a command.
	Acknowledge(ctx context.Context, ack sfevents.Ack) (Result, error)
}

// SessionProcessor applies Salesforce login and logout events. Like PresenceProcessor it must be
// idempotent by event id, and its errors are retryable (503) or final in the same way.
type SessionProcessor interface {
	// ProcessSession applies one event: Source is session.SourceWebhook, Kind is KindLogin or
	// KindLogout, and UserID is in 18-character form.
	ProcessSession(ctx context.Context, ev session.Event) (Result, error)
}

// CaseProcessor applies case events (case routing). Like the others it must be idempotent by
// event id, with the same retryable and final errors.
type CaseProcessor interface {
	// ProcessCase applies one case event; events of one case arrive in time order.
	ProcessCase(ctx context.Context, ev sfevents.CaseEvent) (Result, error)
}

// Result is what the processor did with one event.
type Result struct {
	// Outcome is a short code, usually a presence.Outcome ("applied", "echo", "duplicate", ...);
	// empty is reported as OutcomeProcessed.
	Outcome string
	// Detail explains it for the Salesforce admin; it must hold nothing secret.
	Detail string
}

// Outcomes the handler itself reports for events the processor did not settle.
const (
	// OutcomeProcessed: the processor succeeded without naming an outcome.
	OutcomeProcessed = "processed"
	// OutcomeRejected: the processor refused the event with a final error.
	OutcomeRejected = "rejected"
	// OutcomeError: the processor failed in a way a retry may fix.
	OutcomeError = "error"
	// OutcomeSkipped: not attempted, because an earlier event of the same user failed
	// retryably (applying a later event first would make the earlier one stale) or the request
	// was cancelled.
	OutcomeSkipped = "skipped"
	// OutcomeDuplicate: not processed again, because the same event (same id) came earlier in the
	// batch; the session contract allows such repeats.
	OutcomeDuplicate = "duplicate"
)

// Options configure the handler.
type Options struct {
	// Logger receives one line per request and one per failed event; nil discards.
	Logger *slog.Logger
	// Now is the clock signatures are checked against; nil means time.Now.
	Now func() time.Time
	// Concurrency bounds how many users are processed at once; DefaultConcurrency when zero.
	Concurrency int
	// Session applies the session webhook's events; when nil, SessionPath answers 404.
	Session SessionProcessor
	// Cases applies the case webhook's events; when nil, CasesPath answers 404.
	Cases CaseProcessor
	// Bound returns the clock-skew bound event times are checked against at now
	// (settings.maxClockSkewSeconds; *engine.Engine.Bound); nil means eventtime.DefaultMaxSkew.
	// A batch holding an event dated beyond it is refused with a 400 naming each such time.
	Bound func(ctx context.Context, now time.Time) (eventtime.Bound, error)
}

// Handler serves the webhook.
type Handler struct {
	verifier *Verifier
	proc     PresenceProcessor
	opts     Options
	mux      *http.ServeMux
}

// New returns the webhook handler. verifier authenticates requests to both routes, proc applies
// presence events, and opts.Session, if set, session events.
func New(verifier *Verifier, proc PresenceProcessor, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	h := &Handler{verifier: verifier, proc: proc, opts: opts, mux: http.NewServeMux()}
	h.mux.HandleFunc("POST "+Path, h.presence)
	if opts.Session != nil {
		h.mux.HandleFunc("POST "+SessionPath, h.session)
	}
	if opts.Cases != nil {
		h.mux.HandleFunc("POST "+CasesPath, h.cases)
	}
	return h
}

// ServeHTTP routes a request; other routes get a JSON 404, other methods on a route a JSON 405
// with Allow, and OPTIONS a 204 with Allow.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern == "" {
		if r.URL.Path == SessionPath && h.opts.Session == nil {
			h.fail(w, r, apperr.New(apperr.NotFound, "session-driven availability is not enabled on this bridge"))
			return
		}
		if r.URL.Path == CasesPath && h.opts.Cases == nil {
			h.fail(w, r, apperr.New(apperr.NotFound, "case routing is not enabled on this bridge"))
			return
		}
		if err := httpjson.Unrouted(w, r, h.mux); err != nil {
			h.fail(w, r, err)
		}
		return
	}
	h.mux.ServeHTTP(w, r)
}

// EventResult is one event's entry in the response, at the event's input index.
type EventResult struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
	// Type is the event's type as sent: an sfevents.Type or sfevents.SessionType.
	Type    string `json:"type"`
	Outcome string `json:"outcome"`
	Detail  string `json:"detail,omitempty"`
}

// Response is the body of 202 and 503 answers. Error is set only on 503.
type Response struct {
	Error   *httpjson.ErrorDetail `json:"error,omitempty"`
	Results []EventResult         `json:"results"`
}

func (h *Handler) presence(w http.ResponseWriter, r *http.Request) {
	if h.proc == nil {
		h.fail(w, r, apperr.New(apperr.Internal, "webhook handler is not configured"))
		return
	}
	h.serve(w, r, "presence", func(ctx context.Context, body []byte) (batch, error) {
		b, err := sfevents.Decode(body)
		if err != nil {
			return batch{}, err
		}
		if err := h.checkTimes(ctx, b.CheckTimes); err != nil {
			return batch{}, err
		}
		jobs := make([]job, 0, len(b.Events))
		for _, e := range b.InTimeOrder() {
			jobs = append(jobs, job{index: e.Index, id: e.ID, typ: string(e.Type), user: e.UserID,
				run: func(ctx context.Context) (Result, error) { return h.apply(ctx, e) }})
		}
		return batch{orgID: b.OrgID, events: len(b.Events), jobs: jobs}, nil
	})
}

func (h *Handler) session(w http.ResponseWriter, r *http.Request) {
	h.serve(w, r, "session", func(ctx context.Context, body []byte) (batch, error) {
		b, err := sfevents.DecodeSession(body)
		if err != nil {
			return batch{}, err
		}
		if err := h.checkTimes(ctx, b.CheckTimes); err != nil {
			return batch{}, err
		}
		head := func(e sfevents.SessionEvent) (job, int, bool) {
			return job{index: e.Index, id: e.ID, typ: string(e.Type), user: e.UserID}, e.RepeatOf, e.Repeat
		}
		jobs := eventJobs(b.Input, b.InTimeOrder(), head, func(e sfevents.SessionEvent) func(context.Context) (Result, error) {
			ev := e.Session()
			return func(ctx context.Context) (Result, error) { return h.opts.Session.ProcessSession(ctx, ev) }
		})
		return batch{orgID: b.OrgID, events: len(b.Input), jobs: jobs}, nil
	})
}

func (h *Handler) cases(w http.ResponseWriter, r *http.Request) {
	h.serve(w, r, "cases", func(ctx context.Context, body []byte) (batch, error) {
		b, err := sfevents.DecodeCases(body)
		if err != nil {
			return batch{}, err
		}
		if err := h.checkTimes(ctx, b.CheckTimes); err != nil {
			return batch{}, err
		}
		// Jobs are grouped by their user key: a case's events are applied one after another, in
		// time order, and different cases at once.
		head := func(e sfevents.CaseEvent) (job, int, bool) {
			return job{index: e.Index, id: e.ID, typ: string(e.Type), user: e.CaseID}, e.RepeatOf, e.Repeat
		}
		jobs := eventJobs(b.Input, b.InTimeOrder(), head, func(e sfevents.CaseEvent) func(context.Context) (Result, error) {
			return func(ctx context.Context) (Result, error) { return h.opts.Cases.ProcessCase(ctx, e) }
		})
		return batch{orgID: b.OrgID, events: len(b.Input), jobs: jobs}, nil
	})
}

// eventJobs turns a decoded batch whose contract allows repeated events into jobs: each repeat
// settled as a duplicate of the event it repeats, then the distinct events in time order. head
// gives an event's job (without run), the index of the event it repeats and whether it is one.
func eventJobs[E any](input, inTimeOrder []E, head func(E) (job, int, bool), run func(E) func(context.Context) (Result, error)) []job {
	jobs := make([]job, 0, len(input))
	for _, e := range input {
		if j, of, repeat := head(e); repeat {
			j.settled = Result{Outcome: OutcomeDuplicate, Detail: fmt.Sprintf("the same event as $.events[%d], processed once", of)}
			jobs = append(jobs, j)
		}
	}
	for _, e := range inTimeOrder {
		j, _, _ := head(e)
		j.run = run(e)
		jobs = append(jobs, j)
	}
	return jobs
}

// batch is a decoded request: its events as jobs, in time order.
type batch struct {
	orgID string
	// events is how many events the request holds; each job names its index among them.
	events int
	jobs   []job
}

// serve is what every route does with a request: read the body, verify its signature, decode it
// with decode, process its events and answer 202 with a result per event. When an event failed
// in a way a retry can fix it answers 503 and releases the replay claim, so the identical signed
// request may be sent again.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, contract string, decode func(ctx context.Context, body []byte) (batch, error)) {
	ctx := r.Context()
	if h.verifier == nil {
		h.fail(w, r, apperr.New(apperr.Internal, "webhook handler is not configured"))
		return
	}
	body, err := httpjson.ReadBody(w, r, MaxBodyBytes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The header's elements are comma-separated, and API Gateway's proxy adapter splits header
	// values at commas into several values: join them back.
	header := strings.Join(r.Header.Values(SignatureHeader), ",")
	verified, err := h.verifier.Verify(ctx, header, body, h.opts.Now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := decode(ctx, body)
	if err != nil {
		if apperr.Retryable(err) {
			// The bound could not be read: the identical request must be accepted again.
			h.release(ctx, verified)
		}
		h.fail(w, r, err)
		return
	}
	results, retry := h.process(ctx, b.events, b.jobs)
	status := http.StatusAccepted
	resp := Response{Results: results}
	if retry {
		status = http.StatusServiceUnavailable
		resp.Error = &httpjson.ErrorDetail{Code: string(apperr.Unavailable), Message: "some events could not be processed; retry the batch"}
		h.release(ctx, verified)
	}
	h.opts.Logger.InfoContext(ctx, "salesforce webhook batch", "contract", contract, "orgId", b.orgID, "events", b.events,
		"status", status, "outcomes", countOutcomes(results))
	httpjson.Write(w, status, resp)
}

// release gives up a verified request's replay claim, so Salesforce may send it again.
func (h *Handler) release(ctx context.Context, verified Verified) {
	if err := h.verifier.Release(context.WithoutCancel(ctx), verified); err != nil {
		h.opts.Logger.WarnContext(ctx, "salesforce webhook: could not release replay claim", "err", err)
	}
}

// checkTimes runs a decoded batch's time check against the bridge's clock. An event dated too far
// ahead is a final refusal (400), logged with each time: never processed, never retried.
func (h *Handler) checkTimes(ctx context.Context, check func(eventtime.Bound) error) error {
	now := h.opts.Now()
	bound := eventtime.New(now, 0)
	if h.opts.Bound != nil {
		b, err := h.opts.Bound(ctx, now)
		if err != nil {
			return err
		}
		bound = b
	}
	err := check(bound)
	if err != nil {
		h.opts.Logger.WarnContext(ctx, "salesforce webhook: batch refused, event dated beyond the allowed clock skew", "err", err)
	}
	return err
}

// fail answers with err. Authentication failures are logged with their reason at info level and
// answered without it.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	level := slog.LevelInfo
	if code := apperr.CodeOf(err); code == apperr.Internal || code == apperr.Unavailable {
		level = slog.LevelError
	}
	h.opts.Logger.Log(r.Context(), level, "salesforce webhook request failed", "method", r.Method, "path", r.URL.Path,
		"code", apperr.CodeOf(err), "err", err)
	httpjson.WriteError(w, err)
}

func countOutcomes(results []EventResult) string {
	counts := map[string]int{}
	var order []string
	for _, r := range results {
		if counts[r.Outcome] == 0 {
			order = append(order, r.Outcome)
		}
		counts[r.Outcome]++
	}
	s := ""
	for i, o := range order {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s=%d", o, counts[o])
	}
	return s
}
