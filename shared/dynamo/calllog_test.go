package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/eventtime"
)

func TestCallLogItem(t *testing.T) {
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	const contact = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	b := eventtime.New(t0.Add(time.Hour), 0)
	if _, err := s.GetCallLog(ctx, contact); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("GetCallLog on empty table: %v, want not_found", err)
	}
	st := calllog.State{ContactID: contact, LastEventAt: t0}
	st.ConnectedAt = calllog.Field[time.Time]{V: t0, At: t0}
	st.HoldSeconds = calllog.Field[int]{V: 35, At: t0}
	st.Sync.CaseID, st.Sync.Steps = "500xx000001AbCdAAK", map[string]calllog.StepRecord{"queued": {Step: calllog.StepQueued, StartedAt: &t0}}

	tests := []struct {
		name     string
		state    func() calllog.State
		expected int64
		want     apperr.Code // "" for success
	}{
		{"first write", func() calllog.State { return st }, 0, ""},
		{"second first write conflicts", func() calllog.State { return st }, 0, apperr.Conflict},
		{"stale version conflicts", func() calllog.State { return st }, 5, apperr.Conflict},
		{"a state merged from older events conflicts", func() calllog.State {
			o := st
			o.LastEventAt = t0.Add(-time.Minute)
			return o
		}, 1, apperr.Conflict},
		{"same event time at the next version", func() calllog.State { return st }, 1, ""},
		{"newer event time", func() calllog.State {
			n := st
			n.LastEventAt = t0.Add(time.Minute)
			return n
		}, 2, ""},
		{"no contact id is invalid", func() calllog.State { return calllog.State{} }, 0, apperr.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := s.PutCallLog(ctx, tc.state(), tc.expected, b)
			if tc.want == "" {
				if err != nil || v != tc.expected+1 {
					t.Fatalf("PutCallLog = %d, %v; want version %d", v, err, tc.expected+1)
				}
				return
			}
			if !apperr.Is(err, tc.want) {
				t.Fatalf("PutCallLog = %d, %v; want %s", v, err, tc.want)
			}
		})
	}
	got, err := s.GetCallLog(ctx, contact)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 3 || got.State.Sync.CaseID != st.Sync.CaseID || !got.State.ConnectedAt.V.Equal(t0) ||
		got.State.HoldSeconds.V != 35 || !got.State.Sync.Steps["queued"].StartedAt.Equal(t0) {
		t.Fatalf("GetCallLog = %+v", got)
	}
	t.Run("expires after the retention", func(t *testing.T) {
		later := s.WithClock(func() time.Time { return time.Now().Add(15 * 24 * time.Hour) })
		if _, err := later.GetCallLog(ctx, contact); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("GetCallLog after retention: %v, want not_found", err)
		}
		if v, err := later.PutCallLog(ctx, st, 0, eventtime.New(time.Now().Add(15*24*time.Hour), 0)); err != nil || v != 1 {
			t.Fatalf("PutCallLog over an expired item = %d, %v; want version 1", v, err)
		}
	})
}

func TestCallChainItem(t *testing.T) {
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	const root = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
	empty, err := s.GetCallChain(ctx, root)
	if err != nil || empty.Version != 0 || empty.Root != root || empty.CaseID != "" {
		t.Fatalf("GetCallChain on empty table = %+v, %v", empty, err)
	}
	claim := empty
	claim.Owner, claim.OwnerUntil = root, time.Now().Add(time.Minute).UnixMilli()
	claimed, err := s.PutCallChain(ctx, claim)
	if err != nil || claimed.Version != 1 {
		t.Fatalf("claim = %+v, %v", claimed, err)
	}
	tests := []struct {
		name  string
		chain func() dynamo.CallChain
		want  apperr.Code
	}{
		{"a second claim from version 0 conflicts", func() dynamo.CallChain {
			c := empty
			c.Owner = "8b2c4d6e-0f1a-4b3c-9d5e-7f8a9b0c1d2e"
			return c
		}, apperr.Conflict},
		{"a stale version conflicts", func() dynamo.CallChain {
			c := claimed
			c.Version = 7
			return c
		}, apperr.Conflict},
		{"no root is invalid", func() dynamo.CallChain { return dynamo.CallChain{} }, apperr.Invalid},
		{"the owner records the Case", func() dynamo.CallChain {
			c := claimed
			c.CaseID, c.WhoID, c.WhoType, c.Number, c.Owner, c.OwnerUntil = "500xx000001AbCdAAK", "003xx000004TmiQAAS", "Contact", "+14155551212", "", 0
			return c
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.PutCallChain(ctx, tc.chain())
			if tc.want == "" && err != nil || tc.want != "" && !apperr.Is(err, tc.want) {
				t.Fatalf("PutCallChain = %v, want %q", err, tc.want)
			}
		})
	}
	got, err := s.GetCallChain(ctx, root)
	if err != nil || got.Version != 2 || got.CaseID != "500xx000001AbCdAAK" || got.Owner != "" || got.Number != "+14155551212" {
		t.Fatalf("GetCallChain = %+v, %v", got, err)
	}
}
