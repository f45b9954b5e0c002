package connectsim_test

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(tb testing.TB, s string) {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatal(err)
	}
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// env is a sim served over HTTP with the real SDK client pointed at it.
type env struct {
	sim *connectsim.Sim
	srv *httptest.Server
	sdk *awsconnect.Client
}

func newEnv(t *testing.T, seed connectsim.Seed, opts connectsim.Options) *env {
	t.Helper()
	sim, err := connectsim.New(seed, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	return &env{sim: sim, srv: srv, sdk: connect.NewSDKClient(cfg, srv.URL)}
}

// basicSeed has two agents and the statuses the tests use.
func basicSeed() connectsim.Seed {
	return connectsim.Seed{
		InstanceID: "11111111-2222-4333-8444-555555555555",
		Queues:     []connectsim.SeedQueue{{ID: "q-basic", Name: "BasicQueue"}, {ID: "q-primary", Name: "PrimaryQueue"}},
		RoutingProfiles: []connectsim.SeedRoutingProfile{{
			ID: "rp-basic", Name: "Basic Routing Profile", DefaultOutboundQueue: "BasicQueue",
			InboundQueues: []string{"BasicQueue", "PrimaryQueue"}, Concurrency: map[string]int{"VOICE": 1, "CHAT": 2, "TASK": 1},
		}},
		AgentStatuses: []connectsim.SeedAgentStatus{
			{ID: "st-available", Name: "Available", Type: "ROUTABLE"},
			{ID: "st-lunch", Name: "Lunch", Type: "CUSTOM"},
			{ID: "st-training", Name: "Training", Type: "CUSTOM", State: "DISABLED"},
			{ID: "st-offline", Name: "Offline", Type: "OFFLINE"},
		},
		Users: []connectsim.SeedUser{
			{ID: "u-jdoe", Username: "jdoe", FirstName: "Jane", LastName: "Doe", Email: "jdoe@example.com"},
			{ID: "u-msmith", Username: "msmith", FirstName: "Mark", LastName: "Smith"},
		},
		ContactFlows: []connectsim.SeedContactFlow{
			{ID: "flow-1", Name: "Task to nowhere"},
			{ID: "flow-cases", Name: "Omnibridge case task", Queue: "PrimaryQueue"},
			{ID: "flow-transfer", Name: "Default queue transfer", Type: "QUEUE_TRANSFER"},
		},
		PredefinedAttributes: []connectsim.SeedPredefinedAttribute{
			{Name: "Omnibridge_Skill", Values: []string{"Billing", "Spanish", "Hardware"}},
		},
	}
}
