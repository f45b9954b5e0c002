package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
)

func TestAgentItemVersions(t *testing.T) {
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	if _, err := s.GetAgent(ctx, "a1"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("GetAgent on empty table: %v, want not_found", err)
	}
	at := time.Date(2024, 3, 11, 16, 2, 17, 260_000_000, time.UTC)
	cmd := presence.Command{ID: "c1", Destination: rules.Salesforce, UserID: "005xx000001SwiUAAS", IssuedAt: at,
		Target: rules.Target{Destination: rules.Salesforce, SalesforceStatusID: "0N5xx0000004D56", SalesforceStatus: "Away"}}
	rec := dynamo.AgentRecord{
		ConnectUserID: "a1",
		State: presence.AgentState{ConnectUserID: "a1", SalesforceUserID: "005xx000001SwiUAAS",
			Connect: presence.ConnectMirror{Status: "Lunch", EventID: "e1", EventTime: at},
			Pending: []presence.PendingCommand{{Command: cmd, Deadline: at.Add(2 * time.Minute)}}},
		Outbox: []dynamo.OutboxEntry{{Command: cmd, Attempts: 1, LastError: "throttled", LastAttemptAt: at}},
	}
	v1, err := s.PutAgent(ctx, rec)
	if err != nil || v1 != 1 {
		t.Fatalf("create: %d, %v", v1, err)
	}
	got, err := s.GetAgent(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || !got.State.Connect.EventTime.Equal(at) || len(got.Outbox) != 1 || got.Outbox[0].Command.Target != cmd.Target ||
		got.Outbox[0].LastError != "throttled" || len(got.State.Pending) != 1 {
		t.Fatalf("round trip = %+v", got)
	}
	tests := []struct {
		name     string
		expected int64
		wantCode apperr.Code
	}{
		{name: "create again", expected: 0, wantCode: apperr.Conflict},
		{name: "stale version", expected: 5, wantCode: apperr.Conflict},
		{name: "current version", expected: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := got
			r.Version = tc.expected
			_, err := s.PutAgent(ctx, r)
			if apperr.CodeOf(err) != tc.wantCode {
				t.Errorf("PutAgent at version %d: %v, want code %q", tc.expected, err, tc.wantCode)
			}
		})
	}

	t.Run("concurrent writers: one wins", func(t *testing.T) {
		cur, _ := s.GetAgent(ctx, "a1")
		oneWins(t, 8, func(int) error {
			_, err := s.PutAgent(ctx, cur)
			return err
		})
	})
}

func TestLinks(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2024, 3, 11, 16, 0, 0, 0, time.UTC)
	clock := now
	s := dynamotest.NewStore(t).WithClock(func() time.Time { return clock })
	pos := dynamo.Link{From: dynamo.LinkFromConnect, Field: "Username", ConnectUserID: "c1", SalesforceUserID: "005A", Username: "jdoe",
		Found: true, ResolvedAt: now, Expires: now.Add(24 * time.Hour)}
	neg := dynamo.Link{From: dynamo.LinkFromSalesforce, Field: "Username", SalesforceUserID: "005B", Reason: "no Connect user",
		ResolvedAt: now, Expires: now.Add(15 * time.Minute)}
	for _, l := range []dynamo.Link{pos, neg} {
		if err := s.PutLink(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		side      dynamo.LinkSide
		id, field string
		after     time.Duration
		wantFound bool
		wantErr   apperr.Code
	}{
		{name: "positive from Connect", side: dynamo.LinkFromConnect, id: "c1", field: "Username", wantFound: true},
		{name: "positive from Salesforce", side: dynamo.LinkFromSalesforce, id: "005A", field: "Username", wantFound: true},
		{name: "other field misses", side: dynamo.LinkFromConnect, id: "c1", field: "FederationIdentifier", wantErr: apperr.NotFound},
		{name: "negative", side: dynamo.LinkFromSalesforce, id: "005B", field: "Username"},
		{name: "negative stored one side only", side: dynamo.LinkFromConnect, id: "", field: "Username", wantErr: apperr.Invalid},
		{name: "negative expired", side: dynamo.LinkFromSalesforce, id: "005B", field: "Username", after: 16 * time.Minute, wantErr: apperr.NotFound},
		{name: "positive still live", side: dynamo.LinkFromConnect, id: "c1", field: "Username", after: 16 * time.Minute, wantFound: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock = now.Add(tc.after)
			l, err := s.GetLink(ctx, tc.side, tc.id, tc.field)
			if apperr.CodeOf(err) != tc.wantErr {
				t.Fatalf("GetLink: %v, want code %q", err, tc.wantErr)
			}
			if err == nil && (l.Found != tc.wantFound || !l.Expires.After(now)) {
				t.Errorf("link = %+v", l)
			}
		})
	}
	if err := s.PutLink(ctx, dynamo.Link{Field: "Username", Expires: now}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("PutLink without ids: %v, want invalid", err)
	}
}

func TestPendingAndOutboxIndexes(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2024, 3, 11, 16, 0, 0, 0, time.UTC)
	s := dynamotest.NewStore(t).WithClock(func() time.Time { return base })
	refs := []dynamo.PendingRef{
		{Deadline: base.Add(2 * time.Minute), ConnectUserID: "b", CommandID: "c2"},
		{Deadline: base.Add(time.Minute), ConnectUserID: "a", CommandID: "c1"},
		{Deadline: base.Add(10 * time.Minute), ConnectUserID: "a", CommandID: "c3"},
	}
	for _, r := range refs {
		if err := s.PutPending(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	due, err := s.DuePending(ctx, base.Add(2*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].CommandID != "c1" || due[1].CommandID != "c2" || !due[0].Deadline.Equal(base.Add(time.Minute)) {
		t.Fatalf("due = %+v, want c1 then c2", due)
	}
	if err := s.DeletePending(ctx, due[0]); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DuePending(ctx, base.Add(time.Hour), 10); len(due) != 2 {
		t.Errorf("after delete: %+v", due)
	}
	if due, _ := s.DuePending(ctx, base.Add(time.Hour), 1); len(due) != 1 {
		t.Errorf("limit 1: %+v", due)
	}
	if err := s.PutPending(ctx, dynamo.PendingRef{Deadline: base, ConnectUserID: "a#b", CommandID: "x"}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("agent id with '#': %v, want invalid", err)
	}

	for _, id := range []string{"a", "b"} {
		if err := s.MarkOutbox(ctx, id, base); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ClearOutbox(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.OutboxAgents(ctx, 10); err != nil || len(ids) != 1 || ids[0] != "b" {
		t.Errorf("OutboxAgents = %v, %v; want [b]", ids, err)
	}
}

func TestSeenAndConfigVersion(t *testing.T) {
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	if ok, err := s.Seen(ctx, "k"); err != nil || ok {
		t.Fatalf("Seen before Claim = %v, %v", ok, err)
	}
	if _, err := s.Claim(ctx, "k", time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Seen(ctx, "k"); err != nil || !ok {
		t.Errorf("Seen after Claim = %v, %v", ok, err)
	}
	later := s.WithClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
	if ok, _ := later.Seen(ctx, "k"); ok {
		t.Error("expired claim still seen")
	}
	if _, err := s.ConfigCurrentVersion(ctx); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("ConfigCurrentVersion on empty table: %v", err)
	}
	if _, err := s.PutConfig(ctx, doc("Available"), 0, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutConfig(ctx, doc("Away"), 1, "t"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.ConfigCurrentVersion(ctx); err != nil || v != 2 {
		t.Errorf("ConfigCurrentVersion = %d, %v; want 2", v, err)
	}
}
