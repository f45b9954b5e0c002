package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/presence"
)

func TestAgentJournal(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2024, 3, 11, 16, 2, 17, 260_000_000, time.UTC)
	clock := func() time.Time { return at }
	direct := dynamotest.NewStore(t).WithClock(clock)
	url, _ := dynamotest.Endpoint(t)
	api := &unprocessedAPI{Client: dynamo.NewClient(dynamolocal.Config(), url), hold: 5, holdCalls: 1}
	s := dynamo.New(api, direct.Table()).WithClock(clock)
	j := dynamo.AgentJournal{
		Keys:    []string{"presence/e1", "presence/e2"},
		Audits:  auditEntries("agent/a1", 30, at),
		Pending: []dynamo.PendingRef{{Deadline: at.Add(2 * time.Minute), ConnectUserID: "a1", CommandID: "c1"}},
	}

	t.Run("stored with the agent item and read back", func(t *testing.T) {
		rec := dynamo.AgentRecord{ConnectUserID: "a1", State: presence.AgentState{ConnectUserID: "a1"}, Journal: j}
		if _, err := s.PutAgent(ctx, rec); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetAgent(ctx, "a1")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Journal.Keys, j.Keys) || len(got.Journal.Audits) != 30 || got.Journal.Audits[29].ID != "e029" ||
			!got.Journal.Audits[29].Time.Equal(j.Audits[29].Time) || len(got.Journal.Pending) != 1 || !got.Journal.Pending[0].Deadline.Equal(j.Pending[0].Deadline) {
			t.Fatalf("journal round trip = %+v", got.Journal)
		}
		// Written without a journal, the item has none.
		got.Journal = dynamo.AgentJournal{}
		if _, err := s.PutAgent(ctx, got); err != nil {
			t.Fatal(err)
		}
		if again, _ := s.GetAgent(ctx, "a1"); !again.Journal.Empty() {
			t.Errorf("journal %+v after a write without one", again.Journal)
		}
	})
	t.Run("WriteJournal writes every item, resending unprocessed ones", func(t *testing.T) {
		if err := s.WriteJournal(ctx, j, 24*time.Hour, time.Hour); err != nil {
			t.Fatal(err)
		}
		// 33 items: two calls, then one more for the 5 held back.
		if api.calls != 3 {
			t.Errorf("%d BatchWriteItem calls (sizes %v), want 3", api.calls, api.sizes)
		}
		for _, k := range j.Keys {
			if ok, err := direct.Seen(ctx, k); err != nil || !ok {
				t.Errorf("marker %s: %v, %v", k, ok, err)
			}
		}
		if ok, _ := direct.Claim(ctx, "presence/e1", time.Hour); ok {
			t.Error("Claim succeeded on a key the journal marked")
		}
		if got := storedAudit(t, direct, "agent/a1"); len(got) != 30 {
			t.Errorf("%d audit entries, want 30", len(got))
		}
		due, err := direct.DuePending(ctx, at.Add(time.Hour), 10)
		if err != nil || len(due) != 1 || due[0].CommandID != "c1" {
			t.Errorf("pending index %+v, %v", due, err)
		}
		// Written twice, the items are the same.
		if err := s.WriteJournal(ctx, j, 24*time.Hour, time.Hour); err != nil {
			t.Fatal(err)
		}
		if got := storedAudit(t, direct, "agent/a1"); len(got) != 30 {
			t.Errorf("%d audit entries after writing twice, want 30", len(got))
		}
	})
	t.Run("bad entries are refused before anything is written", func(t *testing.T) {
		calls := api.calls
		for name, bad := range map[string]dynamo.AgentJournal{
			"empty key":             {Keys: []string{""}},
			"audit with no id":      {Audits: []audit.Entry{{Subject: "agent/a1"}}},
			"pending with no agent": {Pending: []dynamo.PendingRef{{Deadline: at, CommandID: "c"}}},
		} {
			if err := s.WriteJournal(ctx, bad, time.Hour, time.Hour); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		if api.calls != calls {
			t.Errorf("%d calls for refused journals", api.calls-calls)
		}
	})
}

