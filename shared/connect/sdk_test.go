package connect_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
)

// These tests run the real AWS SDK Connect client, built by NewSDKClient, against connectsim
// over HTTP: the adapter is exercised through the wire protocol, not through a fake.

func seed(extraUsers int) connectsim.Seed {
	s := connectsim.Seed{
		InstanceID: "aaaaaaaa-bbbb-cccc-dddd-111111111111",
		AgentStatuses: []connectsim.SeedAgentStatus{
			{Name: "Available", Type: "ROUTABLE"}, {Name: "Lunch"}, {Name: "Break"}, {Name: "Meeting"},
			{Name: "Training"}, {Name: "Offline", Type: "OFFLINE"},
		},
		Users:        []connectsim.SeedUser{{ID: "u-jdoe", Username: "jdoe", FirstName: "Jane", LastName: "Doe", Email: "jdoe@example.com"}},
		ContactFlows: []connectsim.SeedContactFlow{{ID: "flow-cases", Name: "Omnibridge case task"}},
	}
	for i := range extraUsers {
		s.Users = append(s.Users, connectsim.SeedUser{ID: fmt.Sprintf("agent-%03d", i), Username: fmt.Sprintf("agent%03d", i)})
	}
	return s
}

type rig struct {
	sim    *connectsim.Sim
	client *connect.Client
}

