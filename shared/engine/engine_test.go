package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/engine/enginetest"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
)

func TestConnectEventPublishesSalesforceCommandAtFlush(t *testing.T) {
	h := enginetest.New(t, enginetest.Options{})
	u := enginetest.JDoe
	b := h.Engine.NewBatch()
	res, err := b.ProcessConnect(ctx, connectIn(u, connectEv("ev-lunch", at(16, 2, 17), "Lunch")))
	if err != nil {
		t.Fatal(err)
	}
	want := presence.CommandID("ev-lunch", rules.Salesforce)
	if res.Outcome != presence.OutcomeApplied || len(res.Commands) != 1 || res.Commands[0].ID != want {
		t.Fatalf("result = %s %v, want applied with command %s", res.Outcome, commandIDs(res.Commands), want)
	}
	if c := res.Commands[0]; c.UserID != u.SalesforceID || c.Target.SalesforceStatusID != enginetest.StatusAway {
		t.Errorf("command = %+v, want Away for %s", c, u.SalesforceID)
	}
	// The command is stored before it is sent.
	if rec := agent(t, h, u.ConnectID); len(rec.Outbox) != 1 || rec.Outbox[0].Command.ID != want {
		t.Fatalf("outbox before Flush = %+v, want the command", rec.Outbox)
	}
	if n := h.Publisher.Calls(); n != 0 {
		t.Fatalf("publish calls before Flush = %d, want 0", n)
	}
	rep, err := b.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.PublishCalls != 1 || rep.Published != 1 || len(rep.Failed) != 0 {
		t.Errorf("flush report = %+v, want 1 call, 1 published", rep)
	}
	rec := agent(t, h, u.ConnectID)
	if len(rec.Outbox) != 0 {
		t.Errorf("outbox after Flush = %+v, want empty", rec.Outbox)
	}
	if len(rec.State.Pending) != 1 || rec.State.Pending[0].Command.ID != want {
		t.Errorf("pending = %+v, want the command awaiting acknowledgement", rec.State.Pending)
	}
	due, err := h.Table.DuePending(ctx, h.Clock.Now().Add(121*time.Second), 10)
	if err != nil || len(due) != 1 || due[0].CommandID != want {
		t.Errorf("pending index = %+v, %v; want the command", due, err)
	}
	e := auditByID(t, h, subjectOf(u), "ev-lunch")
	if e.Outcome != "applied" || e.Details["commands"] == nil || e.Details["trace"] == nil || !e.Time.Equal(at(16, 2, 17)) {
		t.Errorf("audit = %+v, want applied at the event time with commands and trace", e)
	}
	if ok, _ := h.Table.Seen(ctx, "presence/ev-lunch"); !ok {
		t.Error("event not marked processed")
	}
}

func TestReplayedEventHasNoSecondEffect(t *testing.T) {
	tests := []struct {
		name string
		// loseJournal makes the first run's journal write fail: the decision is stored, its
		// audit, pending-index entry and processed marker are not.
		loseJournal bool
		// crash ends the first run after the decision is stored, before Flush: nothing is
		// published, and the journal is left in the agent item.
		crash bool
	}{
		{name: "journal written"},
		{name: "journal write lost", loseJournal: true},
		{name: "crash before Flush", crash: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var journalCalls int
			h := enginetest.New(t, enginetest.Options{Wrap: func(s engine.Store) engine.Store {
				w := &enginetest.Store{Store: s}
				w.WriteJournalFunc = func(ctx context.Context, j dynamo.AgentJournal, r, ttl time.Duration) error {
					journalCalls++
					if tc.loseJournal && journalCalls == 1 {
						return unavailable("down")
					}
					return s.WriteJournal(ctx, j, r, ttl)
				}
				return w
			}})
			u := enginetest.JDoe
			in := connectIn(u, connectEv("ev-1", at(16, 2, 17), "Lunch"))
			cmd := presence.CommandID("ev-1", rules.Salesforce)
			if tc.crash {
				res, err := h.Engine.NewBatch().ProcessConnect(ctx, in) // and no Flush
				if err != nil || res.Outcome != presence.OutcomeApplied {
					t.Fatalf("first run: %s, %v", res.Outcome, err)
				}
				rec := agent(t, h, u.ConnectID)
				if !rec.Journal.HasKey("presence/ev-1") || len(rec.Journal.Audits) != 1 || len(rec.Journal.Pending) != 1 {
					t.Fatalf("journal after the crash = %+v, want the key, the audit and the pending entry", rec.Journal)
				}
				if ok, _ := h.Table.Seen(ctx, "presence/ev-1"); ok {
					t.Fatal("marker written before Flush")
				}
			}
			for i := range 3 {
				if tc.crash && i == 0 {
					continue
				}
				res, _ := processOne(t, h, in)
				want := presence.OutcomeApplied
				if i > 0 {
					want = presence.OutcomeDuplicate
				}
				if res.Outcome != want {
					t.Errorf("run %d: outcome %s, want %s", i+1, res.Outcome, want)
				}
			}
			if got := commandIDs(h.Publisher.Published()); !slices.Equal(got, []string{cmd}) || h.Publisher.Calls() != 1 {
				t.Errorf("published %v in %d calls, want one command in one call", got, h.Publisher.Calls())
			}
			if e := auditByID(t, h, subjectOf(u), "ev-1"); e.Outcome != "applied" {
				t.Errorf("decision audit overwritten: %s", e.Outcome)
			}
			if e := auditByID(t, h, subjectOf(u), "ev-1/duplicate"); e.Outcome != "duplicate" {
				t.Errorf("duplicate audit = %s", e.Outcome)
			}
			if n := len(audits(t, h, subjectOf(u))); n != 2 {
				t.Errorf("%d audit entries, want 2 (decision and one duplicate entry for both replays)", n)
			}
			if ok, _ := h.Table.Seen(ctx, "presence/ev-1"); !ok {
				t.Error("event not marked processed")
			}
			due, err := h.Table.DuePending(ctx, h.Clock.Now().Add(time.Hour), 10)
			if err != nil || len(due) != 1 || due[0].CommandID != cmd {
				t.Errorf("pending index = %+v, %v; want the command's entry", due, err)
			}
			if rec := agent(t, h, u.ConnectID); !rec.Journal.Empty() || len(rec.Outbox) != 0 {
				t.Errorf("agent item keeps journal %+v and outbox %+v, want both empty", rec.Journal, rec.Outbox)
			}
			if ids, _ := h.Table.OutboxAgents(ctx, 10); len(ids) != 0 {
				t.Errorf("agents still listed for the sweep: %v", ids)
			}
		})
	}
}

