package contactdispatch_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/contactdispatch"
	"github.com/omnibridge/omnibridge/shared/contactevent"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
)

// recorder is a hand-written handler: it records the event ids it saw and fails as scripted.
type recorder struct {
	name string
	seen []string
	fail []error // returned by successive calls; nil entries and calls past the end succeed
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) HandleContactEvent(_ context.Context, ev contactevent.Event) error {
	r.seen = append(r.seen, ev.ID)
	if len(r.fail) == 0 {
		return nil
	}
	err := r.fail[0]
	r.fail = r.fail[1:]
	return err
}

func event(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "contact-events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func settings(context.Context) (config.Settings, error) { return config.Defaults(), nil }

// eventTime is just after the connected sample's own timestamps.
var eventTime = time.Date(2024, 3, 11, 15, 1, 0, 0, time.UTC)

func TestDispatch(t *testing.T) {
	unavailable := apperr.New(apperr.Unavailable, "Salesforce 503")
	final := apperr.New(apperr.Invalid, "no such queue")
	type call struct {
		wantErr                           bool
		handled, skipped, failed, retried []string
	}
	tests := []struct {
		name          string
		logFail       []error
		routeFail     []error
		calls         []call
		wantLogCalls  int
		wantRouteCall int
		wantOutcome   string
	}{
		{
			name: "both succeed, then a duplicate delivery is skipped by both",
			calls: []call{
				{handled: []string{"call-logging", "case-routing"}},
				{skipped: []string{"call-logging", "case-routing"}},
			},
			wantLogCalls: 1, wantRouteCall: 1,
		},
		{
			name:    "a retryable failure re-runs only the failed handler",
			logFail: []error{unavailable},
			calls: []call{
				{wantErr: true, handled: []string{"case-routing"}, retried: []string{"call-logging"}},
				{handled: []string{"call-logging"}, skipped: []string{"case-routing"}},
				{skipped: []string{"call-logging", "case-routing"}},
			},
			wantLogCalls: 2, wantRouteCall: 1,
		},
		{
			name:      "a final failure is audited and never retried",
			routeFail: []error{final},
			calls: []call{
				{handled: []string{"call-logging"}, failed: []string{"case-routing"}},
				{skipped: []string{"call-logging", "case-routing"}},
			},
			wantLogCalls: 1, wantRouteCall: 1, wantOutcome: contactdispatch.OutcomeHandlerError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := dynamotest.NewStore(t)
			logging := &recorder{name: "call-logging", fail: tt.logFail}
			routing := &recorder{name: "case-routing", fail: tt.routeFail}
			d := contactdispatch.New(store, store, settings, func() time.Time { return eventTime }, nil, logging, routing)
			raw := event(t, "voice-inbound-connected-to-agent.json")
			for i, c := range tt.calls {
				rep, err := d.Dispatch(context.Background(), raw)
				if (err != nil) != c.wantErr {
					t.Fatalf("call %d: err = %v, want error %v", i, err, c.wantErr)
				}
				if c.wantErr && !apperr.Is(err, apperr.Unavailable) {
					t.Errorf("call %d: err code %s, want unavailable (so Lambda retries)", i, apperr.CodeOf(err))
				}
				check := func(what string, got, want []string) {
					if !slices.Equal(got, want) {
						t.Errorf("call %d: %s = %v, want %v", i, what, got, want)
					}
				}
				check("handled", rep.Handled, c.handled)
				check("skipped", rep.Skipped, c.skipped)
				check("failed", rep.Failed, c.failed)
				check("retry", rep.Retry, c.retried)
			}
			if len(logging.seen) != tt.wantLogCalls || len(routing.seen) != tt.wantRouteCall {
				t.Errorf("handler calls: logging %d, routing %d; want %d, %d", len(logging.seen), len(routing.seen), tt.wantLogCalls, tt.wantRouteCall)
			}
			page, err := store.QueryAudit(context.Background(), audit.Query{Subject: "contact/6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"})
			if err != nil {
				t.Fatal(err)
			}
			var outcomes []string
			for _, e := range page.Entries {
				outcomes = append(outcomes, e.Outcome)
			}
			if tt.wantOutcome == "" && len(outcomes) > 0 {
				t.Errorf("audit = %v, want nothing", outcomes)
			}
			if tt.wantOutcome != "" && !slices.Equal(outcomes, []string{tt.wantOutcome}) {
				t.Errorf("audit = %v, want [%s]", outcomes, tt.wantOutcome)
			}
		})
	}
}

func TestDispatchPoison(t *testing.T) {
	tests := []struct {
		name    string
		raw     func(t *testing.T) []byte
		now     time.Time
		subject string
	}{
		{
			name:    "no contact id",
			raw:     func(t *testing.T) []byte { return event(t, "invalid-no-contact-id.json") },
			now:     eventTime,
			subject: "system/contact-events",
		},
		{
			name:    "not JSON",
			raw:     func(*testing.T) []byte { return []byte(`{"detail":`) },
			now:     eventTime,
			subject: "system/contact-events",
		},
		{
			name:    "timestamps an hour ahead of the bridge's clock",
			raw:     func(t *testing.T) []byte { return event(t, "voice-inbound-connected-to-agent.json") },
			now:     eventTime.Add(-time.Hour),
			subject: "contact/6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := dynamotest.NewStore(t)
			h := &recorder{name: "call-logging"}
			d := contactdispatch.New(store, store, settings, func() time.Time { return tt.now }, nil, h)
			rep, err := d.Dispatch(context.Background(), tt.raw(t))
			if err != nil {
				t.Fatalf("poison must not be retried: %v", err)
			}
			if rep.Poison == "" || len(h.seen) > 0 {
				t.Fatalf("report %+v, handler saw %v: want poison and no handler call", rep, h.seen)
			}
			page, err := store.QueryAudit(context.Background(), audit.Query{Subject: tt.subject})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Entries) != 1 || page.Entries[0].Outcome != contactdispatch.OutcomePoison {
				t.Fatalf("audit under %s = %+v, want one poison entry", tt.subject, page.Entries)
			}
		})
	}
}
