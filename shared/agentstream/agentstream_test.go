package agentstream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/agentstream"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/engine/enginetest"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
)

var ctx = context.Background()

const samples = "../../events/agent-events"

// Event ids and sequence numbers of batch-mixed.json, in record order.
const (
	evJDoeAvailable = "8d1e3f5a-7b9c-4d0e-a2f4-6b8d0e2f4a02"
	evMSmithCall    = "2c4e6a8c-0e2a-4c6e-8a0c-2e4a6c8e0a07"
	evLChenChat     = "7e9a1c3e-5b7d-4f9b-a1c3-e5b7d9f1a309"
	evACW           = "EventId-1"
	evJDoeLunch     = "1f3a5c7e-9b0d-4e2f-b4a6-8c0e2a4c6e03"
	seqPoison       = "49650383517124867512047236493827145810473263573961760770"
)

func load(t testing.TB, name string) events.KinesisEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.KinesisEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

func handler(h *enginetest.Harness) *agentstream.Handler {
	return agentstream.New(h.Engine, agentstream.Options{Concurrency: 4})
}

func failures(resp events.KinesisEventResponse) []string {
	out := []string{}
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

func seqs(in events.KinesisEvent, idx ...int) []string {
	out := []string{}
	for _, i := range idx {
		out = append(out, in.Records[i].Kinesis.SequenceNumber)
	}
	return out
}

func sfCmd(eventID string) string { return presence.CommandID(eventID, rules.Salesforce) }

func publishedIDs(h *enginetest.Harness) []string {
	var out []string
	for _, c := range h.Publisher.Published() {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return out
}

func sorted(xs ...string) []string {
	slices.Sort(xs)
	return xs
}

func auditEntries(t *testing.T, h *enginetest.Harness, subject string) []audit.Entry {
	t.Helper()
	page, err := h.Table.QueryAudit(ctx, audit.Query{Subject: subject, Limit: audit.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return page.Entries
}

func findAudit(t *testing.T, h *enginetest.Harness, subject, id string) (audit.Entry, bool) {
	t.Helper()
	for _, e := range auditEntries(t, h, subject) {
		if e.ID == id {
			return e, true
		}
	}
	return audit.Entry{}, false
}

// allFour are the Salesforce commands batch-mixed.json causes.
var allFour = sorted(sfCmd(evJDoeAvailable), sfCmd(evMSmithCall), sfCmd(evLChenChat), sfCmd(evJDoeLunch))

func TestReplayedBatchHasOneSetOfSideEffects(t *testing.T) {
	h := enginetest.New(t, enginetest.Options{})
	hd := handler(h)
	in := load(t, "batch-mixed.json")
	for run := 1; run <= 3; run++ {
		resp, st := hd.HandleWithStats(ctx, in)
		if f := failures(resp); len(f) != 0 {
			t.Fatalf("run %d: failures %v", run, f)
		}
		wantDup := 0
		if run > 1 {
			wantDup = 5
		}
		if st.Duplicates != wantDup || st.Poison != 1 {
			t.Errorf("run %d: stats %+v, want %d duplicates and 1 poison", run, st, wantDup)
		}
	}
	if got := publishedIDs(h); !slices.Equal(got, allFour) {
		t.Errorf("published %v, want %v", got, allFour)
	}
	if n := h.Publisher.Calls(); n != 1 {
		t.Errorf("publish calls = %d, want 1 (one batch, one call; replays publish nothing)", n)
	}
	if n := len(h.Status.Calls()); n != 0 {
		t.Errorf("Connect calls = %d, want 0", n)
	}
	// The four agents' links were looked up together, in one query on the first run only.
	if n := h.SF.Calls(); n != 1 {
		t.Errorf("Salesforce user lookups = %d, want 1", n)
	}
}

func TestPoisonRecordIsAuditedAndSkipped(t *testing.T) {
	t.Run("audited", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{})
		in := load(t, "batch-mixed.json")
		resp, st := handler(h).HandleWithStats(ctx, in)
		if f := failures(resp); len(f) != 0 {
			t.Fatalf("failures %v, want none", f)
		}
		if st.Poison != 1 || st.Processed != 5 {
			t.Errorf("stats %+v, want 1 poison and 5 processed", st)
		}
		e, ok := findAudit(t, h, agentstream.PoisonSubject, seqPoison)
		if !ok {
			t.Fatalf("no poison audit; have %+v", auditEntries(t, h, agentstream.PoisonSubject))
		}
		if e.Outcome != "invalid" || e.Details["sequenceNumber"] != seqPoison || e.Details["problems"] == "" {
			t.Errorf("poison audit = %+v", e)
		}
		if got := publishedIDs(h); !slices.Equal(got, allFour) {
			t.Errorf("published %v, want the good records' commands %v", got, allFour)
		}
		// A replay rewrites the same entry.
		handler(h).Handle(ctx, in)
		if n := len(auditEntries(t, h, agentstream.PoisonSubject)); n != 1 {
			t.Errorf("%d poison entries after a replay, want 1", n)
		}
	})
	t.Run("audit store down: retried, not lost", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{Wrap: func(s engine.Store) engine.Store {
			return &enginetest.Store{Store: s, AppendAuditFunc: func(ctx context.Context, e audit.Entry, r time.Duration) error {
				if e.Subject == agentstream.PoisonSubject {
					return apperr.New(apperr.Unavailable, "throttled")
				}
				return s.AppendAudit(ctx, e, r)
			}}
		}})
		resp, _ := handler(h).HandleWithStats(ctx, load(t, "batch-mixed.json"))
		if f := failures(resp); !slices.Equal(f, []string{seqPoison}) {
			t.Errorf("failures %v, want only the poison record", f)
		}
	})
}

