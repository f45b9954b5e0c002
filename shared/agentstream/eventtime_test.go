package agentstream_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine/enginetest"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// retimed is the sample's first record with another event id, sequence number and time.
func retimed(t *testing.T, sample, id, seq string, at time.Time) events.KinesisEventRecord {
	t.Helper()
	r := load(t, sample).Records[0]
	var m map[string]any
	if err := json.Unmarshal(r.Kinesis.Data, &m); err != nil {
		t.Fatal(err)
	}
	m["EventId"], m["EventTimestamp"] = id, at.UTC().Format("2006-01-02T15:04:05.000Z")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	r.Kinesis.Data, r.Kinesis.SequenceNumber = b, seq
	return r
}

// TestEventTimesBounded: a record dated beyond settings.maxClockSkewSeconds is an audited skip:
// no command, nothing stored, never retried.
func TestEventTimesBounded(t *testing.T) {
	now := enginetest.Start
	jdoe := "agent/" + enginetest.JDoe.ConnectID
	for _, tc := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"far future", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"9999-12-31", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{"just inside the skew", now.Add(eventtime.DefaultMaxSkew), true},
		{"just outside the skew", now.Add(eventtime.DefaultMaxSkew + time.Millisecond), false},
		{"far past", time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := enginetest.New(t, enginetest.Options{})
			rec := retimed(t, "state-change-available-to-lunch.json", "ev-1", "1", tc.at)
			resp, st := handler(h).HandleWithStats(ctx, events.KinesisEvent{Records: []events.KinesisEventRecord{rec}})
			if f := failures(resp); len(f) != 0 {
				t.Fatalf("failures %v: a refused record must never be retried", f)
			}
			e, found := findAudit(t, h, jdoe, "ev-1")
			if !found {
				t.Fatal("no audit entry")
			}
			if tc.ok {
				if e.Outcome != string(presence.OutcomeApplied) || st.Published != 1 {
					t.Errorf("outcome %s, %d published: %s", e.Outcome, st.Published, e.Message)
				}
				return
			}
			if e.Outcome != string(presence.OutcomeInvalid) || st.Published != 0 ||
				!strings.Contains(e.Message, "ahead of the bridge's clock") || !e.Time.Equal(now) {
				t.Errorf("audit %+v, %d published: want an invalid outcome filed at the decision time", e, st.Published)
			}
			if rec, err := h.Table.GetAgent(ctx, enginetest.JDoe.ConnectID); err == nil && rec.State.Connect.EventID == "ev-1" {
				t.Errorf("the refused event was stored: %+v", rec.State.Connect)
			}
		})
	}
}

// TestTrialReplay is the trial on the stream: a record dated 2099, then one dated now; the
// second must publish its command (it published only the first before the bound).
func TestTrialReplay(t *testing.T) {
	h := enginetest.New(t, enginetest.Options{})
	now := h.Clock.Now()
	in := events.KinesisEvent{Records: []events.KinesisEventRecord{
		retimed(t, "state-change-available-to-lunch.json", "future", "1", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)),
		retimed(t, "state-change-available-to-lunch.json", "real", "2", now.Add(-time.Second)),
	}}
	resp, st := handler(h).HandleWithStats(ctx, in)
	if f := failures(resp); len(f) != 0 {
		t.Fatalf("failures %v", f)
	}
	if got := publishedIDs(h); len(got) != 1 || got[0] != sfCmd("real") || st.Published != 1 {
		t.Fatalf("published %v, want only the real event's command", got)
	}
	// And a later logout applies too.
	h.Clock.Advance(time.Minute)
	logout := retimed(t, "logout.json", "logout", "3", h.Clock.Now().Add(-time.Second))
	if resp, _ := handler(h).HandleWithStats(ctx, events.KinesisEvent{Records: []events.KinesisEventRecord{logout}}); len(failures(resp)) != 0 {
		t.Fatalf("logout failures %v", failures(resp))
	}
	rec, err := h.Table.GetAgent(ctx, enginetest.JDoe.ConnectID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State.Connect.EventID != "logout" || rec.State.Connect.Status != "Offline" {
		t.Errorf("after the logout: %+v", rec.State.Connect)
	}
}

// TestStoredFutureStateDoesNotFreeze: an agent item written before the bound existed, with both
// sides' last event dated 2099, blocks neither the stream's next event nor the webhook's logout.
func TestStoredFutureStateDoesNotFreeze(t *testing.T) {
	h := enginetest.New(t, enginetest.Options{})
	st := presence.AgentState{
		ConnectUserID: enginetest.JDoe.ConnectID, SalesforceUserID: enginetest.JDoe.SalesforceID,
		Connect:    presence.ConnectMirror{Status: "Available", State: "Available", EventID: "future-c", EventTime: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)},
		Salesforce: presence.SalesforceMirror{StatusName: "Available", EventID: "future-s", EventTime: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
	}
	if _, err := h.Table.PutAgent(ctx, dynamo.AgentRecord{ConnectUserID: enginetest.JDoe.ConnectID, State: st}); err != nil {
		t.Fatal(err)
	}
	now := h.Clock.Now()
	rec := retimed(t, "state-change-available-to-lunch.json", "real", "1", now.Add(-time.Second))
	if resp, st := handler(h).HandleWithStats(ctx, events.KinesisEvent{Records: []events.KinesisEventRecord{rec}}); len(failures(resp)) != 0 || st.Published != 1 {
		t.Fatalf("stream event after the stored 2099 one: failures %v, stats %+v", failures(resp), st)
	}
	res, err := h.Engine.ProcessSalesforce(ctx, enginetest.JDoe.SalesforceID, presence.Event{
		ID: "logout", Kind: rules.EventSalesforceAgentLogout, Time: now, Origin: presence.OriginWebhook,
	})
	if err != nil || res.Outcome == presence.OutcomeStale || res.Outcome == presence.OutcomeInvalid {
		t.Fatalf("webhook logout after the stored 9999 event: %s %v: %s", res.Outcome, err, res.Detail)
	}
	got, err := h.Table.GetAgent(ctx, enginetest.JDoe.ConnectID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State.Connect.EventID != "real" || got.State.Salesforce.EventID != "logout" || got.State.Salesforce.StatusName != rules.Offline {
		t.Errorf("state %+v / %+v", got.State.Connect, got.State.Salesforce)
	}
}
