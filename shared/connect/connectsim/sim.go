// Package connectsim is an in-memory Amazon Connect instance that speaks the service's
// REST-JSON protocol, so the unchanged AWS SDK Connect client can run against it by pointing
// BaseEndpoint at an httptest server that serves a *Sim:
//
//	sim, _ := connectsim.New(seed, connectsim.Options{})
//	srv := httptest.NewServer(sim)
//	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
//	api := connect.NewSDKClient(cfg, srv.URL)
//
// It serves ListAgentStatuses, PutUserStatus, GetCurrentUserData, SearchUsers, DescribeUser,
// StartTaskContact, StopContact, UpdateContactAttributes, DescribeContact,
// UpdateContactRoutingData, ListQueues, DescribeQueue, ListContactFlows,
// ListPredefinedAttributes and DescribePredefinedAttribute with the SDK's paths, methods, status
// codes and error shapes (X-Amzn-ErrorType header and {"message": ...} body). StartTaskContact
// is idempotent on ClientToken (see Options.StrictClientToken and ClientTokens) and runs the
// seeded flow, which may queue the task.
//
// Contacts (tasks, inbound calls with Call, transfers, Offer and Place) emit Amazon Connect
// contact events (INITIATED, QUEUED, CONNECTED_TO_AGENT, DISCONNECTED, COMPLETED after the
// agent clears the contact's after contact work, CONTACT_DATA_UPDATED on attribute updates) in
// the exact EventBridge envelope: kept in a log (ContactEvents) and delivered to subscribers
// (SubscribeContactEvents). DescribeContact returns what the events lack, such as the
// customer's number.
//
// Beside the API, Go methods drive it the way agents and customers would (Login, SetStatus,
// Offer, Place, Connect, Hold, End, Clear ...), and every change of an agent is emitted as an
// agent event stream record in Connect's exact Kinesis format: kept in a log (Events) and
// delivered to subscribers (Subscribe), so the agent-events Lambda can be fed locally
// (KinesisEvent). Requests are recorded and counted per operation, and latency, faults
// (401, 403, 429, 500, 503, connection reset) and throttling can be injected.
//
// A Sim is safe for concurrent use.
package connectsim

import (
	"crypto/rand"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/omnibridge/omnibridge/shared/agentevent"
)

// Options tunes a Sim. The zero value is a fast, fault-free instance on the wall clock.
type Options struct {
	// Now is the clock for every timestamp the sim writes; nil means time.Now. Tests that
	// compare records with recorded samples pass a settable clock.
	Now func() time.Time
	// NewID generates contact ids and EventIds; nil means random UUIDs.
	NewID func() string
	// FaultSeed seeds the random source of probabilistic faults, for repeatable runs.
	FaultSeed uint64
	// Throttle, when Rate > 0, rejects requests beyond a token bucket with ThrottlingException.
	Throttle Throttle
	// Latency is added to every request before it is handled.
	Latency time.Duration
	// MaxPageSize caps the page size of the list and search operations (0: the API's own
	// limits), so tests can exercise pagination with few items.
	MaxPageSize int
	// ReferenceShape makes emitted records carry only the fields of the 2019-05-25 reference
	// sample: no AgentStatus.Type and no RoutingProfile.Concurrency. Off, records carry both,
	// as current Connect instances send them.
	ReferenceShape bool
	// StrictClientToken answers a StartTaskContact that repeats a ClientToken with different
	// parameters with 409 IdempotencyException. Off, it gets the first request's ContactId, as
	// Connect documents for a token it has seen ("If a contact is already started, the contact
	// ID is returned"); either way the repeat is counted in ClientTokens.
	StrictClientToken bool
}

// Throttle is a token bucket in front of the API, the way Connect enforces its quotas.
type Throttle struct {
	// Rate is the sustained requests per second; 0 disables throttling.
	Rate float64
	// Burst is the bucket size; 0 means 1.
	Burst int
	// PerOperation gives each operation its own bucket, as Connect's per-API quotas do;
	// otherwise one bucket is shared by all operations.
	PerOperation bool
}

