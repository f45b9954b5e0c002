package calllogsync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/contactevent"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
	"github.com/omnibridge/omnibridge/shared/screenpop"
)

// BenchmarkCallLogging logs b.N simulated calls (half from Contacts already in the org, their
// numbers stored formatted) two ways, in the same run and against the same simulators:
//
//   - omnibridge: the contact-events dispatcher and this handler, every event through
//     DynamoDB: SOSL, one composite at connection, one at completion;
//   - per-operation: the same records written one REST request each, as the browser plugin
//     does: an exact-string Phone/MobilePhone query, the Contact, the Case, the pop, one
//     request per step record and the Task.
//
// sfsim adds the given latency to every Salesforce request, standing in for the round trip
// from Lambda to the org. Metrics: sf-calls/call (API calls counted by sfsim) and the wall time
// per call (ns/op).
func BenchmarkCallLogging(b *testing.B) {
	for _, lat := range []time.Duration{0, 10 * time.Millisecond} {
		b.Run(fmt.Sprintf("omnibridge/sf-latency=%s", lat), func(b *testing.B) {
			r := newRig(b, rigOptions{cfg: enabled})
			calls := placeCalls(b, r, b.N)
			addLatency(r.org, lat)
			r.org.Reset()
			r.dynamoCalls.Store(0)
			b.ResetTimer()
			for _, c := range calls {
				r.deliver(3, c.events...)
			}
			b.StopTimer()
			report(b, r, len(calls))
		})
		b.Run(fmt.Sprintf("per-operation/sf-latency=%s", lat), func(b *testing.B) {
			r := newRig(b, rigOptions{cfg: enabled})
			calls := placeCalls(b, r, b.N)
			states := make([]calllog.State, len(calls))
			bound := eventtime.New(time.Now(), 0)
			for i, c := range calls {
				for _, raw := range c.events {
					ev, err := contactevent.Decode(raw)
					must(b, err)
					states[i].Apply(ev, bound)
				}
				states[i].Sync.Number, states[i].Sync.AgentUserID = c.number, agentSFUser
			}
			addLatency(r.org, lat)
			r.org.Reset()
			r.dynamoCalls.Store(0)
			b.ResetTimer()
			for i := range calls {
				perOperation(b, r, &states[i])
			}
			b.StopTimer()
			report(b, r, len(calls))
		})
	}
}

func addLatency(org *sfsim.Org, lat time.Duration) {
	if lat > 0 {
		org.AddRule(sfsim.Rule{Kind: "", Latency: lat})
	}
}

func report(b *testing.B, r *rig, n int) {
	b.ReportMetric(float64(r.org.APIUsage())/float64(n), "sf-calls/call")
	b.ReportMetric(float64(r.dynamoCalls.Load())/float64(n), "dynamo-calls/call")
	if got := r.org.Count("Case"); got != n {
		b.Fatalf("%d Cases for %d calls", got, n)
	}
}

// perOperation writes one call's records one request at a time, as a browser plugin does.
func perOperation(b *testing.B, r *rig, st *calllog.State) {
	ctx := r.ctx
	soql, err := salesforce.Format("SELECT Id FROM Contact WHERE Phone = ? OR MobilePhone = ? LIMIT 1", st.Sync.Number, st.Sync.Number)
	must(b, err)
	for rec, err := range r.sf.Query(ctx, soql) {
		must(b, err)
		st.Sync.WhoID = rec["Id"].(string)
	}
	if st.Sync.WhoID == "" {
		id, err := r.sf.Create(ctx, "Contact", st.ContactFields(enabled, false))
		must(b, err)
		st.Sync.WhoID = id
	}
	st.Sync.WhoType = "Contact"
	caseID, err := r.sf.Create(ctx, "Case", st.CaseFields(enabled, st.Sync.WhoID, st.Sync.AgentUserID))
	must(b, err)
	pop, err := screenpop.Pop{ID: calllog.PopID(st.ContactID), UserID: agentSFUser, RecordID: caseID, ConnectContactID: st.ContactID,
		Reason: screenpop.ReasonCall, IssuedAt: time.Now()}.Fields()
	must(b, err)
	_, err = r.sf.PublishEvents(ctx, screenpop.Event, []map[string]any{pop})
	must(b, err)
	for _, step := range st.StepRecords() {
		f := st.LogFields(step, caseID)
		f[calllog.LogKeyField] = calllog.StepKey(st.ContactID, step.Step)
		_, err := r.sf.Create(ctx, calllog.LogObject, f)
		must(b, err)
	}
	_, err = r.sf.Create(ctx, "Task", st.TaskFields(caseID))
	must(b, err)
}
