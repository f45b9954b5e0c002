package calllogsync_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/calllogsync"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
	"github.com/omnibridge/omnibridge/shared/contactdispatch"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/phone"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

// agentSFUser is the Salesforce user linked to the rig's agent.
const agentSFUser = "005xx000001SgntAAC"

// rig is call logging end to end: the handler behind the real dispatcher, over a DynamoDB
// table, the real Salesforce client against sfsim, and the real Connect client against
// connectsim (or a hand-written fake).
type rig struct {
	tb    testing.TB
	ctx   context.Context
	store *dynamo.Store
	org   *sfsim.Org
	sf    *salesforce.Client
	cn    *connectsim.Sim
	disp  *contactdispatch.Dispatcher
	cfg   config.CallLogging
	clock *clock
	// dynamoCalls counts the table's data calls.
	dynamoCalls *atomic.Int64
}

// countingAPI counts DynamoDB data calls.
type countingAPI struct {
	dynamo.API
	n *atomic.Int64
}

func (c countingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.n.Add(1)
	return c.API.GetItem(ctx, in, o...)
}

func (c countingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.n.Add(1)
	return c.API.PutItem(ctx, in, o...)
}

func (c countingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.n.Add(1)
	return c.API.Query(ctx, in, o...)
}

// clock is the connectsim clock: it starts ten days ago (a thousand calls fit before now) and moves only when told, so every step
// of a simulated call has a known duration.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type rigOptions struct {
	cfg         config.CallLogging
	connect     calllogsync.Connect // nil: the real client against connectsim
	sfAttempts  int                 // client attempts per request (0: 4)
	cnAttempts  int                 // SDK attempts per Connect request (0: the adapter's default)
	agents      int
	wrapSF      func(calllogsync.Salesforce) calllogsync.Salesforce
	sfFaultSeed uint64
}