func TestAgentJournalWithout(t *testing.T) {
	at := time.Date(2024, 3, 11, 16, 0, 0, 0, time.UTC)
	a1 := audit.Entry{Subject: "agent/a1", Time: at, ID: "e1"}
	a2 := audit.Entry{Subject: "agent/a1", Time: at, ID: "e2"}
	p1 := dynamo.PendingRef{Deadline: at, ConnectUserID: "a1", CommandID: "c1"}
	p2 := dynamo.PendingRef{Deadline: at, ConnectUserID: "a1", CommandID: "c2"}
	j := dynamo.AgentJournal{Keys: []string{"k1", "k2"}, Audits: []audit.Entry{a1, a2}, Pending: []dynamo.PendingRef{p1, p2}}
	tests := []struct {
		name string
		done dynamo.AgentJournal
		want int
	}{
		{name: "nothing written", want: 6},
		{name: "everything written", done: j, want: 0},
		{name: "part written", done: dynamo.AgentJournal{Keys: []string{"k2"}, Audits: []audit.Entry{a1}, Pending: []dynamo.PendingRef{p2}}, want: 3},
		{name: "an audit entry at another time is another item", done: dynamo.AgentJournal{Audits: []audit.Entry{{Subject: "agent/a1", Time: at.Add(time.Second), ID: "e1"}}}, want: 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := j.Without(tc.done); got.Len() != tc.want {
				t.Errorf("Without left %+v (%d), want %d entries", got, got.Len(), tc.want)
			}
		})
	}
	t.Run("Add does not share the receiver's slices", func(t *testing.T) {
		base := dynamo.AgentJournal{Keys: make([]string, 1, 4)}
		x := base.Add(dynamo.AgentJournal{Keys: []string{"x"}})
		y := base.Add(dynamo.AgentJournal{Keys: []string{"y"}})
		if x.Keys[1] != "x" || y.Keys[1] != "y" || len(base.Keys) != 1 {
			t.Errorf("Add shared storage: %v %v %v", base.Keys, x.Keys, y.Keys)
		}
	})
}

func TestGetAgentsAndSeenKeys(t *testing.T) {
	ctx := context.Background()
	s, spy, direct := spyStore(t)
	ids := make([]string, 130)
	for i := range ids {
		ids[i] = fmt.Sprintf("agent-%03d", i)
		if i%2 == 0 {
			rec := dynamo.AgentRecord{ConnectUserID: ids[i], State: presence.AgentState{ConnectUserID: ids[i], Connect: presence.ConnectMirror{EventID: "e-" + ids[i]}}}
			if _, err := direct.PutAgent(ctx, rec); err != nil {
				t.Fatal(err)
			}
			if _, err := direct.Claim(ctx, "presence/e-"+ids[i], time.Hour); err != nil {
				t.Fatal(err)
			}
		}
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = "presence/e-" + id
	}
	check := func(t *testing.T, s *dynamo.Store) {
		t.Helper()
		recs, err := s.GetAgents(ctx, append(slices.Clone(ids), ids[0]))
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 65 {
			t.Errorf("%d agents read, want the 65 stored", len(recs))
		}
		for i, id := range ids {
			rec, ok := recs[id]
			if ok != (i%2 == 0) || (ok && (rec.Version != 1 || rec.State.Connect.EventID != "e-"+id)) {
				t.Errorf("%s: %+v (found %v)", id, rec, ok)
			}
		}
		seen, err := s.SeenKeys(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			if v, ok := seen[k]; !ok || v != (i%2 == 0) {
				t.Errorf("%s: seen %v (answered %v), want %v", k, v, ok, i%2 == 0)
			}
		}
	}
	t.Run("batched, with unprocessed keys asked again", func(t *testing.T) {
		spy.batchGets.Store(0)
		spy.holdBack = func(call int32, n int) int {
			if call <= 2 {
				return n / 3
			}
			return 0
		}
		defer func() { spy.holdBack = nil }()
		check(t, s)
		// 130 keys: two calls each for agents and markers, and the held-back keys again.
		if n := spy.batchGets.Load(); n < 4 || n > 6 {
			t.Errorf("%d BatchGetItem calls, want 4 to 6", n)
		}
	})
	t.Run("item by item without BatchGetItem", func(t *testing.T) {
		url, _ := dynamotest.Endpoint(t)
		check(t, dynamo.New(apiOnly{dynamo.NewClient(dynamolocal.Config(), url)}, direct.Table()))
	})
	t.Run("an empty id is refused", func(t *testing.T) {
		if _, err := s.GetAgents(ctx, []string{"a", ""}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("GetAgents: %v, want invalid", err)
		}
		if _, err := s.SeenKeys(ctx, []string{""}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("SeenKeys: %v, want invalid", err)
		}
	})
}
