package webhook_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

// TestEventTimesBounded: on both routes an event dated further ahead of the bridge's clock than
// the allowed skew is a 400 naming its field, and nothing of the batch is processed.
func TestEventTimesBounded(t *testing.T) {
	stamp := func(d time.Duration) string { return sampleTime.Add(d).Format(time.RFC3339Nano) }
	presence := func(at string) string {
		return `{"schemaVersion":"1","orgId":"00D5e000000Hkp2","sentAt":"2026-11-21T08:59:59Z","events":[` +
			`{"id":"e0","type":"logout","userId":"0055e000003AbCd","time":"2026-11-21T08:59:58Z"},` +
			`{"id":"e1","type":"logout","userId":"0055e000003AbCd","time":"` + at + `"}]}`
	}
	sessionBody := func(at string) string {
		return `{"schemaVersion":"1","orgId":"00D5e000000Hkp2","sentAt":"2026-11-21T08:59:59Z","events":[` +
			`{"type":"login","eventId":"l0","userId":"0055e000003AbCd","eventDate":"2026-11-21T08:59:58Z"},` +
			`{"type":"logout","eventId":"l1","userId":"0055e000003AbCd","eventDate":"` + at + `"}]}`
	}
	routes := []struct {
		name  string
		path  string
		body  func(string) string
		field string
	}{
		{"presence", webhook.Path, presence, "$.events[1].time"},
		{"session", webhook.SessionPath, sessionBody, "$.events[1].eventDate"},
	}
	times := []struct {
		name string
		at   string
		skew time.Duration // settings.maxClockSkewSeconds; 0 leaves Options.Bound unset
		ok   bool
		msg  string
	}{
		{name: "far future", at: "2099-01-01T00:00:00Z",
			msg: "2099-01-01T00:00:00Z is 26338 days ahead of the bridge's clock (2026-11-21T09:00:00Z); at most 5m0s of clock skew is allowed (settings.maxClockSkewSeconds)"},
		{name: "9999-12-31", at: "9999-12-31T23:59:59.999Z", msg: "days ahead of the bridge's clock"},
		{name: "just inside the skew", at: stamp(eventtime.DefaultMaxSkew), ok: true},
		{name: "just outside the skew", at: stamp(eventtime.DefaultMaxSkew + time.Millisecond), msg: "is 5m0s ahead"},
		{name: "far past", at: "1971-01-01T00:00:00Z", ok: true},
		{name: "outside a configured 60s", at: stamp(61 * time.Second), skew: time.Minute, msg: "at most 1m0s of clock skew"},
		{name: "inside a configured 600s", at: stamp(eventtime.DefaultMaxSkew + time.Minute), skew: 10 * time.Minute, ok: true},
	}
	for _, rt := range routes {
		for _, tt := range times {
			t.Run(rt.name+"/"+tt.name, func(t *testing.T) {
				sp := &fakeSessionProcessor{}
				f := newFixture(t, nil, func(o *webhook.Options) {
					o.Session = sp
					if tt.skew > 0 {
						o.Bound = func(_ context.Context, now time.Time) (eventtime.Bound, error) {
							return eventtime.New(now, tt.skew), nil
						}
					}
				})
				r := signed(rt.body(tt.at), webhook.LocalSecret, sampleTime)
				r.URL.Path = rt.path
				w := f.do(r)
				processed := len(f.proc.recorded()) + len(sp.recorded())
				if tt.ok {
					if w.Code != http.StatusAccepted || processed != 2 {
						t.Fatalf("status %d, %d processed: %s", w.Code, processed, w.Body)
					}
					return
				}
				if w.Code != http.StatusBadRequest || processed != 0 {
					t.Fatalf("status %d, %d processed, want 400 and none: %s", w.Code, processed, w.Body)
				}
				resp := decodeResponse(t, w)
				if resp.Error == nil || resp.Error.Code != "invalid" || len(resp.Error.Problems) != 1 {
					t.Fatalf("error %+v", resp.Error)
				}
				if p := resp.Error.Problems[0]; p.Path != rt.field || !strings.Contains(p.Message, tt.msg) {
					t.Errorf("problem %+v, want %s: …%s…", p, rt.field, tt.msg)
				}
			})
		}
	}
}

// TestEventTimesBoundFailure: when the bound cannot be read (the config is unavailable) the
// batch is not processed unchecked; the answer follows the error's code (503 to retry).
func TestEventTimesBoundFailure(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	f := newFixture(t, nil, func(o *webhook.Options) {
		o.Bound = func(_ context.Context, now time.Time) (eventtime.Bound, error) {
			if down.Load() {
				return eventtime.Bound{}, apperr.New(apperr.Unavailable, "config table throttled")
			}
			return eventtime.New(now, 0), nil
		}
	})
	body := sampleBody(t, "logout.json")
	w := f.do(signed(body, webhook.LocalSecret, sampleTime))
	if w.Code != http.StatusServiceUnavailable || len(f.proc.recorded()) != 0 {
		t.Fatalf("status %d, %d processed: %s", w.Code, len(f.proc.recorded()), w.Body)
	}
	if resp := decodeResponse(t, w); resp.Error == nil || resp.Error.Code != "unavailable" {
		t.Errorf("body %s", w.Body)
	}
	// The replay claim was released: Salesforce's retry of the same signed request goes through.
	down.Store(false)
	if w := f.do(signed(body, webhook.LocalSecret, sampleTime)); w.Code != http.StatusAccepted {
		t.Fatalf("retry: status %d: %s", w.Code, w.Body)
	}
}