func newRig(tb testing.TB, o rigOptions) *rig {
	tb.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Now().UTC().Add(-10 * 24 * time.Hour).Truncate(time.Second)}
	r := &rig{tb: tb, ctx: ctx, cfg: o.cfg, clock: clk}
	fast := dynamotest.NewStore(tb)
	url, _ := dynamotest.Endpoint(tb)
	r.dynamoCalls = &atomic.Int64{}
	r.store = dynamo.New(countingAPI{API: dynamo.NewClient(dynamolocal.Config(), url), n: r.dynamoCalls}, fast.Table())
	r.org = sfsim.New(sfsim.Config{ClientID: "app", ClientSecret: "shh", APILimit: 1 << 30, Seed: o.sfFaultSeed})
	// The package's custom object, as deployed from infra/salesforce: writes to other fields
	// fail, as in a real org.
	must(tb, r.org.DefineObject(calllog.LogObject, "Name", "Case__c", "Step_Key__c", "Step__c", "Started_At__c", "Ended_At__c",
		"Duration_Seconds__c", "Connect_Contact_Id__c", "Agent_User__c"))
	sfSrv := httptest.NewServer(r.org)
	tb.Cleanup(sfSrv.Close)
	attempts := o.sfAttempts
	if attempts == 0 {
		attempts = 4
	}
	var err error
	r.sf, err = salesforce.New(salesforce.Credentials{Flow: salesforce.FlowClientCredentials, LoginURL: sfSrv.URL, ClientID: "app", ClientSecret: "shh"},
		salesforce.Options{Retry: salesforce.RetryPolicy{MaxAttempts: attempts, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxWait: time.Second}})
	if err != nil {
		tb.Fatal(err)
	}
	agents := max(o.agents, 1)
	seed := connectsim.Seed{
		InstanceID:    "aaaaaaaa-bbbb-cccc-dddd-111111111111",
		AgentStatuses: []connectsim.SeedAgentStatus{{Name: "Available", Type: "ROUTABLE"}, {Name: "Offline", Type: "OFFLINE"}},
		Queues:        []connectsim.SeedQueue{{ID: "q-support", Name: "Support"}, {ID: "q-billing", Name: "Billing"}},
	}
	for i := range agents {
		seed.Users = append(seed.Users, connectsim.SeedUser{ID: agentID(i), Username: fmt.Sprintf("agent%d", i)})
	}
	r.cn, err = connectsim.New(seed, connectsim.Options{Now: clk.Now, FaultSeed: 7})
	if err != nil {
		tb.Fatal(err)
	}
	cnSrv := httptest.NewServer(r.cn)
	tb.Cleanup(cnSrv.Close)
	cn := o.connect
	if cn == nil {
		cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), RetryMaxAttempts: o.cnAttempts}
		cn = connect.New(connect.NewSDKClient(cfg, cnSrv.URL), r.cn.InstanceID(), connect.Options{RequestsPerSecond: 1e6, Burst: 1e6})
	}
	for i := range agents {
		if err := r.cn.Login(agentID(i), "Available"); err != nil {
			tb.Fatal(err)
		}
		// Agent 0 is linked to a Salesforce user, as the presence engine links agents.
		if i == 0 {
			if err := r.store.PutLink(ctx, dynamo.Link{From: dynamo.LinkFromConnect, Field: "Username", ConnectUserID: agentID(i),
				SalesforceUserID: agentSFUser, Found: true, ResolvedAt: time.Now(), Expires: time.Now().Add(time.Hour)}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	var sf calllogsync.Salesforce = r.sf
	if o.wrapSF != nil {
		sf = o.wrapSF(sf)
	}
	settings := func(context.Context) (calllogsync.Settings, error) {
		return calllogsync.Settings{CallLogging: r.cfg.WithDefaults(), Settings: config.Defaults()}, nil
	}
	h := calllogsync.New(calllogsync.Deps{Store: r.store, Salesforce: sf, Connect: cn, Numbers: phone.Numbers{}, Config: settings})
	dispSettings := func(context.Context) (config.Settings, error) { return config.Defaults(), nil }
	r.disp = contactdispatch.New(r.store, r.store, dispSettings, time.Now, slog.New(slog.DiscardHandler), h)
	return r
}

func agentID(i int) string { return fmt.Sprintf("agent-%03d", i) }

// deliver dispatches raw events in order, redelivering each until it succeeds (Lambda's
// retries of an asynchronous invocation), at most tries times.
func (r *rig) deliver(tries int, raws ...[]byte) int {
	r.tb.Helper()
	failures := 0
	for _, raw := range raws {
		var err error
		for range tries {
			var rep contactdispatch.Report
			rep, err = r.disp.Dispatch(r.ctx, raw)
			if len(rep.Failed) > 0 {
				r.tb.Errorf("event %s: handler failed for good: %+v", rep.EventID, rep)
			}
			if err == nil {
				break
			}
			failures++
		}
		if err != nil {
			r.tb.Fatalf("event still failing after %d deliveries: %v", tries, err)
		}
	}
	return failures
}

// call simulates an inbound call from number answered by agent: ringing, queued for wait,
// talking for talk, after contact work for acw. It returns the contact id and its events.
func (r *rig) call(number string, agent int, wait, talk, acw time.Duration) (string, [][]byte) {
	r.tb.Helper()
	id, err := r.cn.Call(connectsim.NewCall{Customer: number, Queue: "Support"})
	if err != nil {
		r.tb.Fatal(err)
	}
	r.answer(id, agent, wait, talk, acw)
	return id, r.events(id)
}

func (r *rig) answer(id string, agent int, wait, talk, acw time.Duration) {
	r.tb.Helper()
	r.clock.Advance(wait)
	must(r.tb, r.cn.RouteContact(id, agentID(agent)))
	must(r.tb, r.cn.Accept(id))
	must(r.tb, r.cn.Connect(id))
	r.clock.Advance(talk)
	must(r.tb, r.cn.End(id))
	r.clock.Advance(acw)
	must(r.tb, r.cn.Clear(id))
}

func (r *rig) events(id string) [][]byte {
	var out [][]byte
	for _, e := range r.cn.ContactEventsFor(id) {
		out = append(out, e.Data)
	}
	return out
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// records returns the org's records of sObject whose field equals value, sorted by Id.
func (r *rig) records(sObject, field string, value any) []map[string]any {
	r.tb.Helper()
	var out []map[string]any
	soql, err := salesforce.Format("SELECT Id FROM "+sObject+" WHERE "+field+" = ?", value)
	if err != nil {
		r.tb.Fatal(err)
	}
	for rec, err := range r.sf.Query(r.ctx, soql) {
		if err != nil {
			r.tb.Fatal(err)
		}
		_, f, _ := r.org.Record(rec["Id"].(string))
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]["Id"]) < fmt.Sprint(out[j]["Id"]) })
	return out
}

// sample reads a real-format event from events/contact-events.
func sample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "contact-events", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// fakeConnect is a hand-written Connect: DescribeContact answers from a map.
type fakeConnect struct {
	mu       sync.Mutex
	contacts map[string]connect.ContactInfo
	calls    int
}

func (f *fakeConnect) DescribeContact(_ context.Context, id string) (connect.ContactInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	info, ok := f.contacts[id]
	if !ok {
		return connect.ContactInfo{ID: id}, nil
	}
	return info, nil
}

func connectNewCall(number string) connectsim.NewCall {
	return connectsim.NewCall{Customer: number, Queue: "Support"}
}
