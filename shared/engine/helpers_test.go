package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/engine/enginetest"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
)

var ctx = context.Background()

// at is a time on the sample events' day.
func at(hh, mm, ss int) time.Time { return time.Date(2024, 3, 11, hh, mm, ss, 0, time.UTC) }

func connectEv(id string, t time.Time, status string, contacts ...presence.Contact) presence.Event {
	return presence.Event{ID: id, Kind: rules.EventConnectAgentStateChanged, Time: t, Origin: presence.OriginStream,
		Connect: presence.ConnectSnapshot{StatusName: status, Contacts: contacts}}
}

func sfEv(id string, t time.Time, statusID string) presence.Event {
	return presence.Event{ID: id, Kind: rules.EventSalesforceAgentStateChanged, Time: t, Origin: presence.OriginWebhook,
		Salesforce: presence.SalesforceData{StatusID: statusID}}
}

func onCall() presence.Contact {
	return presence.Contact{ID: "c-1", State: "CONNECTED", InitiationMethod: "INBOUND", Channel: "VOICE"}
}

// connectIn is a Connect event of u, with the username from the snapshot.
func connectIn(u enginetest.User, ev presence.Event) engine.ConnectEvent {
	return engine.ConnectEvent{ConnectUserID: u.ConnectID, Username: u.Username, Event: ev}
}

// processOne runs one Connect event in its own batch and flushes it.
func processOne(t *testing.T, h *enginetest.Harness, in engine.ConnectEvent) (engine.Result, engine.FlushReport) {
	t.Helper()
	b := h.Engine.NewBatch()
	res, err := b.ProcessConnect(ctx, in)
	if err != nil {
		t.Fatalf("ProcessConnect(%s): %v", in.Event.ID, err)
	}
	rep, err := b.Flush(ctx)
	if err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return res, rep
}

func audits(t *testing.T, h *enginetest.Harness, subject string) []audit.Entry {
	t.Helper()
	page, err := h.Table.QueryAudit(ctx, audit.Query{Subject: subject, Limit: audit.MaxLimit})
	if err != nil {
		t.Fatalf("QueryAudit(%s): %v", subject, err)
	}
	return page.Entries
}

// auditByID returns the entry with id, failing the test when there is none.
func auditByID(t *testing.T, h *enginetest.Harness, subject, id string) audit.Entry {
	t.Helper()
	for _, e := range audits(t, h, subject) {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("no audit entry %q under %s; have %v", id, subject, ids(audits(t, h, subject)))
	return audit.Entry{}
}

func ids(es []audit.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID + "=" + e.Outcome
	}
	return out
}

func agent(t *testing.T, h *enginetest.Harness, id string) dynamo.AgentRecord {
	t.Helper()
	rec, err := h.Table.GetAgent(ctx, id)
	if err != nil {
		t.Fatalf("GetAgent(%s): %v", id, err)
	}
	return rec
}

func subjectOf(u enginetest.User) string { return audit.Subject(audit.KindAgent, u.ConnectID) }

func commandIDs(cmds []presence.Command) []string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		out[i] = c.ID
	}
	return out
}

func mustContain(t *testing.T, what, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s = %q, want it to contain %q", what, s, sub)
	}
}

func unavailable(msg string) error { return apperr.New(apperr.Unavailable, "%s", msg) }
