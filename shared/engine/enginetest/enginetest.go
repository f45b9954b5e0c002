// Package enginetest gives tests of the presence engine and its consumers hand-written fakes
// for the engine's ports (function fields, call counts, recorded calls), a sample config
// document, a settable clock and a harness that wires a real engine over a real
// DynamoDB-compatible table (package dynamotest).
package enginetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/presence"
)

// Publisher is a fake engine.PresencePublisher. PublishFunc decides each call's outcome; nil
// publishes everything. Published commands are recorded in order.
type Publisher struct {
	// PublishFunc returns per-command errors and a call error; nil publishes everything.
	PublishFunc func(ctx context.Context, cmds []presence.Command) ([]error, error)

	mu        sync.Mutex
	calls     int
	published []presence.Command
}

// PublishPresenceCommands records the call and the commands that succeeded.
func (p *Publisher) PublishPresenceCommands(ctx context.Context, cmds []presence.Command) ([]error, error) {
	var (
		errs    []error
		callErr error
	)
	if p.PublishFunc != nil {
		errs, callErr = p.PublishFunc(ctx, cmds)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	for i, c := range cmds {
		if callErr == nil && (i >= len(errs) || errs[i] == nil) {
			p.published = append(p.published, c)
		}
	}
	if callErr != nil {
		return errs, callErr
	}
	if errs == nil {
		errs = make([]error, len(cmds))
	}
	return errs, nil
}

// Calls returns the number of publish calls.
func (p *Publisher) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// Published returns the commands published successfully, in order.
func (p *Publisher) Published() []presence.Command {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]presence.Command(nil), p.published...)
}

// StatusCall is one SetStatus call.
type StatusCall struct {
	// UserID, Status and Key are SetStatus's arguments.
	UserID, Status, Key string
	// Next is SetStatus's next argument.
	Next bool
}

// ConnectStatus is a fake engine.ConnectStatus. SetStatusFunc decides each call; nil succeeds.
type ConnectStatus struct {
	// SetStatusFunc returns each call's error; nil succeeds.
	SetStatusFunc func(ctx context.Context, userID, status, key string, next bool) error

	mu    sync.Mutex
	calls []StatusCall
	ok    []StatusCall
}

// SetStatus records the call.
func (c *ConnectStatus) SetStatus(ctx context.Context, userID, status, key string, next bool) error {
	var err error
	if c.SetStatusFunc != nil {
		err = c.SetStatusFunc(ctx, userID, status, key, next)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	call := StatusCall{UserID: userID, Status: status, Key: key, Next: next}
	c.calls = append(c.calls, call)
	if err == nil {
		c.ok = append(c.ok, call)
	}
	return err
}

// Calls returns every call, failed ones included.
func (c *ConnectStatus) Calls() []StatusCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]StatusCall(nil), c.calls...)
}

// Applied returns the calls that succeeded.
func (c *ConnectStatus) Applied() []StatusCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]StatusCall(nil), c.ok...)
}

// SalesforceUsers is a fake engine.SalesforceUsers.
type SalesforceUsers struct {
	// UserIDByFieldFunc answers UserIDByField; nil finds nobody.
	UserIDByFieldFunc func(ctx context.Context, field, value string) (string, error)
	// FieldByUserIDFunc answers FieldByUserID; nil finds nobody.
	FieldByUserIDFunc func(ctx context.Context, field, userID string) (string, error)
	// UserIDsByFieldFunc answers UserIDsByField; nil answers each value with
	// UserIDByFieldFunc.
	UserIDsByFieldFunc func(ctx context.Context, field string, values []string) ([]engine.UserLookup, error)

	mu    sync.Mutex
	calls int
}

// UserIDsByField counts one call (one query in production) and delegates.
func (s *SalesforceUsers) UserIDsByField(ctx context.Context, field string, values []string) ([]engine.UserLookup, error) {
	s.count()
	if s.UserIDsByFieldFunc != nil {
		return s.UserIDsByFieldFunc(ctx, field, values)
	}
	return eachLookup(values, func(v string) (string, error) {
		if s.UserIDByFieldFunc == nil {
			return "", apperr.New(apperr.NotFound, "no user")
		}
		return s.UserIDByFieldFunc(ctx, field, v)
	})
}