func TestRetryableFailureFailsTheAgentsRecordsOnly(t *testing.T) {
	in := load(t, "batch-mixed.json")
	u := enginetest.JDoe
	var broken bool
	tests := []struct {
		name  string
		setup func(t *testing.T, h *enginetest.Harness)
		// wantFailed are record indexes of batch-mixed.json.
		wantFailed []int
		// wantConnect are the Connect commands applied in the end.
		wantConnect int
	}{
		{
			name: "publisher",
			setup: func(t *testing.T, h *enginetest.Harness) {
				h.Publisher.PublishFunc = func(_ context.Context, cmds []presence.Command) ([]error, error) {
					errs := make([]error, len(cmds))
					for i, c := range cmds {
						if broken && c.UserID == u.SalesforceID {
							errs[i] = apperr.New(apperr.Unavailable, "REQUEST_LIMIT_EXCEEDED")
						}
					}
					return errs, nil
				}
			},
			wantFailed: []int{0, 5},
		},
		{
			name: "store",
			setup: func(t *testing.T, h *enginetest.Harness) {
				w := h.Store.(*enginetest.Store)
				w.GetAgentFunc = func(ctx context.Context, id string) (dynamo.AgentRecord, error) {
					if broken && id == enginetest.MSmith.ConnectID {
						return dynamo.AgentRecord{}, apperr.New(apperr.Unavailable, "ProvisionedThroughputExceeded")
					}
					return w.Store.GetAgent(ctx, id)
				}
			},
			wantFailed: []int{1},
		},
		{
			name: "connect",
			setup: func(t *testing.T, h *enginetest.Harness) {
				h.Status.SetStatusFunc = func(context.Context, string, string, string, bool) error {
					if broken {
						return apperr.New(apperr.Unavailable, "TooManyRequestsException")
					}
					return nil
				}
				// An earlier Salesforce change left a Connect command for lchen in the outbox.
				sf := presence.Event{ID: "sf-away", Kind: rules.EventSalesforceAgentStateChanged, Time: time.Date(2024, 3, 11, 15, 0, 0, 0, time.UTC),
					Salesforce: presence.SalesforceData{StatusID: enginetest.StatusAway}}
				if _, err := h.Engine.ProcessSalesforce(ctx, enginetest.LChen.SalesforceID, sf); err == nil {
					t.Fatal("setup: delivery to a broken Connect succeeded")
				}
			},
			wantFailed:  []int{3},
			wantConnect: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := enginetest.New(t, enginetest.Options{Wrap: func(s engine.Store) engine.Store { return &enginetest.Store{Store: s} }})
			broken = true
			tc.setup(t, h)
			hd := handler(h)
			resp, _ := hd.HandleWithStats(ctx, in)
			if got, want := failures(resp), seqs(in, tc.wantFailed...); !slices.Equal(got, want) {
				t.Fatalf("failures %v, want %v", got, want)
			}
			broken = false
			for run := range 2 {
				resp, _ := hd.HandleWithStats(ctx, in)
				if f := failures(resp); len(f) != 0 {
					t.Fatalf("retry %d: failures %v", run+1, f)
				}
			}
			if got := publishedIDs(h); !slices.Equal(got, allFour) {
				t.Errorf("published %v, want each command once: %v", got, allFour)
			}
			if got := h.Status.Applied(); len(got) != tc.wantConnect {
				t.Errorf("Connect applied %+v, want %d", got, tc.wantConnect)
			}
		})
	}
}

