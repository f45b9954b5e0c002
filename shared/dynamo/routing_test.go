package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/routing"
)

func TestRoutingEntryVersions(t *testing.T) {
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	const caseID = "5005e00000AbCdEAAV"
	if _, err := s.GetRouting(ctx, caseID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("GetRouting on empty table: %v", err)
	}
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	e := routing.Entry{CaseID: caseID, CaseNumber: "00001026", Reason: "created", AttemptKey: caseID + "/case.created/x", Queue: "Support_Tier_A"}
	e.Record(at, routing.StateRouting, "")
	v, err := s.PutRouting(ctx, e, 0)
	if err != nil || v != 1 {
		t.Fatalf("create: %d %v", v, err)
	}
	if _, err := s.PutRouting(ctx, e, 0); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second create: %v, want conflict", err)
	}
	e.ContactID = "contact-1"
	e.Record(at.Add(time.Second), routing.StateRouted, "")
	if v, err = s.PutRouting(ctx, e, 1); err != nil || v != 2 {
		t.Fatalf("update: %d %v", v, err)
	}
	if _, err := s.PutRouting(ctx, e, 1); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("stale update: %v, want conflict", err)
	}
	got, err := s.GetRouting(ctx, caseID)
	if err != nil || got.Version != 2 || got.Entry.State != routing.StateRouted || got.Entry.ContactID != "contact-1" || len(got.Entry.History) != 2 {
		t.Fatalf("GetRouting = %+v, %v", got, err)
	}

	if err := s.PutRoutingTask(ctx, "contact-1", caseID); err != nil {
		t.Fatal(err)
	}
	if c, err := s.RoutingTaskCase(ctx, "contact-1"); err != nil || c != caseID {
		t.Fatalf("RoutingTaskCase = %q, %v", c, err)
	}
	if _, err := s.RoutingTaskCase(ctx, "someone-elses-task"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown task: %v", err)
	}

	c, err := s.GetSweepCursor(ctx)
	if err != nil || c != (dynamo.SweepCursor{}) {
		t.Fatalf("empty cursor = %+v, %v", c, err)
	}
	want := dynamo.SweepCursor{CreatedDate: at, CaseID: caseID}
	if err := s.PutSweepCursor(ctx, want); err != nil {
		t.Fatal(err)
	}
	if c, err = s.GetSweepCursor(ctx); err != nil || !c.CreatedDate.Equal(at) || c.CaseID != caseID {
		t.Fatalf("cursor = %+v, %v", c, err)
	}
}