// TestLostJournalIsWrittenByTheSweep: a journal that could not be written leaves the agent
// listed for the outbox sweep, which loads the agent and writes it, although no event of the
// agent comes again.
func TestLostJournalIsWrittenByTheSweep(t *testing.T) {
	down := true
	h := enginetest.New(t, enginetest.Options{Wrap: func(s engine.Store) engine.Store {
		return &enginetest.Store{Store: s, WriteJournalFunc: func(ctx context.Context, j dynamo.AgentJournal, r, ttl time.Duration) error {
			if down {
				return unavailable("throttled")
			}
			return s.WriteJournal(ctx, j, r, ttl)
		}}
	}})
	u := enginetest.JDoe
	_, rep := processOne(t, h, connectIn(u, connectEv("ev-1", at(16, 2, 17), "Lunch")))
	if len(rep.Errors) != 1 || rep.Published != 1 {
		t.Fatalf("flush report %+v: want the command published and the journal error reported", rep)
	}
	if rec := agent(t, h, u.ConnectID); rec.Journal.Empty() || len(rec.Outbox) != 0 {
		t.Fatalf("agent item journal %+v, outbox %+v: want the journal kept and the outbox settled", rec.Journal, rec.Outbox)
	}
	if ids, _ := h.Table.OutboxAgents(ctx, 10); !slices.Equal(ids, []string{u.ConnectID}) {
		t.Fatalf("listed for the sweep: %v, want %s", ids, u.ConnectID)
	}
	down = false
	if _, err := h.Engine.SweepOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	if e := auditByID(t, h, subjectOf(u), "ev-1"); e.Outcome != "applied" {
		t.Errorf("decision audit = %s, want applied", e.Outcome)
	}
	if ok, _ := h.Table.Seen(ctx, "presence/ev-1"); !ok {
		t.Error("event not marked processed")
	}
	if due, _ := h.Table.DuePending(ctx, h.Clock.Now().Add(time.Hour), 10); len(due) != 1 {
		t.Errorf("pending index %+v, want the command's entry", due)
	}
	if rec := agent(t, h, u.ConnectID); !rec.Journal.Empty() {
		t.Errorf("journal %+v left after the sweep", rec.Journal)
	}
	if ids, _ := h.Table.OutboxAgents(ctx, 10); len(ids) != 0 {
		t.Errorf("still listed for the sweep: %v", ids)
	}
	if h.Publisher.Calls() != 1 {
		t.Errorf("%d publish calls, want 1: the sweep has nothing to resend", h.Publisher.Calls())
	}
}

func TestStaleEventIsAuditedAndSendsNothing(t *testing.T) {
	h := enginetest.New(t, enginetest.Options{})
	u := enginetest.JDoe
	processOne(t, h, connectIn(u, connectEv("newer", at(16, 2, 17), "Lunch")))
	res, _ := processOne(t, h, connectIn(u, connectEv("older", at(13, 58, 40), "Available")))
	if res.Outcome != presence.OutcomeStale || len(res.Commands) != 0 {
		t.Fatalf("older event: %s %v, want stale with no command", res.Outcome, commandIDs(res.Commands))
	}
	e := auditByID(t, h, subjectOf(u), "older")
	if e.Outcome != "stale" {
		t.Errorf("audit outcome %s, want stale", e.Outcome)
	}
	if rec := agent(t, h, u.ConnectID); rec.State.Connect.EventID != "newer" || rec.State.Connect.Status != "Lunch" {
		t.Errorf("stored Connect mirror = %+v, want the newer event kept", rec.State.Connect)
	}
	if n := len(h.Publisher.Published()); n != 1 {
		t.Errorf("published %d commands, want 1 (the newer event's)", n)
	}
}