func TestStaleRecordIsAuditedStale(t *testing.T) {
	h := enginetest.New(t, enginetest.Options{})
	hd := handler(h)
	hd.Handle(ctx, load(t, "state-change-available-to-lunch.json")) // 16:02 Lunch
	mixed := load(t, "batch-mixed.json")
	older := events.KinesisEvent{Records: mixed.Records[:1]} // 13:58 Available, same agent
	resp, _ := hd.HandleWithStats(ctx, older)
	if f := failures(resp); len(f) != 0 {
		t.Fatalf("failures %v", f)
	}
	e, ok := findAudit(t, h, "agent/"+enginetest.JDoe.ConnectID, evJDoeAvailable)
	if !ok || e.Outcome != "stale" {
		t.Fatalf("audit %+v (found %v), want stale", e, ok)
	}
	if got := publishedIDs(h); !slices.Equal(got, []string{sfCmd(evJDoeLunch)}) {
		t.Errorf("published %v, want only the Lunch command", got)
	}
}

func TestAgentsRunInParallelEachInOrder(t *testing.T) {
	const agents, perAgent = 4, 5
	var (
		mu       sync.Mutex
		inflight int
		peak     int
		seen     = map[string][]string{}
	)
	h := enginetest.New(t, enginetest.Options{Wrap: func(s engine.Store) engine.Store {
		return &enginetest.Store{Store: s, PutAgentFunc: func(ctx context.Context, rec dynamo.AgentRecord) (int64, error) {
			mu.Lock()
			inflight++
			peak = max(peak, inflight)
			seen[rec.ConnectUserID] = append(seen[rec.ConnectUserID], rec.State.Connect.EventID)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			inflight--
			mu.Unlock()
			return s.PutAgent(ctx, rec)
		}}
	}})
	// Records interleave agents, as a shard does; each agent's events alternate statuses.
	var in events.KinesisEvent
	want := map[string][]string{}
	base := time.Date(2024, 3, 11, 10, 0, 0, 0, time.UTC)
	for i := range perAgent {
		for a := range agents {
			id := fmt.Sprintf("agent-%d", a)
			evID := fmt.Sprintf("%s-ev-%d", id, i)
			status := []string{"Available", "Lunch"}[i%2]
			in.Records = append(in.Records, record(t, id, evID, base.Add(time.Duration(i)*time.Minute), status, len(in.Records)))
			want[id] = append(want[id], evID)
		}
	}
	resp, st := agentstream.New(h.Engine, agentstream.Options{Concurrency: agents}).HandleWithStats(ctx, in)
	if f := failures(resp); len(f) != 0 || st.Processed != agents*perAgent {
		t.Fatalf("failures %v, stats %+v", f, st)
	}
	for id, w := range want {
		// Flush's write, which clears the journal the decisions left in the item, repeats
		// the last state; the order is what counts.
		if got := slices.Compact(slices.Clone(seen[id])); !slices.Equal(got, w) {
			t.Errorf("%s written in order %v, want %v", id, seen[id], w)
		}
	}
	if peak < 2 {
		t.Errorf("at most %d agents in flight, want them processed in parallel", peak)
	}
}

func TestEventTypes(t *testing.T) {
	jdoe := "agent/" + enginetest.JDoe.ConnectID
	tests := []struct {
		file        string
		wantOutcome string // audit outcome of the record's event; "" means no audit
		eventID     string
		wantOffline bool
		wantStats   agentstream.Stats
	}{
		{file: "login.json", eventID: "6c2f0e8a-1b3d-4f5a-9c7e-0a2b4c6d8e01", wantOutcome: "applied", wantOffline: true,
			wantStats: agentstream.Stats{Records: 1, Processed: 1, Published: 1, PublishCalls: 1}},
		{file: "logout.json", eventID: "9a1c3e5b-7d9f-4b1d-a3c5-e7f9b1d3f505", wantOutcome: "applied", wantOffline: true,
			wantStats: agentstream.Stats{Records: 1, Processed: 1, Published: 1, PublishCalls: 1}},
		{file: "heartbeat.json", eventID: "4b6d8f0a-2c4e-4a6c-8e0a-2c4e6a8c0e04",
			wantStats: agentstream.Stats{Records: 1, Heartbeats: 1}},
		{file: "state-change-available-to-lunch.json", eventID: evJDoeLunch, wantOutcome: "applied",
			wantStats: agentstream.Stats{Records: 1, Processed: 1, Published: 1, PublishCalls: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			h := enginetest.New(t, enginetest.Options{})
			resp, st := handler(h).HandleWithStats(ctx, load(t, tc.file))
			if f := failures(resp); len(f) != 0 || st != tc.wantStats {
				t.Fatalf("failures %v, stats %+v; want none, %+v", f, st, tc.wantStats)
			}
			e, ok := findAudit(t, h, jdoe, tc.eventID)
			if tc.wantOutcome == "" {
				if ok {
					t.Errorf("heartbeat audited: %+v", e)
				}
				if _, err := h.Table.GetAgent(ctx, enginetest.JDoe.ConnectID); !apperr.Is(err, apperr.NotFound) {
					t.Errorf("heartbeat wrote agent state: %v", err)
				}
				return
			}
			if !ok || e.Outcome != tc.wantOutcome {
				t.Fatalf("audit %+v (found %v), want %s", e, ok, tc.wantOutcome)
			}
			if pub := h.Publisher.Published(); tc.wantOffline && (len(pub) != 1 || !pub[0].Target.SalesforceOffline) {
				t.Errorf("published %+v, want Salesforce Offline", pub)
			}
		})
	}
}

