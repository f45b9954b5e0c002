package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/engine/enginetest"
	"github.com/omnibridge/omnibridge/shared/presence"
)

// prefetchAgents covers every way a link from Connect ends: found with the event's username,
// found through the Connect lookup, a Connect user Connect does not know, a username no
// Salesforce user has, and a username two Salesforce users share.
var prefetchAgents = []struct {
	name   string
	in     engine.ConnectEvent
	linked bool
}{
	{"username from the event", engine.ConnectEvent{ConnectUserID: enginetest.JDoe.ConnectID, Username: enginetest.JDoe.Username}, true},
	{"username from Connect", engine.ConnectEvent{ConnectUserID: enginetest.MSmith.ConnectID}, true},
	{"unknown to Connect", engine.ConnectEvent{ConnectUserID: "conn-ghost"}, false},
	{"no Salesforce user", engine.ConnectEvent{ConnectUserID: "conn-nobody", Username: "nobody"}, false},
	{"two Salesforce users", engine.ConnectEvent{ConnectUserID: "conn-twin", Username: "twin"}, false},
}

// prefetchHarness is a harness whose Salesforce directory has two active users with username
// "twin", which the lookup reports as a final miss.
func prefetchHarness(t *testing.T) *enginetest.Harness {
	h := enginetest.New(t, enginetest.Options{})
	find := h.SF.UserIDByFieldFunc
	h.SF.UserIDByFieldFunc = func(ctx context.Context, field, value string) (string, error) {
		if value == "twin" {
			return "", apperr.New(apperr.Invalid, "more than one active Salesforce user has %s %q", field, value)
		}
		return find(ctx, field, value)
	}
	return h
}

// processAll runs one event per agent in one batch, with or without the prefetch.
func processAll(t *testing.T, h *enginetest.Harness, prefetch bool) map[string]presence.Outcome {
	t.Helper()
	b := h.Engine.NewBatch()
	var ins []engine.ConnectEvent
	for i, a := range prefetchAgents {
		in := a.in
		in.Event = connectEv(fmt.Sprintf("ev-%d", i), at(16, 0, 1), "Lunch")
		ins = append(ins, in)
	}
	if prefetch {
		b.PrefetchLinks(ctx, ins)
	}
	out := map[string]presence.Outcome{}
	for _, in := range ins {
		res, err := b.ProcessConnect(ctx, in)
		if err != nil {
			t.Fatalf("ProcessConnect(%s): %v", in.ConnectUserID, err)
		}
		out[in.ConnectUserID] = res.Outcome
	}
	if _, err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return out
}

func storedLink(t *testing.T, h *enginetest.Harness, connectUserID string) dynamo.Link {
	t.Helper()
	l, err := h.Table.GetLink(ctx, dynamo.LinkFromConnect, connectUserID, "Username")
	if err != nil {
		t.Fatalf("GetLink(%s): %v", connectUserID, err)
	}
	return l
}

// TestPrefetchLinksResolvesAsEachEventWould runs the same batch twice, one event per agent:
// once resolving each link on its own (the single path), once after PrefetchLinks. Every link,
// negative ones with their reasons included, and every outcome must be the same; only the
// number of lookups differs.
func TestPrefetchLinksResolvesAsEachEventWould(t *testing.T) {
	single, batched := prefetchHarness(t), prefetchHarness(t)
	wantOutcomes := processAll(t, single, false)
	gotOutcomes := processAll(t, batched, true)
	for _, a := range prefetchAgents {
		t.Run(a.name, func(t *testing.T) {
			id := a.in.ConnectUserID
			want, got := storedLink(t, single, id), storedLink(t, batched, id)
			if got != want {
				t.Errorf("link\n got %+v\nwant %+v", got, want)
			}
			if got.Found != a.linked {
				t.Errorf("found %v, want %v (%s)", got.Found, a.linked, got.Reason)
			}
			if gotOutcomes[id] != wantOutcomes[id] {
				t.Errorf("outcome %s, want %s", gotOutcomes[id], wantOutcomes[id])
			}
		})
	}
	t.Run("calls", func(t *testing.T) {
		// Single: a Salesforce query for each agent whose username is known (all but the ghost),
		// a DescribeUser for each agent without one. Batched: one of each.
		if sf, cn := single.SF.Calls(), single.Connect.Calls(); sf != 4 || cn != 2 {
			t.Errorf("single path: %d Salesforce, %d Connect lookups; want 4, 2", sf, cn)
		}
		if sf, cn := batched.SF.Calls(), batched.Connect.Calls(); sf != 1 || cn != 1 {
			t.Errorf("prefetch: %d Salesforce, %d Connect lookups; want 1, 1", sf, cn)
		}
	})
}

