package app

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

// agentEventBatch is one Kinesis batch of a state change to Available for each user. Without
// withUsername the snapshots carry no Configuration, so the bridge must ask Connect who the
// agent is.
func agentEventBatch(tb testing.TB, r *sessionRig, names []string, at time.Time, withUsername bool) events.KinesisEvent {
	tb.Helper()
	var in events.KinesisEvent
	for i, n := range names {
		u := r.user(n)
		ref := agentevent.AgentRef{Region: "us-east-1", AccountID: "012345678901", InstanceID: r.cn.InstanceID(), AgentID: u.connectID}
		var conf *agentevent.Configuration
		if withUsername {
			conf = &agentevent.Configuration{Username: u.username}
		}
		data, err := agentevent.Encode(agentevent.Event{
			AWSAccountID: ref.AccountID, AgentARN: ref.ARN(), EventID: fmt.Sprintf("ev-%s-%d", n, at.Unix()), EventTimestamp: at,
			EventType: agentevent.EventTypeStateChange, InstanceARN: agentevent.InstanceARN("", ref.Region, ref.AccountID, ref.InstanceID),
			Version:               agentevent.Version,
			CurrentAgentSnapshot:  &agentevent.AgentSnapshot{AgentStatus: &agentevent.AgentStatus{Name: "Available", StartTimestamp: at}, Configuration: conf},
			PreviousAgentSnapshot: &agentevent.AgentSnapshot{AgentStatus: &agentevent.AgentStatus{Name: "Offline", StartTimestamp: at.Add(-time.Minute)}, Configuration: conf},
		})
		if err != nil {
			tb.Fatal(err)
		}
		var rec events.KinesisEventRecord
		rec.EventSource, rec.EventName = "aws:kinesis", "aws:kinesis:record"
		rec.Kinesis.Data, rec.Kinesis.PartitionKey = data, ref.ARN()
		rec.Kinesis.SequenceNumber = fmt.Sprintf("49650383517124867512047236493827145810%018d", at.Unix()*1000+int64(i))
		in.Records = append(in.Records, rec)
	}
	return in
}

// BenchmarkIdentityLinks100Unseen counts the identity lookups that link 100 agents the bridge
// has never seen: one Kinesis batch of 100 state changes, one per agent, through the
// agent-events handler as functions/agent-events builds it, whose real Salesforce and Connect
// clients talk to sfsim and connectsim over loopback HTTP. Each iteration starts on a new table
// and a new handler, so no link is cached anywhere. In "username" the snapshots carry the
// agent's username, as Connect's do; in "no-username" they don't, and the Connect side must
// find each agent's username (Connect's client allows 2 requests a second, burst 5).
// Metrics per batch: sf-queries (Salesforce query calls), connect-describe (DescribeUser),
// connect-search (SearchUsers).
//
//	go test ./shared/app -run '^$' -bench IdentityLinks100Unseen -benchtime 1x
func BenchmarkIdentityLinks100Unseen(b *testing.B) {
	for _, withUsername := range []bool{true, false} {
		name := "username"
		if !withUsername {
			name = "no-username"
		}
		b.Run(name, func(b *testing.B) {
			r := newSessionRig(b, rigOptions{targets: distributionOnly})
			names := make([]string, 100)
			for i := range names {
				names[i] = fmt.Sprintf("agent%03d", i)
			}
			r.addUsers(rigUserSpec{relevant: true, linked: true}, names...)
			var queries, describe, search, n int
			for b.Loop() {
				b.StopTimer()
				r.newTable()
				h, err := AgentEvents(r.ctx, r.deps)
				if err != nil {
					b.Fatal(err)
				}
				r.clock.Set(r.clock.Now().Add(time.Minute))
				in := agentEventBatch(b, r, names, r.clock.Now().Add(-time.Second), withUsername)
				q := r.org.Calls(sfsim.KindQuery)
				r.cn.ResetRequests()
				b.StartTimer()
				resp, err := h(r.ctx, in)
				b.StopTimer()
				if err != nil || len(resp.BatchItemFailures) > 0 {
					b.Fatalf("batch: %v, %d failures", err, len(resp.BatchItemFailures))
				}
				queries += r.org.Calls(sfsim.KindQuery) - q
				describe += r.cn.Calls("DescribeUser")
				search += r.cn.Calls("SearchUsers")
				n++
				b.StartTimer()
			}
			b.ReportMetric(float64(queries)/float64(n), "sf-queries/batch")
			b.ReportMetric(float64(describe)/float64(n), "connect-describe/batch")
			b.ReportMetric(float64(search)/float64(n), "connect-search/batch")
		})
	}
}