func TestConflictReloadsAndDecidesAgain(t *testing.T) {
	u := enginetest.JDoe
	tests := []struct {
		name string
		// competitor is written by "another invocation" just before the engine's first write.
		competitor func(st *presence.AgentState)
		want       presence.Outcome
		check      func(t *testing.T, rec dynamo.AgentRecord)
	}{
		{
			name: "newer Connect event won",
			competitor: func(st *presence.AgentState) {
				st.Connect = presence.ConnectMirror{Status: "Training", State: "Training", EventID: "other", EventTime: at(16, 3, 0)}
			},
			want: presence.OutcomeStale,
			check: func(t *testing.T, rec dynamo.AgentRecord) {
				if rec.State.Connect.EventID != "other" {
					t.Errorf("Connect mirror = %+v, want the competitor's newer event", rec.State.Connect)
				}
			},
		},
		{
			name: "Salesforce event in between is kept",
			competitor: func(st *presence.AgentState) {
				st.Salesforce = presence.SalesforceMirror{StatusID: enginetest.StatusBusy, StatusName: "Busy", EventID: "sf-1", EventTime: at(16, 1, 0)}
			},
			want: presence.OutcomeApplied,
			check: func(t *testing.T, rec dynamo.AgentRecord) {
				if rec.State.Salesforce.EventID != "sf-1" || rec.State.Connect.EventID != "ev" {
					t.Errorf("state = %+v / %+v, want both events applied", rec.State.Salesforce, rec.State.Connect)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var puts int
			var table *dynamo.Store
			h := enginetest.New(t, enginetest.Options{Wrap: func(s engine.Store) engine.Store {
				return &enginetest.Store{Store: s, PutAgentFunc: func(ctx context.Context, rec dynamo.AgentRecord) (int64, error) {
					puts++
					if puts == 1 {
						other := dynamo.AgentRecord{ConnectUserID: rec.ConnectUserID, State: presence.AgentState{ConnectUserID: rec.ConnectUserID}}
						tc.competitor(&other.State)
						if _, err := table.PutAgent(ctx, other); err != nil {
							return 0, err
						}
					}
					return s.PutAgent(ctx, rec)
				}}
			}})
			table = h.Table
			res, _ := processOne(t, h, connectIn(u, connectEv("ev", at(16, 2, 17), "Lunch")))
			if res.Outcome != tc.want {
				t.Fatalf("outcome %s, want %s", res.Outcome, tc.want)
			}
			if e := auditByID(t, h, subjectOf(u), "ev"); e.Outcome != string(tc.want) {
				t.Errorf("audit %s, want %s (the retry's decision overwrites the first)", e.Outcome, tc.want)
			}
			tc.check(t, agent(t, h, u.ConnectID))
		})
	}
}

func TestIdentityLinks(t *testing.T) {
	fed := enginetest.User{ConnectID: "conn-fed", Username: "jdoe", SalesforceID: "005xx000002FedAAA", SalesforceUsername: "jdoe@corp.example.com", FederationID: "jdoe"}
	withField := func(f string) *config.Document {
		d := enginetest.Document()
		d.Settings.Identity.SalesforceField = f
		return &d
	}
	tests := []struct {
		name   string
		field  string
		user   enginetest.User
		noHint bool
		// wantSF is the linked Salesforce id, "" for unlinked.
		wantSF           string
		wantSFCalls      int
		wantConnectCalls int
	}{
		{name: "Username field", field: "Username", user: enginetest.JDoe, wantSF: enginetest.JDoe.SalesforceID, wantSFCalls: 1},
		{name: "FederationIdentifier field", field: "FederationIdentifier", user: fed, wantSF: fed.SalesforceID, wantSFCalls: 1},
		{name: "Username field misses a federated user", field: "Username", user: fed, wantSF: "", wantSFCalls: 1},
		{name: "no username in the event uses DescribeUser", field: "Username", user: enginetest.JDoe, noHint: true, wantSF: enginetest.JDoe.SalesforceID, wantSFCalls: 1, wantConnectCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := enginetest.New(t, enginetest.Options{Doc: withField(tc.field), Users: []enginetest.User{tc.user}})
			in := func(id string, sec int, status string) engine.ConnectEvent {
				ci := connectIn(tc.user, connectEv(id, at(16, 0, sec), status))
				if tc.noHint {
					ci.Username = ""
				}
				return ci
			}
			res, _ := processOne(t, h, in("e1", 1, "Lunch"))
			processOne(t, h, in("e2", 2, "Available"))
			// A new engine (a cold container) over the same table reads the DynamoDB link.
			cold := enginetest.New(t, enginetest.Options{Table: h.Table, Doc: withField(tc.field), Users: []enginetest.User{tc.user}})
			processOne(t, cold, in("e3", 3, "Lunch"))

			if got := agent(t, h, tc.user.ConnectID).State.SalesforceUserID; got != tc.wantSF {
				t.Errorf("linked Salesforce id = %q, want %q", got, tc.wantSF)
			}
			if tc.wantSF == "" && res.Outcome != presence.OutcomeUnlinked {
				t.Errorf("outcome %s, want unlinked", res.Outcome)
			}
			if n := h.SF.Calls() + cold.SF.Calls(); n != tc.wantSFCalls {
				t.Errorf("Salesforce lookups = %d, want %d (resolved once, then cached)", n, tc.wantSFCalls)
			}
			if n := h.Connect.Calls() + cold.Connect.Calls(); n != tc.wantConnectCalls {
				t.Errorf("Connect lookups = %d, want %d", n, tc.wantConnectCalls)
			}
		})
	}

	t.Run("negative link expires sooner", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{Users: []enginetest.User{}})
		u := enginetest.JDoe
		r1, _ := processOne(t, h, connectIn(u, connectEv("n1", at(16, 0, 1), "Lunch")))
		processOne(t, h, connectIn(u, connectEv("n2", at(16, 0, 2), "Available")))
		if r1.Outcome != presence.OutcomeUnlinked || h.SF.Calls() != 1 {
			t.Fatalf("outcome %s after %d lookups, want unlinked after 1", r1.Outcome, h.SF.Calls())
		}
		if e := auditByID(t, h, subjectOf(u), "n1"); e.Outcome != "unlinked" {
			t.Errorf("audit %s, want unlinked", e.Outcome)
		}
		h.Clock.Advance(16 * time.Minute)
		processOne(t, h, connectIn(u, connectEv("n3", at(16, 0, 3), "Lunch")))
		if n := h.SF.Calls(); n != 2 {
			t.Errorf("lookups after 16 min = %d, want 2 (negative cached for 15 min)", n)
		}
	})

	t.Run("transient failure is retried, not cached", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{})
		ok := h.SF.UserIDByFieldFunc
		h.SF.UserIDByFieldFunc = func(context.Context, string, string) (string, error) { return "", unavailable("SOQL down") }
		_, err := h.Engine.NewBatch().ProcessConnect(ctx, connectIn(enginetest.JDoe, connectEv("t1", at(16, 0, 1), "Lunch")))
		if !engine.Retryable(err) {
			t.Fatalf("error %v, want retryable", err)
		}
		h.SF.UserIDByFieldFunc = ok
		res, _ := processOne(t, h, connectIn(enginetest.JDoe, connectEv("t1", at(16, 0, 1), "Lunch")))
		if res.Outcome != presence.OutcomeApplied {
			t.Errorf("retry outcome %s, want applied", res.Outcome)
		}
	})

	t.Run("link from Salesforce serves Connect events", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{})
		u := enginetest.MSmith
		if _, err := h.Engine.ProcessSalesforce(ctx, u.SalesforceID, sfEv("s1", at(16, 0, 1), enginetest.StatusAway)); err != nil {
			t.Fatal(err)
		}
		calls := h.SF.Calls() + h.Connect.Calls()
		processOne(t, h, connectIn(u, connectEv("c1", at(16, 0, 2), "Lunch")))
		if n := h.SF.Calls() + h.Connect.Calls(); n != calls {
			t.Errorf("lookups grew from %d to %d; the link is cached both ways", calls, n)
		}
	})
}

