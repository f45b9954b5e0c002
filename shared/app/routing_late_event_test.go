package app

import (
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/contactevent"
	"github.com/omnibridge/omnibridge/shared/routing"
	"github.com/omnibridge/omnibridge/shared/routingsync"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// TestCaseLateEventOfAnEarlierTask delivers a contact event of a case's earlier task while a
// new attempt for the case is claimed but has no task yet (its StartTaskContact failed with a
// retryable error, or has not answered): the event names a task the case has had before, so
// it changes nothing, and the sweep then finishes the claimed attempt.
func TestCaseLateEventOfAnEarlierTask(t *testing.T) {
	r := newRoutingRig(t, routingRigOptions{})
	caseID, _ := r.newCase(r.queueA, "Refund not received", "Billing")
	if got := r.process(r.event(sfevents.CaseCreated, caseID, nil)); got != routingsync.OutcomeRouted {
		t.Fatalf("outcome %q", got)
	}
	first := r.cn.Tasks()[0]
	if err := r.cn.Login(rrAgent, "Available"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []func(string) error{func(id string) error { return r.cn.RouteContact(id, rrAgent) }, r.cn.Accept, r.cn.Connect} {
		if err := step(first.ID); err != nil {
			t.Fatal(err)
		}
	}
	r.clock.Set(routingT0.Add(10 * time.Minute))
	if err := r.cn.End(first.ID); err != nil {
		t.Fatal(err)
	}
	// EventBridge delivers the task's DISCONNECTED and holds its CONNECTED_TO_AGENT back.
	var late []byte
	for _, e := range r.cn.ContactEventsFor(first.ID) {
		switch e.Event.Detail.EventType {
		case contactevent.ConnectedToAgent:
			late = e.Data
		case contactevent.Disconnected:
			if _, err := r.dispatch.Dispatch(r.ctx, e.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if e := r.entry(caseID); e.State != routing.StateCompleted {
		t.Fatalf("entry after DISCONNECTED = %+v", e)
	}

	// The customer replies; the attempt is claimed but its task is not created yet.
	rec, err := r.store.GetRouting(r.ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	claimed := rec.Entry
	claimed.Reason, claimed.AttemptKey, claimed.ContactID = "customerEmail", caseID+"/case.email_added/02s5e00000Em001AAB", ""
	claimed.Record(r.clock.Now(), routing.StateRouting, "a customer email")
	if _, err := r.store.PutRouting(r.ctx, claimed, rec.Version); err != nil {
		t.Fatal(err)
	}
	pops := len(popsOf(r.org))

	if _, err := r.dispatch.Dispatch(r.ctx, late); err != nil {
		t.Fatal(err)
	}
	if e := r.entry(caseID); e.State != routing.StateRouting || e.ContactID != "" {
		t.Fatalf("the earlier task's late CONNECTED_TO_AGENT took over the claimed attempt: entry %+v", e)
	}
	if n := len(popsOf(r.org)); n != pops {
		t.Fatalf("%d screen pops for a task that ended, want none", n-pops)
	}
	if rep := r.runSweep(); rep.Routed != 1 {
		t.Fatalf("sweep after the late event: %+v", rep)
	}
	tasks := r.cn.Tasks()
	if e := r.entry(caseID); len(tasks) != 2 || e.State != routing.StateRouted || e.ContactID != tasks[1].ID {
		t.Fatalf("entry %+v, %d tasks", e, len(tasks))
	}
}