// eachLookup answers a batch lookup value by value; a retryable error fails the whole call, as
// a failed query would.
func eachLookup(values []string, one func(string) (string, error)) ([]engine.UserLookup, error) {
	out := make([]engine.UserLookup, len(values))
	for i, v := range values {
		out[i].Value, out[i].Err = one(v)
		if engine.Retryable(out[i].Err) {
			return nil, out[i].Err
		}
	}
	return out, nil
}

// UserIDByField counts the call and delegates.
func (s *SalesforceUsers) UserIDByField(ctx context.Context, field, value string) (string, error) {
	s.count()
	if s.UserIDByFieldFunc == nil {
		return "", apperr.New(apperr.NotFound, "no user")
	}
	return s.UserIDByFieldFunc(ctx, field, value)
}

// FieldByUserID counts the call and delegates.
func (s *SalesforceUsers) FieldByUserID(ctx context.Context, field, userID string) (string, error) {
	s.count()
	if s.FieldByUserIDFunc == nil {
		return "", apperr.New(apperr.NotFound, "no user")
	}
	return s.FieldByUserIDFunc(ctx, field, userID)
}

func (s *SalesforceUsers) count() {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
}

// Calls returns the number of lookups (each is one SOQL query in production).
func (s *SalesforceUsers) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// ConnectUsers is a fake engine.ConnectUsers.
type ConnectUsers struct {
	// UsernameByUserIDFunc answers UsernameByUserID; nil finds nobody.
	UsernameByUserIDFunc func(ctx context.Context, id string) (string, error)
	// UserIDByUsernameFunc answers UserIDByUsername; nil finds nobody.
	UserIDByUsernameFunc func(ctx context.Context, username string) (string, error)
	// UsernamesByUserIDsFunc answers UsernamesByUserIDs; nil answers each id with
	// UsernameByUserIDFunc.
	UsernamesByUserIDsFunc func(ctx context.Context, ids []string) ([]engine.UserLookup, error)

	mu    sync.Mutex
	calls int
}

// UsernamesByUserIDs counts one call and delegates.
func (c *ConnectUsers) UsernamesByUserIDs(ctx context.Context, ids []string) ([]engine.UserLookup, error) {
	c.count()
	if c.UsernamesByUserIDsFunc != nil {
		return c.UsernamesByUserIDsFunc(ctx, ids)
	}
	return eachLookup(ids, func(id string) (string, error) {
		if c.UsernameByUserIDFunc == nil {
			return "", apperr.New(apperr.NotFound, "no user")
		}
		return c.UsernameByUserIDFunc(ctx, id)
	})
}

// UsernameByUserID counts the call and delegates.
func (c *ConnectUsers) UsernameByUserID(ctx context.Context, id string) (string, error) {
	c.count()
	if c.UsernameByUserIDFunc == nil {
		return "", apperr.New(apperr.NotFound, "no user")
	}
	return c.UsernameByUserIDFunc(ctx, id)
}

// UserIDByUsername counts the call and delegates.
func (c *ConnectUsers) UserIDByUsername(ctx context.Context, username string) (string, error) {
	c.count()
	if c.UserIDByUsernameFunc == nil {
		return "", apperr.New(apperr.NotFound, "no user")
	}
	return c.UserIDByUsernameFunc(ctx, username)
}

func (c *ConnectUsers) count() {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
}

// Calls returns the number of lookups.
func (c *ConnectUsers) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// User is one person known to both systems.
type User struct {
	// ConnectID and Username are the Connect user.
	ConnectID, Username string
	// SalesforceID is the Salesforce user id; SalesforceUsername its Username (empty means the
	// same as the Connect username) and FederationID its FederationIdentifier.
	SalesforceID, SalesforceUsername, FederationID string
}

func (u User) sfUsername() string {
	if u.SalesforceUsername != "" {
		return u.SalesforceUsername
	}
	return u.Username
}