func TestUnlinkedSalesforceUserIsAuditedNotStored(t *testing.T) {
	h := enginetest.New(t, enginetest.Options{})
	const stranger = "005xx00000STRANGE"
	res, err := h.Engine.ProcessSalesforce(ctx, stranger, sfEv("s1", at(16, 0, 1), enginetest.StatusAvailable))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != presence.OutcomeUnlinked || res.Subject != "user/"+stranger {
		t.Fatalf("result %+v, want unlinked under user/%s", res, stranger)
	}
	e := auditByID(t, h, "user/"+stranger, "s1")
	mustContain(t, "audit message", e.Message, "linked to no Connect user")
	if len(h.Status.Calls()) != 0 {
		t.Errorf("Connect was called: %v", h.Status.Calls())
	}
	again, _ := h.Engine.ProcessSalesforce(ctx, stranger, sfEv("s2", at(16, 0, 2), enginetest.StatusAway))
	if again.Outcome != presence.OutcomeUnlinked || h.SF.Calls() != 1 {
		t.Errorf("second event: %s after %d lookups, want unlinked with the negative link cached", again.Outcome, h.SF.Calls())
	}
}

func TestSalesforceEventSetsConnect(t *testing.T) {
	u := enginetest.JDoe
	tests := []struct {
		name     string
		setup    []engine.ConnectEvent
		wantNext bool
	}{
		{name: "idle agent: set now", setup: []engine.ConnectEvent{connectIn(u, connectEv("c0", at(15, 0, 0), "Lunch"))}},
		{name: "agent on a call: next status", setup: []engine.ConnectEvent{connectIn(u, connectEv("c0", at(15, 0, 0), "Lunch", onCall()))}, wantNext: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := enginetest.New(t, enginetest.Options{})
			for _, in := range tc.setup {
				processOne(t, h, in)
			}
			res, err := h.Engine.ProcessSalesforce(ctx, u.SalesforceID, sfEv("sf-avail", at(16, 0, 0), enginetest.StatusAvailable))
			if err != nil {
				t.Fatal(err)
			}
			want := enginetest.StatusCall{UserID: u.ConnectID, Status: "Available", Key: presence.CommandID("sf-avail", rules.Connect), Next: tc.wantNext}
			if got := h.Status.Applied(); len(got) != 1 || got[0] != want {
				t.Fatalf("SetStatus calls = %+v, want [%+v] (outcome %s)", got, want, res.Outcome)
			}
			if rec := agent(t, h, u.ConnectID); len(rec.Outbox) != 0 {
				t.Errorf("outbox = %+v, want empty after delivery", rec.Outbox)
			}
			if tc.wantNext {
				return
			}
			// Connect reports the change: an echo, not a new stimulus for Salesforce.
			before := len(h.Publisher.Published())
			echo, _ := processOne(t, h, connectIn(u, connectEv("c-echo", at(16, 0, 1), "Available")))
			if echo.Outcome != presence.OutcomeEcho || len(h.Publisher.Published()) != before {
				t.Errorf("echo event: %s, published %d→%d; want echo and nothing published", echo.Outcome, before, len(h.Publisher.Published()))
			}
		})
	}
}