func newRig(t testing.TB, sd connectsim.Seed, simOpts connectsim.Options, opts connect.Options, cfgFns ...func(*aws.Config)) *rig {
	t.Helper()
	sim, err := connectsim.New(sd, simOpts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	for _, fn := range cfgFns {
		fn(&cfg)
	}
	return &rig{sim: sim, client: connect.New(connect.NewSDKClient(cfg, srv.URL), sim.InstanceID(), opts)}
}

func (r *rig) status(t testing.TB, userID string) (string, string) {
	t.Helper()
	a, err := r.sim.Agent(userID)
	if err != nil {
		t.Fatal(err)
	}
	return a.Status(), a.NextStatus()
}

func TestSDKSetStatusByName(t *testing.T) {
	r := newRig(t, seed(0), connectsim.Options{}, connect.Options{RequestsPerSecond: 50, Burst: 10, MinStatusRefresh: -1})
	ctx := context.Background()
	if err := r.sim.Login("u-jdoe", "Available"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		status   string
		setup    func(t *testing.T)
		want     string
		wantCode apperr.Code
	}{
		{name: "to Lunch", status: "Lunch", want: "Lunch"},
		{name: "back to Available", status: "Available", want: "Available"},
		{name: "unknown name", status: "Siesta", want: "Available", wantCode: apperr.NotFound},
		{name: "status created while running", status: "Coaching", setup: func(t *testing.T) {
			if _, err := r.sim.AddAgentStatus(connectsim.SeedAgentStatus{Name: "Coaching"}); err != nil {
				t.Fatal(err)
			}
		}, want: "Coaching"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(t)
			}
			st, err := r.client.SetStatus(ctx, "u-jdoe", tt.status)
			if apperr.CodeOf(err) != tt.wantCode {
				t.Fatalf("err %v, want code %q", err, tt.wantCode)
			}
			if err == nil && st.Name != tt.status {
				t.Errorf("resolved %+v", st)
			}
			if got, _ := r.status(t, "u-jdoe"); got != tt.want {
				t.Errorf("sim status %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := r.client.SetStatus(ctx, "ghost", "Lunch"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("unknown user: %v", err)
	}
	// The cache served the known names: one load, one reload per miss ("Siesta", "Coaching").
	if n := r.sim.Calls("ListAgentStatuses"); n != 3 {
		t.Errorf("ListAgentStatuses calls = %d, want 3", n)
	}
}

// TestSDKNextStatusOnContact checks that a status set during a call becomes the next status,
// visible through GetCurrentUserData, and is applied once the contact is ended and cleared.
func TestSDKNextStatusOnContact(t *testing.T) {
	r := newRig(t, seed(0), connectsim.Options{}, connect.Options{RequestsPerSecond: 50, Burst: 10})
	ctx := context.Background()
	if err := r.sim.Login("u-jdoe", "Available"); err != nil {
		t.Fatal(err)
	}
	id, err := r.sim.Offer("u-jdoe", connectsim.NewContact{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.sim.Connect(id); err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.SetStatus(ctx, "u-jdoe", "Lunch"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name       string
		do         func() error
		status     string
		nextStatus string
	}{
		{name: "on the call", do: func() error { return nil }, status: "Available", nextStatus: "Lunch"},
		{name: "in ACW", do: func() error { return r.sim.End(id) }, status: "Available", nextStatus: "Lunch"},
		{name: "cleared", do: func() error { return r.sim.Clear(id) }, status: "Lunch"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(); err != nil {
				t.Fatal(err)
			}
			data, err := r.client.CurrentUserData(ctx, []string{"u-jdoe"})
			if err != nil || len(data) != 1 {
				t.Fatalf("%v %v", data, err)
			}
			if data[0].Status != st.status || data[0].NextStatus != st.nextStatus {
				t.Errorf("GetCurrentUserData: %q next %q, want %q next %q", data[0].Status, data[0].NextStatus, st.status, st.nextStatus)
			}
		})
	}
	// The stream told the same story: a record with NextAgentStatus, then one applying it.
	var sawNext, sawApplied bool
	for _, rec := range r.sim.EventsFor("u-jdoe") {
		cur := rec.Event.CurrentAgentSnapshot
		sawNext = sawNext || (cur.NextAgentStatus != nil && cur.NextAgentStatus.Name == "Lunch")
		sawApplied = sawApplied || (cur.AgentStatus.Name == "Lunch" && len(cur.Contacts) == 0)
	}
	if !sawNext || !sawApplied {
		t.Errorf("records: next status seen %v, applied seen %v", sawNext, sawApplied)
	}
}

// TestSDKThrottlingAbsorbed runs the client slightly faster than the sim's quota: the sim
// throttles some requests, and the SDK's adaptive retries absorb every one of them.
func TestSDKThrottlingAbsorbed(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 6 s of rate limiting")
	}
	t.Parallel()
	r := newRig(t, seed(0), connectsim.Options{Throttle: connectsim.Throttle{Rate: 2, Burst: 5}}, connect.Options{RequestsPerSecond: 2.5, Burst: 5})
	ctx := context.Background()
	if err := r.sim.Login("u-jdoe", "Available"); err != nil {
		t.Fatal(err)
	}
	names := []string{"Lunch", "Break", "Meeting", "Training", "Available"}
	for i := range 16 {
		if _, err := r.client.SetStatus(ctx, "u-jdoe", names[i%len(names)]); err != nil {
			t.Fatalf("call %d surfaced an error: %v", i, err)
		}
	}
	throttled := 0
	for _, req := range r.sim.Requests() {
		if req.ErrorType == "ThrottlingException" {
			throttled++
		}
	}
	if throttled == 0 {
		t.Error("the sim throttled nothing; the test does not exercise retries")
	}
	if got, _ := r.status(t, "u-jdoe"); got != names[15%len(names)] {
		t.Errorf("final status %q", got)
	}
	t.Logf("%d PutUserStatus attempts for 16 calls, %d throttled and retried", r.sim.Calls("PutUserStatus"), throttled)
}

// TestSDKCoalescing sends 50 status changes for one agent behind a 2 req/s limiter, arriving
// every 10 ms: far fewer PutUserStatus calls go out, every request gets an answer, and the
// agent ends in the newest status.
func TestSDKCoalescing(t *testing.T) {
	r := newRig(t, seed(0), connectsim.Options{}, connect.Options{RequestsPerSecond: 2, Burst: 1})
	ctx := context.Background()
	if err := r.sim.Login("u-jdoe", "Available"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.AgentStatuses(ctx); err != nil { // warm the cache (uses the one burst token)
		t.Fatal(err)
	}
	names := []string{"Lunch", "Break", "Meeting", "Training", "Available"}
	var outs []<-chan connect.StatusOutcome
	for i := range 50 {
		ch, err := r.client.SubmitStatus(ctx, "u-jdoe", names[i%len(names)], fmt.Sprintf("evt-%02d", i))
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, ch)
		time.Sleep(10 * time.Millisecond)
	}
	sent, superseded := 0, 0
	for i, ch := range outs {
		o := <-ch
		switch {
		case o.Err != nil:
			t.Errorf("request %d: %v", i, o.Err)
		case o.Result.Sent:
			sent++
		case o.Result.Superseded():
			superseded++
			var by int
			if _, err := fmt.Sscanf(o.Result.SupersededBy, "evt-%d", &by); err != nil || by <= i {
				t.Errorf("request %d superseded by %q, which is not newer", i, o.Result.SupersededBy)
			}
		}
	}
	calls := r.sim.Calls("PutUserStatus")
	if sent+superseded != 50 || calls != sent {
		t.Errorf("sent %d + superseded %d != 50, or %d calls", sent, superseded, calls)
	}
	if calls > 5 {
		t.Errorf("%d PutUserStatus calls for 50 changes over 0.5 s at 2 req/s; want ≤ 5", calls)
	}
	if got, _ := r.status(t, "u-jdoe"); got != names[49%len(names)] {
		t.Errorf("final status %q, want the newest %q", got, names[49%len(names)])
	}
	t.Logf("50 changes → %d PutUserStatus calls", calls)
}

// TestSDKStartTaskIdempotent checks that the same idempotency key gives the same contact and
// creates one task, and covers StopContact and UpdateContactAttributes.
func TestSDKStartTaskIdempotent(t *testing.T) {
	r := newRig(t, seed(0), connectsim.Options{}, connect.Options{RequestsPerSecond: 50, Burst: 10})
	ctx := context.Background()
	task := connect.Task{
		IdempotencyKey: "sf-case-500xx0000001-queued", ContactFlowID: "flow-cases", Name: "Case 00001026",
		Attributes: map[string]string{"caseId": "500xx0000001"},
		References: map[string]connect.Reference{"Case": {Type: "URL", Value: "https://example.my.salesforce.com/500xx0000001"}},
	}
	first, err := r.client.StartTask(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.client.StartTask(ctx, task)
	if err != nil || again != first {
		t.Fatalf("replay gave %q (%v), want %q", again, err, first)
	}
	tasks := r.sim.Tasks()
	if len(tasks) != 1 || tasks[0].ClientToken != connect.ClientToken(task.IdempotencyKey) || tasks[0].References["Case"].Type != "URL" {
		t.Fatalf("tasks %+v", tasks)
	}
	task.IdempotencyKey = "sf-case-500xx0000002-queued"
	if other, err := r.client.StartTask(ctx, task); err != nil || other == first {
		t.Fatalf("other key gave %q %v", other, err)
	}

	if err := r.client.UpdateContactAttributes(ctx, first, map[string]string{"status": "agent-replied"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.sim.Contact(first); c.Attributes["status"] != "agent-replied" || c.Attributes["caseId"] != "500xx0000001" {
		t.Errorf("attributes %v", c.Attributes)
	}
	if err := r.client.StopContact(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := r.client.StopContact(ctx, first); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("stopping a stopped task: %v, want NotFound", err)
	}
	if err := r.client.UpdateContactAttributes(ctx, "ghost", map[string]string{"a": "b"}); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("unknown contact: %v", err)
	}
}

// TestSDKCurrentUserDataBatching checks that 250 agents take 3 GetCurrentUserData calls, and
// that pages within a batch are followed.
func TestSDKCurrentUserDataBatching(t *testing.T) {
	tests := []struct {
		name      string
		pageSize  int
		wantCalls int
	}{
		{name: "one page per batch", wantCalls: 3},
		{name: "pages of 40", pageSize: 40, wantCalls: 8}, // 100 → 3 pages, 100 → 3, 50 → 2
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, seed(250), connectsim.Options{MaxPageSize: tt.pageSize}, connect.Options{RequestsPerSecond: 100, Burst: 10})
			ids := make([]string, 250)
			for i := range ids {
				ids[i] = fmt.Sprintf("agent-%03d", i)
				if err := r.sim.Login(ids[i], "Available"); err != nil {
					t.Fatal(err)
				}
			}
			data, err := r.client.CurrentUserData(context.Background(), ids)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) != 250 {
				t.Errorf("%d users, want 250", len(data))
			}
			seen := map[string]bool{}
			for _, d := range data {
				if seen[d.UserID] || d.Status != "Available" || d.MaxSlots["VOICE"] != 1 {
					t.Fatalf("bad or duplicate entry %+v", d)
				}
				seen[d.UserID] = true
			}
			if n := r.sim.Calls("GetCurrentUserData"); n != tt.wantCalls {
				t.Errorf("GetCurrentUserData calls = %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestSDKUsers(t *testing.T) {
	r := newRig(t, seed(3), connectsim.Options{MaxPageSize: 2}, connect.Options{RequestsPerSecond: 50, Burst: 10})
	ctx := context.Background()
	tests := []struct {
		name     string
		username string
		wantID   string
		wantCode apperr.Code
	}{
		{name: "exact", username: "jdoe", wantID: "u-jdoe"},
		{name: "other case", username: "JDoe", wantID: "u-jdoe"},
		{name: "prefix is not a match", username: "agent", wantCode: apperr.NotFound},
		{name: "unknown", username: "nobody", wantCode: apperr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := r.client.FindUserByUsername(ctx, tt.username)
			if apperr.CodeOf(err) != tt.wantCode || u.ID != tt.wantID {
				t.Fatalf("got %+v %v", u, err)
			}
			if err == nil && (u.FirstName != "Jane" || u.LastName != "Doe" || u.ARN == "" || u.RoutingProfileID == "") {
				t.Errorf("user %+v", u)
			}
		})
	}
	u, err := r.client.DescribeUser(ctx, "u-jdoe")
	if err != nil || u.Username != "jdoe" || u.Email != "jdoe@example.com" {
		t.Errorf("DescribeUser: %+v %v", u, err)
	}
	if _, err := r.client.DescribeUser(ctx, "ghost"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("DescribeUser ghost: %v", err)
	}
}

// TestSDKFaults checks what reaches the caller when the sim injects faults.
func TestSDKFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault connectsim.Fault
		want  apperr.Code
	}{
		{name: "503 twice is retried away", fault: connectsim.Fault{Kind: connectsim.FaultUnavailable, Times: 2}},
		{name: "connection reset once is retried away", fault: connectsim.Fault{Kind: connectsim.FaultConnectionReset, Times: 1}},
		{name: "access denied is internal", fault: connectsim.Fault{Kind: connectsim.FaultAccessDenied}, want: apperr.Internal},
		{name: "bad credentials are internal", fault: connectsim.Fault{Kind: connectsim.FaultUnauthorized}, want: apperr.Internal},
		{name: "500 on every attempt is unavailable", fault: connectsim.Fault{Kind: connectsim.FaultInternal}, want: apperr.Unavailable},
		{name: "throttled on every attempt is unavailable", fault: connectsim.Fault{Kind: connectsim.FaultThrottling}, want: apperr.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // the SDK's backoff makes each case wait seconds; they share nothing
			// Three attempts keep the always-failing cases short; the retried ones need at most three.
			r := newRig(t, seed(0), connectsim.Options{}, connect.Options{RequestsPerSecond: 50, Burst: 10}, func(c *aws.Config) { c.RetryMaxAttempts = 3 })
			r.sim.AddFault(tt.fault)
			_, err := r.client.DescribeUser(context.Background(), "u-jdoe")
			if apperr.CodeOf(err) != tt.want {
				t.Errorf("err %v, want code %q", err, tt.want)
			}
		})
	}
}

// TestSDKRecordsDecode checks that what the sim emitted for the adapter's calls decodes.
func TestSDKRecordsDecode(t *testing.T) {
	r := newRig(t, seed(0), connectsim.Options{}, connect.Options{RequestsPerSecond: 50, Burst: 10})
	if err := r.sim.Login("u-jdoe", "Available"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.SetStatus(context.Background(), "u-jdoe", "Lunch"); err != nil {
		t.Fatal(err)
	}
	recs := r.sim.Events()
	ev, err := agentevent.Decode(recs[len(recs)-1].Data)
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventType != agentevent.EventTypeStateChange || ev.AgentID() != "u-jdoe" ||
		ev.PreviousAgentSnapshot.AgentStatus.Name != "Available" || ev.CurrentAgentSnapshot.AgentStatus.Name != "Lunch" ||
		ev.CurrentAgentSnapshot.AgentStatus.Type != agentevent.StatusTypeCustom {
		t.Errorf("record %+v", ev)
	}
}