// Directory returns fakes that answer from users, matching usernames without regard to case
// as both systems do.
func Directory(users ...User) (*SalesforceUsers, *ConnectUsers) {
	notFound := apperr.New(apperr.NotFound, "no such user")
	sfID := func(field, value string) (string, error) {
		for _, u := range users {
			if (field == "Username" && strings.EqualFold(u.sfUsername(), value)) ||
				(field == "FederationIdentifier" && u.FederationID != "" && strings.EqualFold(u.FederationID, value)) {
				return u.SalesforceID, nil
			}
		}
		return "", notFound
	}
	sf := &SalesforceUsers{
		UserIDByFieldFunc: func(_ context.Context, field, value string) (string, error) { return sfID(field, value) },
		FieldByUserIDFunc: func(_ context.Context, field, id string) (string, error) {
			for _, u := range users {
				if u.SalesforceID == id {
					if field == "FederationIdentifier" {
						return u.FederationID, nil
					}
					return u.sfUsername(), nil
				}
			}
			return "", notFound
		},
	}
	cn := &ConnectUsers{
		UsernameByUserIDFunc: func(_ context.Context, id string) (string, error) {
			for _, u := range users {
				if u.ConnectID == id {
					return u.Username, nil
				}
			}
			return "", notFound
		},
		UserIDByUsernameFunc: func(_ context.Context, name string) (string, error) {
			for _, u := range users {
				if strings.EqualFold(u.Username, name) {
					return u.ConnectID, nil
				}
			}
			return "", notFound
		},
	}
	return sf, cn
}

// The agents of the sample events in events/agent-events.
var (
	JDoe   = User{ConnectID: "3f6c2a1e-8b4d-4c7e-9a2f-1d5e7b9c0a11", Username: "jdoe", SalesforceID: "005xx000001SwiUAAS", FederationID: "jane.doe@example.com"}
	MSmith = User{ConnectID: "7a9b1c3d-5e6f-4a8b-9c0d-2e4f6a8b0c22", Username: "msmith", SalesforceID: "005xx000001SwiVAAS", FederationID: "mark.smith@example.com"}
	LChen  = User{ConnectID: "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e33", Username: "lchen", SalesforceID: "005xx000001SwiWAAS", FederationID: "li.chen@example.com"}
)

// Salesforce presence status ids of Document's catalog.
const (
	StatusAvailable = "0N5xx0000004CSO"
	StatusAway      = "0N5xx0000004D56"
	StatusBusy      = "0N5xx0000004D3U"
)

func lit(v string) *config.Literal {
	l := config.Literal(v)
	return &l
}

func when(operand, value string) []config.Criterion {
	return []config.Criterion{{Left: config.Operand{Operand: operand}, Comparator: "eq", Right: config.Operand{Value: lit(value)}}}
}