func TestConnectDeliveryFailureIsRetriedFromTheOutbox(t *testing.T) {
	u := enginetest.JDoe
	t.Run("retryable: retried by the sweep, once", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{})
		h.Status.SetStatusFunc = func(context.Context, string, string, string, bool) error { return unavailable("throttled") }
		_, err := h.Engine.ProcessSalesforce(ctx, u.SalesforceID, sfEv("s1", at(16, 0, 0), enginetest.StatusAway))
		var de *engine.DeliveryError
		if !errors.As(err, &de) || !engine.Retryable(err) || de.EventID != "s1" {
			t.Fatalf("error %v, want a retryable DeliveryError for s1", err)
		}
		if rec := agent(t, h, u.ConnectID); len(rec.Outbox) != 1 || rec.Outbox[0].Attempts != 1 || rec.Outbox[0].LastError == "" {
			t.Fatalf("outbox = %+v, want the command with one failed attempt", rec.Outbox)
		}
		if listed, _ := h.Table.OutboxAgents(ctx, 10); !slices.Equal(listed, []string{u.ConnectID}) {
			t.Fatalf("outbox index = %v, want the agent", listed)
		}
		// The redelivered event is a duplicate: it decides nothing and sends nothing yet.
		if _, err := h.Engine.ProcessSalesforce(ctx, u.SalesforceID, sfEv("s1", at(16, 0, 0), enginetest.StatusAway)); err == nil {
			t.Fatal("redelivery while Connect is down succeeded")
		}
		h.Status.SetStatusFunc = nil
		rep, err := h.Engine.SweepOutbox(ctx)
		if err != nil || rep.OutboxAgents != 1 {
			t.Fatalf("SweepOutbox = %+v, %v", rep, err)
		}
		if got := h.Status.Applied(); len(got) != 1 || got[0].Status != "Break" || got[0].Key != presence.CommandID("s1", rules.Connect) {
			t.Fatalf("applied = %+v, want Break once", got)
		}
		if rec := agent(t, h, u.ConnectID); len(rec.Outbox) != 0 {
			t.Errorf("outbox = %+v, want empty", rec.Outbox)
		}
		if listed, _ := h.Table.OutboxAgents(ctx, 10); len(listed) != 0 {
			t.Errorf("outbox index = %v, want empty", listed)
		}
		h.Engine.ProcessSalesforce(ctx, u.SalesforceID, sfEv("s1", at(16, 0, 0), enginetest.StatusAway))
		if _, err := h.Engine.SweepOutbox(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(h.Status.Applied()); n != 1 {
			t.Errorf("applied %d times, want once", n)
		}
	})
	t.Run("final: dropped and audited", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{})
		h.Status.SetStatusFunc = func(context.Context, string, string, string, bool) error {
			return apperr.New(apperr.Invalid, "no agent status named Break")
		}
		if _, err := h.Engine.ProcessSalesforce(ctx, u.SalesforceID, sfEv("s1", at(16, 0, 0), enginetest.StatusAway)); err != nil {
			t.Fatalf("final delivery error surfaced: %v", err)
		}
		cmd := presence.CommandID("s1", rules.Connect)
		e := auditByID(t, h, subjectOf(u), cmd+"/undelivered")
		if e.Outcome != "not-applied" {
			t.Errorf("audit %s, want not-applied", e.Outcome)
		}
		mustContain(t, "audit", e.Message, "no agent status named Break")
		if rec := agent(t, h, u.ConnectID); len(rec.Outbox) != 0 {
			t.Errorf("outbox = %+v, want empty", rec.Outbox)
		}
	})
	t.Run("overtaken: not sent late", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{})
		h.Status.SetStatusFunc = func(context.Context, string, string, string, bool) error { return unavailable("down") }
		h.Engine.ProcessSalesforce(ctx, u.SalesforceID, sfEv("s1", at(16, 0, 0), enginetest.StatusAway))
		h.Status.SetStatusFunc = nil
		h.Clock.Advance(time.Minute) // past the 30 s echo window
		if _, err := h.Engine.SweepOutbox(ctx); err != nil {
			t.Fatal(err)
		}
		if got := h.Status.Applied(); len(got) != 0 {
			t.Errorf("applied %+v, want nothing sent after the echo window", got)
		}
		mustContain(t, "audit", auditByID(t, h, subjectOf(u), presence.CommandID("s1", rules.Connect)+"/undelivered").Message, "overtaken")
	})
}

func TestPublishFailure(t *testing.T) {
	u := enginetest.JDoe
	t.Run("retryable: stays in the outbox, sent once on redelivery", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{})
		h.Publisher.PublishFunc = func(context.Context, []presence.Command) ([]error, error) { return nil, unavailable("503") }
		in := connectIn(u, connectEv("ev", at(16, 2, 17), "Lunch"))
		_, rep := processOne(t, h, in)
		if len(rep.Failed) != 1 || rep.Failed[0].EventID != "ev" || !engine.Retryable(rep.Failed[0].Err) {
			t.Fatalf("report = %+v, want ev failed retryably", rep)
		}
		if rec := agent(t, h, u.ConnectID); len(rec.Outbox) != 1 {
			t.Fatalf("outbox = %+v, want the command kept", rec.Outbox)
		}
		h.Publisher.PublishFunc = nil
		res, rep := processOne(t, h, in)
		if res.Outcome != presence.OutcomeDuplicate || rep.Published != 1 {
			t.Fatalf("redelivery: %s, report %+v; want duplicate that publishes the outbox", res.Outcome, rep)
		}
		processOne(t, h, in)
		if got := commandIDs(h.Publisher.Published()); len(got) != 1 || got[0] != presence.CommandID("ev", rules.Salesforce) {
			t.Errorf("published %v, want the command once", got)
		}
	})
	t.Run("failed older command is superseded by a delivered newer one", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{})
		older := presence.CommandID("e1", rules.Salesforce)
		h.Publisher.PublishFunc = func(_ context.Context, cmds []presence.Command) ([]error, error) {
			errs := make([]error, len(cmds))
			for i, c := range cmds {
				if c.ID == older {
					errs[i] = unavailable("UNABLE_TO_LOCK_ROW")
				}
			}
			return errs, nil
		}
		b := h.Engine.NewBatch()
		for _, in := range []engine.ConnectEvent{
			connectIn(u, connectEv("e1", at(16, 0, 0), "Lunch")),
			connectIn(u, connectEv("e2", at(16, 0, 5), "Available")),
		} {
			if _, err := b.ProcessConnect(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := b.Flush(ctx)
		if err != nil || rep.PublishCalls != 1 || len(rep.Failed) != 0 {
			t.Fatalf("report = %+v, %v; want one call and no failure to retry", rep, err)
		}
		rec := agent(t, h, u.ConnectID)
		if len(rec.Outbox) != 0 || slices.ContainsFunc(rec.State.Pending, func(p presence.PendingCommand) bool { return p.Command.ID == older }) {
			t.Errorf("outbox %+v, pending %+v: the superseded command should be gone", rec.Outbox, rec.State.Pending)
		}
		mustContain(t, "audit", auditByID(t, h, subjectOf(u), older+"/undelivered").Message, "superseded")
	})
}

