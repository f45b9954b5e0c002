package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/routingsync"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

// BenchmarkCaseBacklog routes a backlog of open cases in monitored queues with the case-sweep
// (pages of 200 cases, 8 cases at once) and, as the baseline, one case at a time (a query per
// case, each routed before the next is read), against sfsim and connectsim with injected
// latencies: 50 ms per Salesforce call, 20 ms per Connect call. The Connect client's rate is
// Connect's default quota (2 requests/s, burst 5) for 100 cases, and a raised quota (50/s) for
// 1,000. Reported per backlog: wall time, Connect calls, Salesforce API calls.
//
//	go test ./shared/app -run '^$' -bench CaseBacklog -benchtime 1x -timeout 30m
func BenchmarkCaseBacklog(b *testing.B) {
	for _, bc := range []struct {
		cases int
		rate  float64
	}{{100, 2}, {1000, 50}} {
		for _, mode := range []struct {
			name string
			opts routingsync.Options
		}{
			{"sweep", routingsync.Options{}},
			{"one-at-a-time", routingsync.Options{SweepConcurrency: 1, SweepPage: 1}},
		} {
			b.Run(fmt.Sprintf("%s/rate=%g/cases=%d", mode.name, bc.rate, bc.cases), func(b *testing.B) {
				for range b.N {
					b.StopTimer()
					r := newRoutingRig(b, routingRigOptions{connectRP: bc.rate, routing: map[string]any{"sweepBatch": config.MaxSweepBatch}})
					recs := make([]map[string]any, bc.cases)
					for i := range recs {
						recs[i] = map[string]any{"Subject": fmt.Sprintf("Backlog %d", i), "Status": "New", "OwnerId": r.queueA, config.DefaultSkillsField: "Billing"}
					}
					if _, err := r.org.InsertMany("Case", recs); err != nil {
						b.Fatal(err)
					}
					sf, err := Salesforce(r.ctx, r.deps)
					if err != nil {
						b.Fatal(err)
					}
					eng, err := engineWith(r.deps, sf)
					if err != nil {
						b.Fatal(err)
					}
					svc, err := routingServiceWith(r.deps, sf, eng, mode.opts)
					if err != nil {
						b.Fatal(err)
					}
					r.org.AddRule(sfsim.Rule{Path: "/services/data/", Latency: 50 * time.Millisecond})
					r.cn.SetLatency(20 * time.Millisecond)
					sfBefore := r.org.APIUsage()
					b.StartTimer()
					start := time.Now()
					rep, err := svc.Sweep(context.Background())
					elapsed := time.Since(start)
					b.StopTimer()
					if err != nil || rep.Routed != bc.cases || !rep.Complete {
						b.Fatalf("sweep: %+v %v", rep, err)
					}
					calls := 0
					for _, n := range r.cn.CallCounts() {
						calls += n
					}
					b.ReportMetric(elapsed.Seconds(), "s/backlog")
					b.ReportMetric(float64(calls), "connect-calls/backlog")
					b.ReportMetric(float64(r.org.APIUsage()-sfBefore), "sf-calls/backlog")
					b.ReportMetric(float64(r.cn.Calls("StartTaskContact")), "tasks-started/backlog")
				}
			})
		}
	}
}