// Document returns the sample config (the rules of shared/rules/testdata/lunch.json): Connect
// Lunch → Salesforce Away, Connect Available → Salesforce Available, Salesforce Available →
// Connect Available (defer on contact), Salesforce Away → Connect Break, and the mapping
// Offline ↔ Offline, Connect Busy → Salesforce Busy.
func Document() config.Document {
	return config.Document{
		SchemaVersion: config.SchemaVersion,
		Rules: []config.Rule{
			{ID: "lunch-to-away", Name: "Connect Lunch sets Salesforce Away", Enabled: true, Priority: 10,
				SourceEvent: "connect.agentStateChanged", Criteria: when("connect.newState", "Lunch"), Destination: "salesforce", TargetState: "Away"},
			{ID: "available-to-available", Name: "Connect Available sets Salesforce Available", Enabled: true, Priority: 20,
				SourceEvent: "connect.agentStateChanged", Criteria: when("connect.newState", "Available"), Destination: "salesforce", TargetState: "Available"},
			{ID: "sf-available", Name: "Salesforce Available sets Connect Available", Enabled: true, Priority: 10,
				SourceEvent: "salesforce.agentStateChanged", Criteria: when("salesforce.newState", "Available"), Destination: "connect", TargetState: "Available", WhileOnContact: "defer"},
			{ID: "sf-away", Name: "Salesforce Away sets Connect Break", Enabled: true, Priority: 20,
				SourceEvent: "salesforce.agentStateChanged", Criteria: when("salesforce.newState", "Away"), Destination: "connect", TargetState: "Break"},
		},
		StatusMappings: []config.StatusMapping{
			{SalesforceStatus: "Offline", ConnectStatus: "Offline", ToConnect: true, ToSalesforce: true},
			{SalesforceStatus: "Busy", ConnectStatus: "Busy", ToSalesforce: true},
		},
		StatusCatalog: config.StatusCatalog{
			Connect: []config.ConnectStatus{
				{Name: "Available", Type: "ROUTABLE"}, {Name: "Lunch", Type: "CUSTOM"}, {Name: "Break", Type: "CUSTOM"},
				{Name: "Training", Type: "CUSTOM"}, {Name: "Offline", Type: "OFFLINE"},
			},
			Salesforce: []config.SalesforceStatus{
				{ID: "0", DeveloperName: "Offline", Label: "Offline", IsOffline: true},
				{ID: StatusAvailable, DeveloperName: "Available", Label: "Available", HasChannels: true},
				{ID: StatusAway, DeveloperName: "Away", Label: "Away"},
				{ID: StatusBusy, DeveloperName: "Busy", Label: "Busy"},
			},
		},
		Settings: config.Defaults(),
	}
}

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Start is the harness clock's initial reading: just after the newest sample event.
var Start = time.Date(2024, 3, 11, 22, 5, 0, 0, time.UTC)

// Harness is a real engine over a fresh table, with fakes for every external port.
type Harness struct {
	// Table is the real store; Store is what the engine uses (Table, or Options.Wrap's result).
	Table *dynamo.Store
	// Store is what the engine uses.
	Store engine.Store
	// Configs is the engine's config source (refresh Options.ConfigRefresh).
	Configs *engine.ConfigSource
	// Engine is the engine under test.
	Engine *engine.Engine
	// Publisher is the Salesforce publisher fake.
	Publisher *Publisher
	// Status is the Connect status fake.
	Status *ConnectStatus
	// SF is the Salesforce user directory fake.
	SF *SalesforceUsers
	// Connect is the Connect user directory fake.
	Connect *ConnectUsers
	// Clock is the engine's and the table's clock.
	Clock *Clock
}

// Options adjust a Harness.
type Options struct {
	// Doc is the config to store; nil means Document().
	Doc *config.Document
	// Users are the directory; nil means JDoe, MSmith and LChen.
	Users []User
	// Table is the store to use instead of a fresh dynamotest table.
	Table *dynamo.Store
	// Wrap wraps the store the engine sees (to inject faults or latency).
	Wrap func(engine.Store) engine.Store
	// Engine adjusts the engine options (Now is set to the harness clock).
	Engine engine.Options
	// ConfigRefresh is the config source's version-check interval; 0 checks on every batch.
	ConfigRefresh time.Duration
}

// New builds a harness, storing the config document as version 1 unless the table already has
// one.
func New(tb testing.TB, o Options) *Harness {
	tb.Helper()
	table := o.Table
	if table == nil {
		table = dynamotest.NewStore(tb)
	}
	clock := NewClock(Start)
	table = table.WithClock(clock.Now)
	doc := Document()
	if o.Doc != nil {
		doc = *o.Doc
	}
	if _, err := table.GetConfig(context.Background()); apperr.Is(err, apperr.NotFound) {
		if _, err := table.PutConfig(context.Background(), doc, 0, "enginetest"); err != nil {
			tb.Fatalf("store config: %v", err)
		}
	}
	users := o.Users
	if users == nil {
		users = []User{JDoe, MSmith, LChen}
	}
	sf, cn := Directory(users...)
	var store engine.Store = table
	if o.Wrap != nil {
		store = o.Wrap(table)
	}
	h := &Harness{
		Table: table, Store: store, Configs: engine.NewConfigSource(table, o.ConfigRefresh).WithClock(clock.Now),
		Publisher: &Publisher{}, Status: &ConnectStatus{}, SF: sf, Connect: cn, Clock: clock,
	}
	eo := o.Engine
	eo.Now = clock.Now
	eng, err := engine.New(engine.Deps{
		Store: store, Configs: h.Configs, SalesforceUsers: sf, ConnectUsers: cn, ConnectStatus: h.Status, Publisher: h.Publisher,
	}, eo)
	if err != nil {
		tb.Fatalf("engine.New: %v", err)
	}
	h.Engine = eng
	return h
}