func TestSweepPending(t *testing.T) {
	h := enginetest.New(t, enginetest.Options{})
	quiet, acked := enginetest.JDoe, enginetest.MSmith
	processOne(t, h, connectIn(quiet, connectEv("q1", at(16, 2, 17), "Lunch")))
	processOne(t, h, connectIn(acked, connectEv("a1", at(16, 2, 18), "Lunch")))
	quietCmd, ackedCmd := presence.CommandID("q1", rules.Salesforce), presence.CommandID("a1", rules.Salesforce)
	res, err := h.Engine.Acknowledge(ctx, engine.Ack{EventID: "ack-1", SalesforceUserID: acked.SalesforceID, Ack: presence.Ack{CommandID: ackedCmd, Applied: true}})
	if err != nil || res.Outcome != presence.OutcomeAcknowledged {
		t.Fatalf("Acknowledge = %+v, %v", res, err)
	}

	tests := []struct {
		name        string
		advance     time.Duration
		wantExpired int
	}{
		{name: "before the timeout", advance: 60 * time.Second, wantExpired: 0},
		{name: "after the timeout", advance: 61 * time.Second, wantExpired: 1},
		{name: "again", advance: time.Second, wantExpired: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.Clock.Advance(tc.advance)
			rep, err := h.Engine.SweepPending(ctx, h.Clock.Now())
			if err != nil || rep.Expired != tc.wantExpired {
				t.Fatalf("SweepPending = %+v, %v; want %d expired", rep, err, tc.wantExpired)
			}
		})
	}
	e := auditByID(t, h, subjectOf(quiet), quietCmd+"/not-applied")
	if e.Outcome != "not-applied" {
		t.Errorf("outcome %s", e.Outcome)
	}
	mustContain(t, "message", e.Message, "not applied: console not open")
	for _, e := range audits(t, h, subjectOf(acked)) {
		if e.Outcome == "not-applied" {
			t.Errorf("acknowledged command audited as %s: %s", e.Outcome, e.Message)
		}
	}
	if rec := agent(t, h, quiet.ConnectID); len(rec.State.Pending) != 0 {
		t.Errorf("pending = %+v, want none", rec.State.Pending)
	}
	if due, _ := h.Table.DuePending(ctx, h.Clock.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("index still holds %+v", due)
	}
}

// configStore is a fake ConfigStore counting reads.
type configStore struct {
	version           int64
	doc               config.Document
	versionCalls, get int
	err               error
}

func (c *configStore) ConfigCurrentVersion(context.Context) (int64, error) {
	c.versionCalls++
	if c.err != nil {
		return 0, c.err
	}
	if c.version == 0 {
		return 0, apperr.New(apperr.NotFound, "none")
	}
	return c.version, nil
}

func (c *configStore) GetConfig(context.Context) (dynamo.VersionedConfig, error) {
	c.get++
	return dynamo.VersionedConfig{Document: c.doc, Version: c.version}, nil
}

func TestConfigSourceCompilesOncePerVersion(t *testing.T) {
	fs := &configStore{version: 1, doc: enginetest.Document()}
	src := engine.NewConfigSource(fs, 0)
	c1, err := src.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c1b, _ := src.Current(ctx)
	if c1 != c1b || src.Compiles() != 1 || fs.get != 1 || fs.versionCalls != 2 {
		t.Fatalf("same version: compiles %d, gets %d, version checks %d, same value %v; want 1, 1, 2, true",
			src.Compiles(), fs.get, fs.versionCalls, c1 == c1b)
	}
	fs.version = 2
	fs.doc.Settings.CommandAckTimeoutSeconds = 30
	c2, _ := src.Current(ctx)
	if c2 == c1 || c2.Version != 2 || c2.Settings.CommandAckTimeoutSeconds != 30 || src.Compiles() != 2 {
		t.Fatalf("new version: %+v after %d compiles", c2, src.Compiles())
	}
	fs.err = unavailable("dynamo down")
	if c, err := src.Current(ctx); err != nil || c != c2 {
		t.Errorf("store down: %v, %v; want the cached version", c, err)
	}

	t.Run("refresh interval", func(t *testing.T) {
		fs := &configStore{version: 1, doc: enginetest.Document()}
		clock := enginetest.NewClock(enginetest.Start)
		src := engine.NewConfigSource(fs, 10*time.Second).WithClock(clock.Now)
		for range 5 {
			src.Current(ctx)
			clock.Advance(time.Second)
		}
		if fs.versionCalls != 1 {
			t.Errorf("version checks within 10 s = %d, want 1", fs.versionCalls)
		}
		clock.Advance(10 * time.Second)
		fs.version = 2
		if c, _ := src.Current(ctx); c.Version != 2 {
			t.Errorf("after the interval: version %d, want 2", c.Version)
		}
	})
	t.Run("no document", func(t *testing.T) {
		src := engine.NewConfigSource(&configStore{}, 0)
		c, err := src.Current(ctx)
		if err != nil || c.Version != 0 || c.Settings.CommandAckTimeoutSeconds != config.Defaults().CommandAckTimeoutSeconds {
			t.Errorf("Current = %+v, %v; want the empty config with defaults", c, err)
		}
	})
	t.Run("real store", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{})
		c, err := h.Configs.Current(ctx)
		if err != nil || c.Version != 1 || c.Set == nil {
			t.Fatalf("Current = %+v, %v", c, err)
		}
		doc := enginetest.Document()
		doc.Settings.Identity.SalesforceField = "FederationIdentifier"
		if _, err := h.Table.PutConfig(ctx, doc, 1, "test"); err != nil {
			t.Fatal(err)
		}
		c2, _ := h.Configs.Current(ctx)
		h.Configs.Current(ctx)
		if c2.Version != 2 || c2.Settings.Identity.SalesforceField != "FederationIdentifier" || h.Configs.Compiles() != 2 {
			t.Errorf("after save: version %d, field %q, compiles %d", c2.Version, c2.Settings.Identity.SalesforceField, h.Configs.Compiles())
		}
	})
}