func TestPrefetchLinks(t *testing.T) {
	t.Run("one query per 200 unseen agents, none for cached ones", func(t *testing.T) {
		var users []enginetest.User
		var ins []engine.ConnectEvent
		for i := range 450 {
			u := enginetest.User{ConnectID: fmt.Sprintf("agent-%03d", i), Username: fmt.Sprintf("agent-%03d", i), SalesforceID: fmt.Sprintf("005xx%010dAAA", i)}
			users = append(users, u)
			ins = append(ins, engine.ConnectEvent{ConnectUserID: u.ConnectID, Username: u.Username})
		}
		h := enginetest.New(t, enginetest.Options{Users: users})
		h.Engine.NewBatch().PrefetchLinks(ctx, ins)
		if n := h.SF.Calls(); n != 3 {
			t.Errorf("%d Salesforce queries for 450 unseen agents, want 3", n)
		}
		h.Engine.NewBatch().PrefetchLinks(ctx, ins)
		processOne(t, h, connectIn(users[449], connectEv("e1", at(16, 0, 1), "Lunch")))
		if n := h.SF.Calls(); n != 3 {
			t.Errorf("%d Salesforce queries after a second prefetch and an event, want still 3", n)
		}
		if l := storedLink(t, h, users[449].ConnectID); !l.Found || l.SalesforceUserID != users[449].SalesforceID {
			t.Errorf("link %+v", l)
		}
	})

	t.Run("a failure a retry may fix is left to the event", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{})
		ok := h.SF.UserIDByFieldFunc
		h.SF.UserIDByFieldFunc = func(context.Context, string, string) (string, error) { return "", unavailable("SOQL down") }
		b := h.Engine.NewBatch()
		in := connectIn(enginetest.JDoe, connectEv("t1", at(16, 0, 1), "Lunch"))
		b.PrefetchLinks(ctx, []engine.ConnectEvent{in})
		if _, err := h.Table.GetLink(ctx, dynamo.LinkFromConnect, in.ConnectUserID, "Username"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a failed lookup was cached: %v", err)
		}
		if _, err := b.ProcessConnect(ctx, in); !engine.Retryable(err) {
			t.Fatalf("event error %v, want retryable", err)
		}
		h.SF.UserIDByFieldFunc = ok
		if res, _ := processOne(t, h, in); res.Outcome != presence.OutcomeApplied {
			t.Errorf("retry outcome %s, want applied", res.Outcome)
		}
	})

	t.Run("a Connect lookup failure leaves those agents to their events", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{})
		h.Connect.UsernamesByUserIDsFunc = func(context.Context, []string) ([]engine.UserLookup, error) {
			return nil, unavailable("Connect down")
		}
		in := engine.ConnectEvent{ConnectUserID: enginetest.MSmith.ConnectID, Event: connectEv("m1", at(16, 0, 1), "Lunch")}
		b := h.Engine.NewBatch()
		b.PrefetchLinks(ctx, []engine.ConnectEvent{in, connectIn(enginetest.JDoe, connectEv("j1", at(16, 0, 1), "Lunch"))})
		if n := h.SF.Calls(); n != 1 {
			t.Errorf("%d Salesforce queries, want 1 (for the agent whose username is known)", n)
		}
		// The single lookup (DescribeUser) still works and links the agent.
		if res, err := b.ProcessConnect(ctx, in); err != nil || res.Outcome != presence.OutcomeApplied {
			t.Errorf("outcome %s, %v; want applied", res.Outcome, err)
		}
	})

	t.Run("the negative link expires as the single path's does", func(t *testing.T) {
		h := enginetest.New(t, enginetest.Options{Users: []enginetest.User{}})
		h.Engine.NewBatch().PrefetchLinks(ctx, []engine.ConnectEvent{{ConnectUserID: "conn-x", Username: "x"}})
		l := storedLink(t, h, "conn-x")
		if l.Found || l.Expires.Sub(l.ResolvedAt) != 15*time.Minute {
			t.Errorf("link %+v, want negative for 15 minutes", l)
		}
	})
}