// Store is an engine.Store that delegates to an inner store, except where a function field is
// set; tests use it to inject faults, latency or races.
type Store struct {
	engine.Store
	// GetAgentFunc replaces GetAgent.
	GetAgentFunc func(ctx context.Context, id string) (dynamo.AgentRecord, error)
	// PutAgentFunc replaces PutAgent.
	PutAgentFunc func(ctx context.Context, rec dynamo.AgentRecord) (int64, error)
	// ClaimFunc replaces Claim.
	ClaimFunc func(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// PutPendingFunc replaces PutPending.
	PutPendingFunc func(ctx context.Context, r dynamo.PendingRef) error
	// AppendAuditFunc replaces AppendAudit.
	AppendAuditFunc func(ctx context.Context, e audit.Entry, retention time.Duration) error
	// WriteJournalFunc replaces WriteJournal.
	WriteJournalFunc func(ctx context.Context, j dynamo.AgentJournal, retention, markerTTL time.Duration) error
}

// GetAgents reads through GetAgentFunc, one agent at a time, when it is set (so an injected
// fault reaches the batch prefetch too), or the inner store.
func (s *Store) GetAgents(ctx context.Context, ids []string) (map[string]dynamo.AgentRecord, error) {
	if s.GetAgentFunc == nil {
		return s.Store.GetAgents(ctx, ids)
	}
	out := map[string]dynamo.AgentRecord{}
	for _, id := range ids {
		rec, err := s.GetAgentFunc(ctx, id)
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = rec
	}
	return out, nil
}

// WriteJournal calls WriteJournalFunc or the inner store.
func (s *Store) WriteJournal(ctx context.Context, j dynamo.AgentJournal, retention, markerTTL time.Duration) error {
	if s.WriteJournalFunc != nil {
		return s.WriteJournalFunc(ctx, j, retention, markerTTL)
	}
	return s.Store.WriteJournal(ctx, j, retention, markerTTL)
}

// AppendAudit calls AppendAuditFunc or the inner store.
func (s *Store) AppendAudit(ctx context.Context, e audit.Entry, retention time.Duration) error {
	if s.AppendAuditFunc != nil {
		return s.AppendAuditFunc(ctx, e, retention)
	}
	return s.Store.AppendAudit(ctx, e, retention)
}

// GetAgent calls GetAgentFunc or the inner store.
func (s *Store) GetAgent(ctx context.Context, id string) (dynamo.AgentRecord, error) {
	if s.GetAgentFunc != nil {
		return s.GetAgentFunc(ctx, id)
	}
	return s.Store.GetAgent(ctx, id)
}

// PutAgent calls PutAgentFunc or the inner store.
func (s *Store) PutAgent(ctx context.Context, rec dynamo.AgentRecord) (int64, error) {
	if s.PutAgentFunc != nil {
		return s.PutAgentFunc(ctx, rec)
	}
	return s.Store.PutAgent(ctx, rec)
}

// Claim calls ClaimFunc or the inner store.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if s.ClaimFunc != nil {
		return s.ClaimFunc(ctx, key, ttl)
	}
	return s.Store.Claim(ctx, key, ttl)
}

// PutPending calls PutPendingFunc or the inner store.
func (s *Store) PutPending(ctx context.Context, r dynamo.PendingRef) error {
	if s.PutPendingFunc != nil {
		return s.PutPendingFunc(ctx, r)
	}
	return s.Store.PutPending(ctx, r)
}