func TestSimulateHasNoSideEffects(t *testing.T) {
	h := enginetest.New(t, enginetest.Options{})
	u := enginetest.JDoe
	processOne(t, h, connectIn(u, connectEv("c1", at(16, 0, 0), "Available")))
	before := agent(t, h, u.ConnectID)
	nAudits, nCalls := len(audits(t, h, subjectOf(u))), h.Publisher.Calls()

	tests := []struct {
		name       string
		in         engine.SimulateInput
		wantSource string
		wantCmds   int
		wantUser   string
	}{
		{name: "stored state by Connect id", in: engine.SimulateInput{Event: connectEv("sim-1", at(16, 1, 0), "Lunch"), ConnectUserID: u.ConnectID},
			wantSource: "stored", wantCmds: 1, wantUser: u.SalesforceID},
		{name: "stored state by Salesforce id", in: engine.SimulateInput{Event: sfEv("sim-2", at(16, 1, 0), enginetest.StatusAway), SalesforceUserID: u.SalesforceID},
			wantSource: "stored", wantCmds: 1, wantUser: u.ConnectID},
		{name: "given state", in: engine.SimulateInput{Event: connectEv("sim-3", at(16, 1, 0), "Lunch"),
			State: &presence.AgentState{ConnectUserID: "x", SalesforceUserID: "005xx0000000SIMAAA"}}, wantSource: "given", wantCmds: 1, wantUser: "005xx0000000SIMAAA"},
		{name: "unknown agent", in: engine.SimulateInput{Event: connectEv("sim-4", at(16, 1, 0), "Lunch"), ConnectUserID: "nobody"},
			wantSource: "empty", wantCmds: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim, err := h.Engine.Simulate(ctx, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if sim.StateSource != tc.wantSource || len(sim.Decision.Commands) != tc.wantCmds || sim.ConfigVersion != 1 {
				t.Fatalf("simulation = %s, %d commands, version %d; want %s, %d, 1 (%s)",
					sim.StateSource, len(sim.Decision.Commands), sim.ConfigVersion, tc.wantSource, tc.wantCmds, sim.Decision.Audit.Explanation)
			}
			if tc.wantCmds > 0 && sim.Decision.Commands[0].UserID != tc.wantUser {
				t.Errorf("command user %s, want %s", sim.Decision.Commands[0].UserID, tc.wantUser)
			}
		})
	}
	after := agent(t, h, u.ConnectID)
	if after.Version != before.Version || len(audits(t, h, subjectOf(u))) != nAudits || h.Publisher.Calls() != nCalls || len(h.Status.Calls()) != 0 {
		t.Error("Simulate changed the store or called a system")
	}
	if ok, _ := h.Table.Seen(ctx, "presence/sim-1"); ok {
		t.Error("Simulate marked the event processed")
	}
}

func TestCommandEventFields(t *testing.T) {
	issued := time.Date(2024, 3, 11, 16, 2, 17, 260_000_000, time.UTC)
	tests := []struct {
		name       string
		target     rules.Target
		reason     string
		wantStatus string
		wantReason string
	}{
		{name: "status", target: rules.Target{Destination: rules.Salesforce, SalesforceStatusID: enginetest.StatusAway, SalesforceStatus: "Away"},
			reason: "rule lunch-to-away", wantStatus: enginetest.StatusAway, wantReason: "rule lunch-to-away"},
		{name: "offline", target: rules.Target{Destination: rules.Salesforce, SalesforceStatusID: "0", SalesforceStatus: "Offline", SalesforceOffline: true},
			reason: "mapping", wantStatus: engine.OfflineStatus, wantReason: "mapping"},
		{name: "long reason", target: rules.Target{Destination: rules.Salesforce, SalesforceStatusID: "x"},
			reason: strings.Repeat("é", 300), wantStatus: "x", wantReason: strings.Repeat("é", 254) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := engine.CommandEventFields(presence.Command{ID: "cmd-1", UserID: "005xx000001SwiUAAS", Target: tc.target, Reason: tc.reason, IssuedAt: issued})
			want := map[string]any{
				"UserId__c": "005xx000001SwiUAAS", "StatusId__c": tc.wantStatus, "CommandId__c": "cmd-1",
				"Reason__c": tc.wantReason, "IssuedAt__c": "2024-03-11T16:02:17.260Z",
			}
			for k, v := range want {
				if f[k] != v {
					t.Errorf("%s = %v, want %v", k, f[k], v)
				}
			}
			if len(f) != len(want) {
				t.Errorf("fields = %v", f)
			}
		})
	}
}

func TestRetryableCodes(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{apperr.New(apperr.Unavailable, "x"), true},
		{apperr.New(apperr.Internal, "x"), true},
		{errors.New("uncoded"), true},
		{apperr.New(apperr.Conflict, "x"), true},
		{apperr.New(apperr.Invalid, "x"), false},
		{apperr.New(apperr.NotFound, "x"), false},
		{&engine.DeliveryError{Err: apperr.New(apperr.Unavailable, "x")}, true},
		{&engine.DeliveryError{Err: apperr.New(apperr.Invalid, "x")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.err.Error(), func(t *testing.T) {
			if got := engine.Retryable(tc.err); got != tc.want {
				t.Errorf("Retryable = %v, want %v", got, tc.want)
			}
		})
	}
}

var _ = audit.KindAgent

