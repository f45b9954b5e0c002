package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/session"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

// fakeSessionProcessor records events; process decides the answers (default: "applied").
type fakeSessionProcessor struct {
	mu      sync.Mutex
	events  []session.Event
	process func(ctx context.Context, ev session.Event) (webhook.Result, error)
}

func (p *fakeSessionProcessor) ProcessSession(ctx context.Context, ev session.Event) (webhook.Result, error) {
	p.mu.Lock()
	p.events = append(p.events, ev)
	p.mu.Unlock()
	if p.process != nil {
		return p.process(ctx, ev)
	}
	return webhook.Result{Outcome: "applied", Detail: "processed " + ev.ID}, nil
}

func (p *fakeSessionProcessor) recorded() []session.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

// newSessionFixture is newFixture with the session route enabled.
func newSessionFixture(t *testing.T, replay webhook.ReplayGuard) (*fixture, *fakeSessionProcessor) {
	t.Helper()
	sp := &fakeSessionProcessor{}
	return newFixture(t, replay, func(o *webhook.Options) { o.Session = sp }), sp
}

// The ids of session-mixed.json's events, by input index, and its two users.
const (
	mixedA = "0055e000003AbCdAAK"
	mixedB = "0055e000004QrStAAK"
)

func outcomesOf(t *testing.T, resp response) []string {
	t.Helper()
	var out []string
	for i, r := range resp.Results {
		if r.Index != i || r.ID == "" || (r.Type != "login" && r.Type != "logout") || r.Detail == "" {
			t.Errorf("result %d = %+v", i, r)
		}
		out = append(out, r.Outcome)
	}
	return out
}

func TestSessionSamplesThroughHandler(t *testing.T) {
	tests := []struct {
		file     string
		outcomes []string
		// calls are the processed events as "user/kind/id suffix", in processing order per user.
		calls map[string][]string
	}{
		{file: "session-login.json", outcomes: []string{"applied"},
			calls: map[string][]string{mixedA: {"login/0c11"}}},
		{file: "session-logout.json", outcomes: []string{"applied"},
			calls: map[string][]string{mixedA: {"logout/ff90"}}},
		{file: "session-mixed.json", outcomes: []string{"applied", "applied", "applied", "duplicate", "applied", "applied"},
			calls: map[string][]string{mixedA: {"login/0001", "login/0002", "logout/0003"}, mixedB: {"login/0004", "logout/0005"}}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			f, sp := newSessionFixture(t, nil)
			w := f.do(loadSample(t, tt.file))
			if w.Code != http.StatusAccepted {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if got := outcomesOf(t, decodeResponse(t, w)); !slices.Equal(got, tt.outcomes) {
				t.Errorf("outcomes %v, want %v", got, tt.outcomes)
			}
			calls := map[string][]string{}
			for _, ev := range sp.recorded() {
				if ev.Source != session.SourceWebhook || ev.At.IsZero() || ev.At.Location() != time.UTC {
					t.Errorf("event %+v", ev)
				}
				calls[ev.UserID] = append(calls[ev.UserID], string(ev.Kind)+"/"+ev.ID[len(ev.ID)-4:])
			}
			if len(calls) != len(tt.calls) {
				t.Errorf("users %v, want %v", calls, tt.calls)
			}
			for user, want := range tt.calls {
				if !slices.Equal(calls[user], want) {
					t.Errorf("user %s: events %v, want %v", user, calls[user], want)
				}
			}
			if len(f.proc.recorded()) != 0 {
				t.Error("the presence processor was called")
			}
		})
	}
}

// TestSessionRequests checks that the session route answers as the presence route does: the
// same signature check and replay guard, the same body limits, 400 naming the fields.
func TestSessionRequests(t *testing.T) {
	body := sampleBody(t, "session-login.json")
	presenceBody := sampleBody(t, "logout.json")
	request := func(body, secret, contentType string) *http.Request {
		r := signed(body, secret, sampleTime)
		r.URL.Path = webhook.SessionPath
		r.Header.Set("Content-Type", contentType)
		return r
	}
	tests := []struct {
		name     string
		req      func() *http.Request
		want     int
		code     string
		problems []string
	}{
		{name: "signed", req: func() *http.Request { return request(body, webhook.LocalSecret, "application/json") }, want: http.StatusAccepted},
		{name: "previous secret", req: func() *http.Request { return request(body, previousSecret, "application/json") }, want: http.StatusAccepted},
		{name: "wrong secret", req: func() *http.Request { return request(body, wrongSecret, "application/json") }, want: http.StatusUnauthorized},
		{name: "no signature", req: func() *http.Request {
			r := request(body, webhook.LocalSecret, "application/json")
			r.Header.Del(webhook.SignatureHeader)
			return r
		}, want: http.StatusUnauthorized},
		{name: "too large", req: func() *http.Request {
			return request(`{"pad":"`+strings.Repeat("x", webhook.MaxBodyBytes)+`"}`, webhook.LocalSecret, "application/json")
		}, want: http.StatusRequestEntityTooLarge, code: "too_large"},
		{name: "not JSON", req: func() *http.Request { return request(body, webhook.LocalSecret, "text/plain") }, want: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "presence batch on the session route", req: func() *http.Request { return request(presenceBody, webhook.LocalSecret, "application/json") },
			want: http.StatusBadRequest, code: "invalid",
			problems: []string{"$.events[0].id", "$.events[0].time", "$.events[0].eventId", "$.events[0].eventDate"}},
		{name: "bad field", req: func() *http.Request {
			return request(strings.Replace(body, `"loginType":"Application"`, `"loginType":7`, 1), webhook.LocalSecret, "application/json")
		}, want: http.StatusBadRequest, code: "invalid", problems: []string{"$.events[0].loginType"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, sp := newSessionFixture(t, nil)
			w := f.do(tt.req())
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %.300s", w.Code, tt.want, w.Body)
			}
			if tt.want == http.StatusUnauthorized {
				if w.Body.String() != unauthorizedBody {
					t.Errorf("401 body %q carries detail", w.Body)
				}
			} else if resp := decodeResponse(t, w); tt.code != "" {
				var paths []string
				if resp.Error != nil {
					for _, p := range resp.Error.Problems {
						paths = append(paths, p.Path)
					}
				}
				if resp.Error == nil || resp.Error.Code != tt.code || !slices.Equal(paths, tt.problems) {
					t.Errorf("error %+v, want code %s and problems at %v", resp.Error, tt.code, tt.problems)
				}
			}
			if n := len(sp.recorded()); (tt.want == http.StatusAccepted) != (n > 0) {
				t.Errorf("processor called %d times for a %d", n, tt.want)
			}
		})
	}
	t.Run("replay", func(t *testing.T) {
		f, sp := newSessionFixture(t, nil)
		if w := f.do(loadSample(t, "session-login.json")); w.Code != http.StatusAccepted {
			t.Fatalf("first: %d %s", w.Code, w.Body)
		}
		if w := f.do(loadSample(t, "session-login.json")); w.Code != http.StatusUnauthorized || w.Body.String() != unauthorizedBody {
			t.Fatalf("replay: %d %s", w.Code, w.Body)
		}
		if n := len(sp.recorded()); n != 1 {
			t.Errorf("processor called %d times, want 1", n)
		}
	})
}