// Sim is a simulated Connect instance and an http.Handler for its API.
type Sim struct {
	opts        Options
	region      string
	accountID   string
	instanceID  string
	instanceARN string

	// mu guards the instance state and the event log. Events are appended while the change
	// that caused them is made, so the log order is the order of changes.
	mu           sync.Mutex
	queues       map[string]*queue
	queueOrder   []string
	profiles     map[string]*routingProfile
	profileOrder []string
	statuses     map[string]*agentStatus
	statusOrder  []string
	users        map[string]*user
	userOrder    []string
	contacts     map[string]*contact
	tokens       map[string]*tokenUse // StartTaskContact ClientToken → its first use
	events       []Record
	seq          uint64
	subs         map[int]*subscriber[Record]
	nextSub      int

	flows          map[string]*contactFlow
	flowOrder      []string
	attributes     map[string]*predefinedAttribute
	attributeOrder []string
	phoneNumber    string
	contactEvents  []ContactEventRecord
	contactSubs    map[int]*subscriber[ContactEventRecord]

	// netMu guards what the HTTP layer keeps: the request log, faults and throttling.
	netMu    sync.Mutex
	requests []Request
	counts   map[string]int
	faults   []*faultRule
	rng      *mrand.Rand
	latency  time.Duration
	throttle Throttle
	limiters map[string]*rate.Limiter
}

type queue struct {
	id, arn, name string
	modified      time.Time
}

type contactFlow struct {
	id, arn, name, typ string
	queueID            string // the queue the flow transfers tasks to, "" if none
	// criteriaAttr and priorityAttr name the attributes the flow sets routing criteria and
	// priority from (SeedContactFlow), "" if it sets none.
	criteriaAttr, priorityAttr string
}

type predefinedAttribute struct {
	name     string
	values   []string
	modified time.Time
}

type routingProfile struct {
	id, arn, name string
	outboundQueue string
	inboundQueues []string
	concurrency   map[agentevent.Channel]int
}

type agentStatus struct {
	id, arn, name string
	typ           agentevent.StatusType
	enabled       bool
	modified      time.Time
}

// New builds a simulated instance from seed. A seed that refers to unknown queues or profiles,
// or repeats names, is refused with an apperr.Invalid error listing every problem.
func New(seed Seed, opts Options) (*Sim, error) {
	s := &Sim{
		opts:        opts,
		region:      seed.Region,
		accountID:   seed.AccountID,
		instanceID:  seed.InstanceID,
		queues:      map[string]*queue{},
		profiles:    map[string]*routingProfile{},
		statuses:    map[string]*agentStatus{},
		users:       map[string]*user{},
		contacts:    map[string]*contact{},
		tokens:      map[string]*tokenUse{},
		subs:        map[int]*subscriber[Record]{},
		flows:       map[string]*contactFlow{},
		attributes:  map[string]*predefinedAttribute{},
		contactSubs: map[int]*subscriber[ContactEventRecord]{},
		counts:      map[string]int{},
		rng:         mrand.New(mrand.NewPCG(opts.FaultSeed, opts.FaultSeed^0x9e3779b97f4a7c15)),
		latency:     opts.Latency,
		throttle:    opts.Throttle,
		limiters:    map[string]*rate.Limiter{},
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.accountID == "" {
		s.accountID = "123456789012"
	}
	if s.instanceID == "" {
		s.instanceID = stableID("instance", "connectsim")
	}
	s.instanceARN = agentevent.InstanceARN("aws", s.region, s.accountID, s.instanceID)
	if err := s.load(seed); err != nil {
		return nil, err
	}
	return s, nil
}

// NewFromJSON builds a simulated instance from a JSON seed (see Seed).
func NewFromJSON(seed []byte, opts Options) (*Sim, error) {
	sd, err := ParseSeed(seed)
	if err != nil {
		return nil, err
	}
	return New(sd, opts)
}

// InstanceID returns the instance id the API paths must carry.
func (s *Sim) InstanceID() string { return s.instanceID }

// InstanceARN returns the instance ARN written in records.
func (s *Sim) InstanceARN() string { return s.instanceARN }

// Region returns the region written in ARNs.
func (s *Sim) Region() string { return s.region }

// AccountID returns the account id written in ARNs and records.
func (s *Sim) AccountID() string { return s.accountID }

// AddUser adds a user (logged out) after construction and returns its id.
func (s *Sim) AddUser(u SeedUser) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUser(u)
}

// AddAgentStatus adds an agent status after construction (as an admin would in the console,
// while the bridge runs) and returns its id.
func (s *Sim) AddAgentStatus(st SeedAgentStatus) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addStatus(st)
}

// now reads the clock at the resolution Connect writes (milliseconds, UTC), so an Event in the
// log and its encoded Data carry the same instants.
func (s *Sim) now() time.Time {
	t := time.Now()
	if s.opts.Now != nil {
		t = s.opts.Now()
	}
	return t.UTC().Truncate(time.Millisecond)
}

func (s *Sim) newID() string {
	if s.opts.NewID != nil {
		return s.opts.NewID()
	}
	return randomUUID()
}

// randomUUID returns a version 4 UUID.
func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// epoch renders a time the way Connect's REST-JSON responses do: seconds since the epoch as a
// JSON number with millisecond precision.
func epoch(t time.Time) float64 {
	return math.Round(float64(t.UnixMilli())) / 1000
}