// countingStore counts the per-event reads PrefetchAgents saves.
type countingStore struct {
	engine.Store
	gets, seens atomic.Int32
}

func (c *countingStore) GetAgent(ctx context.Context, id string) (dynamo.AgentRecord, error) {
	c.gets.Add(1)
	return c.Store.GetAgent(ctx, id)
}

func (c *countingStore) Seen(ctx context.Context, key string) (bool, error) {
	c.seens.Add(1)
	return c.Store.Seen(ctx, key)
}

func TestPrefetchAgents(t *testing.T) {
	var cs *countingStore
	h := enginetest.New(t, enginetest.Options{Wrap: func(s engine.Store) engine.Store { cs = &countingStore{Store: s}; return cs }})
	jd, ms := enginetest.JDoe, enginetest.MSmith
	processOne(t, h, connectIn(jd, connectEv("ev-1", at(16, 0, 0), "Lunch")))
	h.Clock.Advance(time.Second)

	t.Run("the events' own reads are not made", func(t *testing.T) {
		b := h.Engine.NewBatch()
		b.PrefetchAgents(ctx, []string{jd.ConnectID, ms.ConnectID}, []string{"ev-2", "ev-m1"})
		cs.gets.Store(0)
		cs.seens.Store(0)
		for _, in := range []engine.ConnectEvent{
			connectIn(jd, connectEv("ev-2", at(16, 1, 0), "Available")),
			connectIn(ms, connectEv("ev-m1", at(16, 1, 0), "Lunch")),
		} {
			if res, err := b.ProcessConnect(ctx, in); err != nil || res.Outcome != presence.OutcomeApplied {
				t.Errorf("%s: %s, %v; want applied", in.Event.ID, res.Outcome, err)
			}
		}
		if _, err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if g, s := cs.gets.Load(), cs.seens.Load(); g != 0 || s != 0 {
			t.Errorf("%d GetAgent and %d Seen calls after the prefetch, want none", g, s)
		}
		if rec := agent(t, h, jd.ConnectID); rec.State.Connect.EventID != "ev-2" || rec.Version != 4 {
			t.Errorf("jdoe stored %s at version %d, want ev-2 at 4 (2 writes per batch)", rec.State.Connect.EventID, rec.Version)
		}
	})
	t.Run("a replay is recognised from the prefetched marker", func(t *testing.T) {
		b := h.Engine.NewBatch()
		b.PrefetchAgents(ctx, []string{jd.ConnectID}, []string{"ev-2"})
		res, err := b.ProcessConnect(ctx, connectIn(jd, connectEv("ev-2", at(16, 1, 0), "Available")))
		if err != nil || res.Outcome != presence.OutcomeDuplicate {
			t.Errorf("replay: %s, %v; want duplicate", res.Outcome, err)
		}
		if _, err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an item written after the prefetch is reloaded and decided on", func(t *testing.T) {
		published := len(h.Publisher.Published())
		b := h.Engine.NewBatch()
		b.PrefetchAgents(ctx, []string{jd.ConnectID}, []string{"ev-4"})
		processOne(t, h, connectIn(jd, connectEv("ev-3", at(16, 2, 0), "Lunch"))) // another invocation
		res, err := b.ProcessConnect(ctx, connectIn(jd, connectEv("ev-4", at(16, 3, 0), "Available")))
		if err != nil || res.Outcome != presence.OutcomeApplied {
			t.Fatalf("ev-4: %s, %v; want applied", res.Outcome, err)
		}
		if _, err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		rec := agent(t, h, jd.ConnectID)
		if rec.State.Connect.EventID != "ev-4" || len(rec.Outbox) != 0 || !rec.Journal.Empty() {
			t.Errorf("stored %s, outbox %d, journal %+v; want ev-4 with both empty", rec.State.Connect.EventID, len(rec.Outbox), rec.Journal)
		}
		want := []string{presence.CommandID("ev-3", rules.Salesforce), presence.CommandID("ev-4", rules.Salesforce)}
		if got := commandIDs(h.Publisher.Published()[published:]); !slices.Equal(got, want) {
			t.Errorf("published %v, want %v", got, want)
		}
	})
}

// TestJournalStaysBounded: many events of one agent in one batch do not grow the agent
// item's journal without bound; past a few decisions it is written at once.
func TestJournalStaysBounded(t *testing.T) {
	h := enginetest.New(t, enginetest.Options{})
	u := enginetest.JDoe
	b := h.Engine.NewBatch()
	const n = 20
	most := 0
	for i := range n {
		status := []string{"Lunch", "Available"}[i%2]
		id := fmt.Sprintf("ev-%02d", i)
		// A write that landed but whose response was lost (the SDK retries it, and the retry's
		// condition fails) reloads, finds the event stored and reports a duplicate: the
		// effect is the same, which the audits below check.
		if res, err := b.ProcessConnect(ctx, connectIn(u, connectEv(id, at(16, 0, i), status))); err != nil ||
			(res.Outcome != presence.OutcomeApplied && res.Outcome != presence.OutcomeDuplicate) {
			t.Fatalf("%s: %s, %v", id, res.Outcome, err)
		}
		most = max(most, agent(t, h, u.ConnectID).Journal.Len())
	}
	if most > 27 {
		t.Errorf("the journal reached %d entries, want at most 27 (24 and one decision)", most)
	}
	if _, err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if e := auditByID(t, h, subjectOf(u), fmt.Sprintf("ev-%02d", i)); e.Outcome != "applied" {
			t.Errorf("ev-%02d audited %s", i, e.Outcome)
		}
	}
	if rec := agent(t, h, u.ConnectID); !rec.Journal.Empty() {
		t.Errorf("journal left after Flush: %d entries", rec.Journal.Len())
	}
}
