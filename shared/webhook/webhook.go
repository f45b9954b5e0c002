// Package webhook serves the Salesforce presence webhook, POST /webhooks/salesforce/presence:
// it authenticates the request's signature, decodes the batch (package sfevents), hands each
// event to a PresenceProcessor in per-agent time order, and answers with one result per event.
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
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// Path is the webhook's route.
const Path = "/webhooks/salesforce/presence"

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
	// OutcomeSkipped: not attempted, because an earlier event of the same agent failed
	// retryably (applying a later event first would make the earlier one stale) or the request
	// was cancelled.
	OutcomeSkipped = "skipped"
)

// Options configure the handler.
type Options struct {
	// Logger receives one line per request and one per failed event; nil discards.
	Logger *slog.Logger
	// Now is the clock signatures are checked against; nil means time.Now.
	Now func() time.Time
	// Concurrency bounds how many agents are processed at once; DefaultConcurrency when zero.
	Concurrency int
}

// Handler serves the webhook.
type Handler struct {
	verifier *Verifier
	proc     PresenceProcessor
	opts     Options
	mux      *http.ServeMux
}

// New returns the webhook handler. verifier authenticates requests and proc applies events.
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
	return h
}

// ServeHTTP routes a request; other routes get a JSON 404, other methods on Path a JSON 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern == "" {
		if r.URL.Path == Path {
			w.Header().Set("Allow", http.MethodPost)
			h.fail(w, r, apperr.New(httpjson.MethodNotAllowed, "method %s is not allowed on %s", r.Method, Path))
			return
		}
		h.fail(w, r, apperr.New(apperr.NotFound, "no route %s %s", r.Method, r.URL.Path))
		return
	}
	h.mux.ServeHTTP(w, r)
}

// EventResult is one event's entry in the response, at the event's input index.
type EventResult struct {
	Index   int           `json:"index"`
	ID      string        `json:"id"`
	Type    sfevents.Type `json:"type"`
	Outcome string        `json:"outcome"`
	Detail  string        `json:"detail,omitempty"`
}

// Response is the body of 202 and 503 answers. Error is set only on 503.
type Response struct {
	Error   *httpjson.ErrorDetail `json:"error,omitempty"`
	Results []EventResult         `json:"results"`
}

func (h *Handler) presence(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if h.verifier == nil || h.proc == nil {
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
	batch, err := sfevents.Decode(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	results, retry := h.process(ctx, batch)
	status := http.StatusAccepted
	resp := Response{Results: results}
	if retry {
		status = http.StatusServiceUnavailable
		resp.Error = &httpjson.ErrorDetail{Code: string(apperr.Unavailable), Message: "some events could not be processed; retry the batch"}
		if err := h.verifier.Release(context.WithoutCancel(ctx), verified); err != nil {
			h.opts.Logger.WarnContext(ctx, "salesforce webhook: could not release replay claim", "err", err)
		}
	}
	h.opts.Logger.InfoContext(ctx, "salesforce webhook batch", "orgId", batch.OrgID, "events", len(batch.Events),
		"status", status, "outcomes", countOutcomes(results))
	httpjson.Write(w, status, resp)
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