func TestConvert(t *testing.T) {
	ts := time.Date(2024, 3, 11, 14, 20, 33, 0, time.UTC)
	snap := func(status string, cs ...agentevent.Contact) *agentevent.AgentSnapshot {
		return &agentevent.AgentSnapshot{
			AgentStatus:   &agentevent.AgentStatus{Name: status, Type: agentevent.StatusTypeRoutable},
			Configuration: &agentevent.Configuration{Username: "msmith"},
			Contacts:      cs,
		}
	}
	call := agentevent.Contact{ContactID: "c1", State: agentevent.ContactStateConnected, InitiationMethod: agentevent.InitiationInbound, Channel: agentevent.ChannelVoice}
	tests := []struct {
		name string
		in   agentevent.Event
		want presence.Event
	}{
		{
			name: "state change with contacts and previous snapshot",
			in:   agentevent.Event{EventID: "e1", EventType: agentevent.EventTypeStateChange, EventTimestamp: ts, CurrentAgentSnapshot: snap("Available", call), PreviousAgentSnapshot: snap("Available")},
			want: presence.Event{ID: "e1", Kind: rules.EventConnectAgentStateChanged, Time: ts, Origin: presence.OriginStream,
				Connect:         presence.ConnectSnapshot{StatusName: "Available", StatusType: "ROUTABLE", Contacts: []presence.Contact{{ID: "c1", State: "CONNECTED", InitiationMethod: "INBOUND", Channel: "VOICE"}}},
				ConnectPrevious: &presence.ConnectSnapshot{StatusName: "Available", StatusType: "ROUTABLE"}},
		},
		{
			name: "logout is offline",
			in:   agentevent.Event{EventID: "e2", EventType: agentevent.EventTypeLogout, EventTimestamp: ts, CurrentAgentSnapshot: snap("Available", call)},
			want: presence.Event{ID: "e2", Kind: rules.EventConnectAgentStateChanged, Time: ts, Origin: presence.OriginStream,
				Connect: presence.ConnectSnapshot{StatusName: "Offline", StatusType: "OFFLINE"}},
		},
		{
			name: "no snapshot",
			in:   agentevent.Event{EventID: "e3", EventType: agentevent.EventTypeStateChange, EventTimestamp: ts},
			want: presence.Event{ID: "e3", Kind: rules.EventConnectAgentStateChanged, Time: ts, Origin: presence.OriginStream},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := agentstream.Convert(tc.in)
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(tc.want)
			if string(g) != string(w) {
				t.Errorf("Convert =\n%s\nwant\n%s", g, w)
			}
		})
	}
}

// record encodes a state change of agent id as Connect would put it on the stream.
func record(t testing.TB, id, eventID string, at time.Time, status string, seq int) events.KinesisEventRecord {
	t.Helper()
	ref := agentevent.AgentRef{Region: "us-east-1", AccountID: "012345678901", InstanceID: "aaaaaaaa-bbbb-cccc-dddd-111111111111", AgentID: id}
	prev := "Lunch"
	if status == "Lunch" {
		prev = "Available"
	}
	data, err := agentevent.Encode(agentevent.Event{
		AWSAccountID: ref.AccountID, AgentARN: ref.ARN(), EventID: eventID, EventTimestamp: at,
		EventType: agentevent.EventTypeStateChange, InstanceARN: agentevent.InstanceARN("", ref.Region, ref.AccountID, ref.InstanceID),
		Version:               agentevent.Version,
		CurrentAgentSnapshot:  &agentevent.AgentSnapshot{AgentStatus: &agentevent.AgentStatus{Name: status, StartTimestamp: at}, Configuration: &agentevent.Configuration{Username: id}},
		PreviousAgentSnapshot: &agentevent.AgentSnapshot{AgentStatus: &agentevent.AgentStatus{Name: prev, StartTimestamp: at.Add(-time.Minute)}, Configuration: &agentevent.Configuration{Username: id}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var r events.KinesisEventRecord
	r.EventSource, r.EventName = "aws:kinesis", "aws:kinesis:record"
	r.Kinesis.Data = data
	r.Kinesis.PartitionKey = ref.ARN()
	r.Kinesis.SequenceNumber = fmt.Sprintf("4965038351712486751204723649382714581047%016d", seq)
	return r
}