func TestSessionProcessorErrors(t *testing.T) {
	tests := []processorErrorCase{
		{name: "retryable unavailable", failID: "0001", err: apperr.New(apperr.Unavailable, "table throttled"), want: http.StatusServiceUnavailable,
			// User A's later events (0002, 0003) are skipped; user B (0004, 0005) is processed.
			outcomes: []string{"skipped", "error", "applied", "duplicate", "skipped", "applied"}},
		{name: "conflict is final", failID: "0004", err: apperr.New(apperr.Conflict, "changed meanwhile"), want: http.StatusAccepted,
			outcomes: []string{"applied", "applied", "rejected", "duplicate", "applied", "applied"}},
		{name: "final invalid", failID: "0002", err: apperr.New(apperr.Invalid, "user not linked"), want: http.StatusAccepted,
			outcomes: []string{"applied", "applied", "applied", "duplicate", "rejected", "applied"}},
		{name: "panic", failID: "0005", panics: true, want: http.StatusServiceUnavailable,
			outcomes: []string{"applied", "applied", "applied", "duplicate", "applied", "error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			guard := &memReplay{}
			f, sp := newSessionFixture(t, guard)
			sp.process = func(_ context.Context, ev session.Event) (webhook.Result, error) {
				if err := tt.fail(ev.ID); err != nil {
					return webhook.Result{}, err
				}
				return webhook.Result{Outcome: "applied", Detail: "ok"}, nil
			}
			tt.check(t, f.do(loadSample(t, "session-mixed.json")))
			retry := tt.want == http.StatusServiceUnavailable
			if released := len(guard.released) == 1; released != retry {
				t.Errorf("replay claims released %v on a %d", guard.released, tt.want)
			}
		})
	}
}

func TestSessionRoutes(t *testing.T) {
	enabled, _ := newSessionFixture(t, nil)
	disabled := newFixture(t, nil)
	tests := []struct {
		name   string
		f      *fixture
		method string
		path   string
		want   int
		code   string
	}{
		{"disabled", disabled, http.MethodPost, webhook.SessionPath, http.StatusNotFound, "not_found"},
		{"disabled GET", disabled, http.MethodGet, webhook.SessionPath, http.StatusNotFound, "not_found"},
		{"enabled GET", enabled, http.MethodGet, webhook.SessionPath, http.StatusMethodNotAllowed, "method_not_allowed"},
		{"presence GET with session enabled", enabled, http.MethodGet, webhook.Path, http.StatusMethodNotAllowed, "method_not_allowed"},
		{"other route", enabled, http.MethodPost, "/webhooks/salesforce/sessions", http.StatusNotFound, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.f.do(httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d", w.Code, tt.want)
			}
			if resp := decodeResponse(t, w); resp.Error == nil || resp.Error.Code != tt.code {
				t.Errorf("error %+v, want code %s", resp.Error, tt.code)
			}
			if tt.want == http.StatusMethodNotAllowed && w.Header().Get("Allow") != "OPTIONS, POST" {
				t.Errorf("Allow = %q", w.Header().Get("Allow"))
			}
		})
	}
	t.Run("disabled: signed sample", func(t *testing.T) {
		if w := disabled.do(loadSample(t, "session-mixed.json")); w.Code != http.StatusNotFound {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
	t.Run("presence still served with session enabled", func(t *testing.T) {
		if w := enabled.do(loadSample(t, "batch-mixed.json")); w.Code != http.StatusAccepted {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

// TestSessionSampleThroughLambdaAdapter feeds session-mixed.json through API Gateway's v2 proxy
// adapter, as the Lambda does.
func TestSessionSampleThroughLambdaAdapter(t *testing.T) {
	f, sp := newSessionFixture(t, nil)
	resp, err := httpadapter.NewV2(f.h).ProxyWithContext(context.Background(), loadSampleEvent(t, "session-mixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || len(sp.recorded()) != 5 {
		t.Fatalf("status %d after %d events: %s", resp.StatusCode, len(sp.recorded()), resp.Body)
	}
}
