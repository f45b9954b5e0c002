package app

// End-to-end tests of session-driven availability: the session-poll function's handler and the
// webhook's session processor, wired by this package exactly as the Lambdas are, over a real
// DynamoDB-compatible table (dynamotest), the Salesforce simulator served over HTTP to the real
// Salesforce client (client credentials), and the Connect simulator behind the real AWS SDK
// client. One settable clock drives the service, the engine, the table's TTLs and both
// simulators, so every "now" in a scenario is exact.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/runtime"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
	"github.com/omnibridge/omnibridge/shared/secrets"
	"github.com/omnibridge/omnibridge/shared/session"
	"github.com/omnibridge/omnibridge/shared/sessionsync"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// sessionT0 is the start of every scenario's clock.
var sessionT0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// The rig's fixed names and ids.
const (
	rigToggleAction = "Omnibridge_ToggleUsers"
	rigClientID     = "omnibridge-test-client"
	rigClientSecret = "omnibridge-test-secret"
	rigSecretID     = "omnibridge/test/salesforce"
	rigOrgID        = "00D5e000000Hkp2EAC"
	// The catalog's Salesforce status ids, which the ServicePresenceStatus records carry too.
	rigAvailableID = "0N5xx0000004CSO"
	rigAwayID      = "0N5xx0000004D56"
	// rigSessionValid is NumSecondsValid of the sessions the rig starts, unless told otherwise.
	rigSessionValid = 2 * time.Hour
)

// rigClock is the scenario's settable clock.
type rigClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *rigClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *rigClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// rigTargets are the session targets a rig's config enables.
type rigTargets struct{ distribution, omni, connect bool }

var (
	allTargets       = rigTargets{distribution: true, omni: true, connect: true}
	distributionOnly = rigTargets{distribution: true}
)

// rigOptions configure a rig.
type rigOptions struct {
	targets rigTargets
	// pageSize is sfsim's query page size (0: Salesforce's 2,000).
	pageSize int
	// manualOverride is the session's manualOverride (default respect).
	manualOverride string
}

// sessionRig is one scenario's world.
type sessionRig struct {
	tb      testing.TB
	ctx     context.Context
	clock   *rigClock
	opts    rigOptions
	store   *dynamo.Store
	org     *sfsim.Org
	toggles *sfsim.ActionRecorder
	cn      *connectsim.Sim
	deps    *runtime.Deps
	// pollFn is the session-poll function's handler; webhook is the webhook's session processor.
	pollFn  PollHandler
	webhook sessionProcessor

	supportProfile, salesProfile string
	users                        map[string]*rigUser // by name
	names                        map[string]string   // user id → name
	seq                          int
}

// rigUser is one seeded Salesforce user and its Connect agent, if linked.
type rigUser struct {
	name, id, username string
	connectID          string
	sessions           []string // AuthSession ids
	presence           string   // the current UserServicePresence row's id
}

// newSessionRig builds the world: table and config, both simulators, and the handlers.
func newSessionRig(tb testing.TB, o rigOptions) *sessionRig {
	tb.Helper()
	ctx := context.Background()
	clock := &rigClock{now: sessionT0}
	r := &sessionRig{tb: tb, ctx: ctx, clock: clock, opts: o, users: map[string]*rigUser{}, names: map[string]string{}}

	r.org = sfsim.New(sfsim.Config{ClientID: rigClientID, ClientSecret: rigClientSecret, PageSize: o.pageSize,
		APILimit: 1 << 30, Now: clock.Now})
	r.toggles = sfsim.NewActionRecorder(config.DefaultUserIDField)
	r.org.RegisterAction(rigToggleAction, r.toggles.Handle)
	profiles, err := r.org.InsertMany("Profile", []map[string]any{{"Name": "Support Agent"}, {"Name": "Sales Agent"}})
	if err != nil {
		tb.Fatal(err)
	}
	r.supportProfile, r.salesProfile = profiles[0], profiles[1]
	if _, err := r.org.InsertMany("ServicePresenceStatus", []map[string]any{
		{"Id": rigAvailableID, "DeveloperName": "Available", "MasterLabel": "Available"},
		{"Id": rigAwayID, "DeveloperName": "Away", "MasterLabel": "Away"},
	}); err != nil {
		tb.Fatal(err)
	}
	sfSrv := httptest.NewServer(r.org)
	tb.Cleanup(sfSrv.Close)

	r.cn, err = connectsim.New(connectsim.Seed{AgentStatuses: []connectsim.SeedAgentStatus{
		{Name: "Available", Type: "ROUTABLE"}, {Name: "Offline", Type: "OFFLINE"},
	}}, connectsim.Options{Now: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	cnSrv := httptest.NewServer(r.cn)
	tb.Cleanup(cnSrv.Close)

	creds, err := json.Marshal(salesforce.Credentials{Flow: salesforce.FlowClientCredentials, LoginURL: sfSrv.URL,
		ClientID: rigClientID, ClientSecret: rigClientSecret})
	if err != nil {
		tb.Fatal(err)
	}
	r.deps = &runtime.Deps{
		Env:     runtime.Env{ConnectEndpoint: cnSrv.URL, ConnectInstanceID: r.cn.InstanceID(), SalesforceSecretARN: rigSecretID},
		Logger:  slog.New(slog.DiscardHandler),
		AWS:     dynamolocal.Config(),
		Secrets: secrets.Static{rigSecretID: creds},
		Now:     clock.Now,
	}
	r.newTable()
	return r
}

// newTable gives the rig a fresh table holding the config, and builds the handlers over it.
func (r *sessionRig) newTable() {
	r.tb.Helper()
	r.store = dynamotest.NewStore(r.tb).WithClock(r.clock.Now)
	if _, err := r.store.PutConfig(r.ctx, sessionConfigDoc(r.tb, r.opts), 0, "test"); err != nil {
		r.tb.Fatal(err)
	}
	r.deps.Env.Table, r.deps.Store = r.store.Table(), r.store
	var err error
	// The session-poll function's handler, built as functions/session-poll builds it.
	if r.pollFn, err = SessionPoll(r.ctx, r.deps); err != nil {
		r.tb.Fatal(err)
	}
	// The webhook's session processor, built as SalesforceWebhook builds it.
	svc, err := SessionService(r.ctx, r.deps)
	if err != nil {
		r.tb.Fatal(err)
	}
	r.webhook = sessionProcessor{svc}
}

// sessionConfigDoc is a config with a status catalog (Salesforce Available, Away and Offline;
// Connect Available and Offline), mappings for Available and Offline, users linked by Username,
// and the session section: relevant users are active Support Agents of the Support department.
func sessionConfigDoc(tb testing.TB, o rigOptions) config.Document {
	tb.Helper()
	targets := map[string]any{}
	if o.targets.distribution {
		targets["distribution"] = map[string]any{"enabled": true, "action": rigToggleAction}
	}
	if o.targets.omni {
		targets["omniChannel"] = map[string]any{"enabled": true, "onLoginStatus": "Available"}
	}
	if o.targets.connect {
		targets["connect"] = map[string]any{"enabled": true, "onLogoutStatus": "Offline"}
	}
	doc := map[string]any{
		"schemaVersion": config.SchemaVersion,
		"rules":         []any{},
		"statusMappings": []any{
			map[string]any{"salesforceStatus": "Available", "connectStatus": "Available", "toConnect": true, "toSalesforce": true},
			map[string]any{"salesforceStatus": "Offline", "connectStatus": "Offline", "toConnect": true, "toSalesforce": true},
		},
		"statusCatalog": map[string]any{
			"connect": []any{
				map[string]any{"name": "Available", "type": "ROUTABLE"},
				map[string]any{"name": "Offline", "type": "OFFLINE"},
			},
			"salesforce": []any{
				map[string]any{"id": "0", "developerName": "Offline", "label": "Offline", "hasChannels": false, "isOffline": true},
				map[string]any{"id": rigAvailableID, "developerName": "Available", "label": "Available", "hasChannels": true, "isOffline": false},
				map[string]any{"id": rigAwayID, "developerName": "Away", "label": "Away", "hasChannels": false, "isOffline": false},
			},
		},
		"settings": map[string]any{"whileOnContact": "defer", "identity": map[string]any{"salesforceField": "Username"},
			"auditRetentionDays": 90},
		"session": map[string]any{
			"enabled": true,
			"relevantUsers": map[string]any{
				"profiles": []string{"Support Agent"},
				"fields":   []any{map[string]any{"field": "Department", "equals": "Support"}},
			},
			"manualOverride": cmp.Or(o.manualOverride, config.ManualOverrideRespect),
			"targets":        targets,
		},
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	parsed, err := config.Parse(raw)
	if err != nil {
		tb.Fatalf("test config does not parse: %v", err)
	}
	if probs := config.Validate(parsed); len(probs) > 0 {
		tb.Fatalf("test config is invalid: %v", probs)
	}
	return parsed
}

// rigUserSpec describes users to seed.
type rigUserSpec struct {
	// relevant users are active Support Agents in Support; the others are Sales Agents in Sales.
	relevant bool
	// linked users have a Connect agent with the same username, logged in and Available.
	linked bool
}

// addUsers seeds users by name, with one InsertMany call.
func (r *sessionRig) addUsers(spec rigUserSpec, names ...string) []string {
	r.tb.Helper()
	recs := make([]map[string]any, len(names))
	for i, n := range names {
		profile, dept := r.supportProfile, "Support"
		if !spec.relevant {
			profile, dept = r.salesProfile, "Sales"
		}
		recs[i] = map[string]any{"Username": n + "@example.com", "Name": n, "IsActive": true, "ProfileId": profile, "Department": dept}
	}
	ids, err := r.org.InsertMany("User", recs)
	if err != nil {
		r.tb.Fatal(err)
	}
	for i, n := range names {
		u := &rigUser{name: n, id: ids[i], username: n + "@example.com"}
		if spec.linked {
			if u.connectID, err = r.cn.AddUser(connectsim.SeedUser{Username: u.username}); err != nil {
				r.tb.Fatal(err)
			}
			if err := r.cn.Login(u.connectID, "Available"); err != nil {
				r.tb.Fatal(err)
			}
		}
		r.users[n], r.names[ids[i]] = u, n
	}
	return ids
}

func (r *sessionRig) user(name string) *rigUser {
	r.tb.Helper()
	u := r.users[name]
	if u == nil {
		r.tb.Fatalf("no rig user %q", name)
	}
	return u
}

// at sets the clock to sessionT0 + d.
func (r *sessionRig) at(d time.Duration) time.Time {
	t := sessionT0.Add(d)
	r.clock.Set(t)
	return t
}

// startSession adds a UI/Application AuthSession for each user, last modified at lastModified and
// valid for valid (0: rigSessionValid).
func (r *sessionRig) startSession(lastModified time.Time, valid time.Duration, names ...string) {
	r.tb.Helper()
	valid = cmp.Or(valid, rigSessionValid)
	recs := make([]map[string]any, len(names))
	for i, n := range names {
		recs[i] = map[string]any{"UsersId": r.user(n).id, "SessionType": "UI", "LoginType": "Application",
			"NumSecondsValid": int(valid / time.Second), "LastModifiedDate": lastModified, "SessionSecurityLevel": "STANDARD"}
	}
	ids, err := r.org.InsertMany("AuthSession", recs)
	if err != nil {
		r.tb.Fatal(err)
	}
	for i, n := range names {
		u := r.users[n]
		u.sessions = append(u.sessions, ids[i])
	}
}

// endSessions deletes every AuthSession of the users, as a logout does.
func (r *sessionRig) endSessions(names ...string) {
	r.tb.Helper()
	var ids []string
	for _, n := range names {
		u := r.user(n)
		ids = append(ids, u.sessions...)
		u.sessions = nil
	}
	if len(ids) > 0 {
		if err := r.org.Delete(ids...); err != nil {
			r.tb.Fatal(err)
		}
	}
}

// setPresence records that the user's Omni-Channel status changed at t, as Salesforce does: the
// current UserServicePresence row ends (IsCurrentState false, StatusEndDate t) and, unless the
// status is Offline, a new current row starts. sfsim has no update from Go, so the ended row is
// re-inserted with its end.
func (r *sessionRig) setPresence(name, status string, t time.Time) {
	r.tb.Helper()
	u := r.user(name)
	if u.presence != "" {
		_, old, ok := r.org.Record(u.presence)
		if !ok {
			r.tb.Fatalf("presence row %s is gone", u.presence)
		}
		if err := r.org.Delete(u.presence); err != nil {
			r.tb.Fatal(err)
		}
		ended := map[string]any{"UserId": old["UserId"], "ServicePresenceStatusId": old["ServicePresenceStatusId"],
			"IsCurrentState": false, "StatusStartDate": old["StatusStartDate"], "StatusEndDate": t}
		if _, err := r.org.Insert("UserServicePresence", ended); err != nil {
			r.tb.Fatal(err)
		}
		u.presence = ""
	}
	ids := map[string]string{"Available": rigAvailableID, "Away": rigAwayID}
	if status == "Offline" {
		return
	}
	id, ok := ids[status]
	if !ok {
		r.tb.Fatalf("no presence status %q in the rig", status)
	}
	row, err := r.org.Insert("UserServicePresence", map[string]any{"UserId": u.id, "ServicePresenceStatusId": id,
		"IsCurrentState": true, "StatusStartDate": t, "StatusEndDate": nil})
	if err != nil {
		r.tb.Fatal(err)
	}
	u.presence = row
}

// send delivers one login or logout event of the user, dated at, through the webhook's decoder
// (contract v1 body) and session processor.
func (r *sessionRig) send(typ sfevents.SessionType, name string, at time.Time) string {
	r.tb.Helper()
	u := r.user(name)
	r.seq++
	ev := map[string]any{"type": typ, "eventId": fmt.Sprintf("%08d-0d1f-4a3b-8c5d-6e7f8a9b0c11", r.seq), "userId": u.id,
		"eventDate": at.UTC().Format("2006-01-02T15:04:05.000Z"), "username": u.username, "sessionLevel": "STANDARD"}
	if typ == sfevents.SessionLogin {
		ev["loginType"] = "Application"
	}
	body, err := json.Marshal(map[string]any{"schemaVersion": "1", "orgId": rigOrgID,
		"sentAt": r.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "events": []any{ev}})
	if err != nil {
		r.tb.Fatal(err)
	}
	batch, err := sfevents.DecodeSession(body)
	if err != nil {
		r.tb.Fatalf("session event does not decode: %v", err)
	}
	evs := batch.Events()
	if len(evs) != 1 {
		r.tb.Fatalf("decoded %d events, want 1", len(evs))
	}
	res, err := r.webhook.ProcessSession(r.ctx, evs[0])
	if err != nil {
		r.tb.Fatalf("ProcessSession(%s %s): %v", typ, name, err)
	}
	return res.Outcome
}

// poll runs the session-poll handler once.
func (r *sessionRig) poll() sessionsync.Report {
	r.tb.Helper()
	rep, err := r.pollFn(r.ctx, events.EventBridgeEvent{DetailType: "Scheduled Event", Source: "aws.events"})
	if err != nil {
		r.tb.Fatalf("poll: %v", err)
	}
	return rep
}

// state returns the user's stored session state; ok is false when none is stored.
func (r *sessionRig) state(name string) (session.State, bool) {
	r.tb.Helper()
	rec, err := r.store.GetSession(r.ctx, r.user(name).id)
	if apperr.Is(err, apperr.NotFound) {
		return session.State{}, false
	}
	if err != nil {
		r.tb.Fatal(err)
	}
	return rec.State, true
}

// audits returns the user's audit entries (subject user/<id>), oldest first.
func (r *sessionRig) audits(name string) []audit.Entry {
	r.tb.Helper()
	page, err := r.store.QueryAudit(r.ctx, audit.Query{Subject: audit.Subject(audit.KindUser, r.user(name).id), Limit: audit.MaxLimit})
	if err != nil {
		r.tb.Fatal(err)
	}
	slices.Reverse(page.Entries)
	return page.Entries
}

// toggle is one input of the distribution action.
type toggle struct {
	User   string
	Online bool
	Reason string
}

// toggleInputs returns the action inputs received since the recorder's last Reset, failed ones
// included, sorted.
func (r *sessionRig) toggleInputs() []toggle {
	out := r.toggleSequence()
	sortToggles(out)
	return out
}

// toggleSequence returns the action inputs received since the recorder's last Reset, failed
// ones included, in the order received.
func (r *sessionRig) toggleSequence() []toggle {
	var out []toggle
	for _, in := range r.toggles.Inputs() {
		id, _ := in[config.DefaultUserIDField].(string)
		online, _ := in[config.DefaultOnlineField].(bool)
		reason, _ := in[config.DefaultReasonField].(string)
		name, ok := r.names[id]
		if !ok {
			name = "?" + id
		}
		out = append(out, toggle{name, online, reason})
	}
	return out
}

func sortToggles(ts []toggle) {
	slices.SortFunc(ts, func(a, b toggle) int {
		return cmp.Or(strings.Compare(a.User, b.User), strings.Compare(a.Reason, b.Reason))
	})
}

// omniCommands returns the StatusId__c of every presence command published for the user since
// the event log was last cleared.
func (r *sessionRig) omniCommands(name string) []string {
	r.tb.Helper()
	id := r.user(name).id
	var out []string
	for _, e := range r.org.Events() {
		if e.Type == engine.PresenceCommandEvent && e.Fields[engine.FieldUserID] == id {
			s, _ := e.Fields[engine.FieldStatusID].(string)
			out = append(out, s)
		}
	}
	return out
}

// connectStatus returns the linked agent's current Connect status.
func (r *sessionRig) connectStatus(name string) string {
	r.tb.Helper()
	a, err := r.cn.Agent(r.user(name).connectID)
	if err != nil {
		r.tb.Fatal(err)
	}
	return a.Status()
}

// resetCounters forgets the simulators' calls, the action inputs and the event log.
func (r *sessionRig) resetCounters() {
	r.org.Reset()
	r.org.ClearEvents()
	r.toggles.Reset()
}

// auditKey identifies an audit entry (a rewrite of the same entry is not a new one).
func auditKey(e audit.Entry) string { return e.Time.UTC().Format(time.RFC3339Nano) + "#" + e.ID }

// newAudits returns the entries of after that are not in before.
func newAudits(before, after []audit.Entry) []audit.Entry {
	seen := map[string]bool{}
	for _, e := range before {
		seen[auditKey(e)] = true
	}
	var out []audit.Entry
	for _, e := range after {
		if !seen[auditKey(e)] {
			out = append(out, e)
		}
	}
	return out
}

func outcomes(es []audit.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Outcome
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// wantState is what a step expects of the main user's stored state.
type wantState struct {
	active    bool
	available *bool
	manualOff bool
	// presenceAvailable is checked when set.
	presenceAvailable *bool
}

// sessionStep is one thing that happens in a scenario, and what must follow.
type sessionStep struct {
	name string
	// at is the clock, as an offset from sessionT0, while the step runs.
	at time.Duration
	// org changes the org (sessions, presence) before the event or poll.
	org func(r *sessionRig)
	// event, when set, is sent through the webhook (dated eventAt, default the step's time);
	// otherwise the step runs the poll.
	event   sfevents.SessionType
	eventAt time.Duration

	// outcome is the webhook result's outcome (event steps).
	outcome session.Outcome
	// toggles are exactly the distribution inputs the step sends.
	toggles []toggle
	// audits are the outcomes of the new audit entries of the main user, in order.
	audits []string
	// reason, when set, must be the "reason" detail of the step's last new audit entry.
	reason string
	// omni are exactly the presence commands (StatusId__c) published for the main user.
	omni []string
	// state is the main user's stored state after the step; nil means none stored.
	state *wantState
	// connect, when set, is the main user's Connect status after the step.
	connect string
	// report checks the poll's report.
	report func(t *testing.T, rep sessionsync.Report)
}

// TestSessionScenarios runs each scenario's steps in order on a fresh rig. The main user is ana,
// a relevant user linked to a Connect agent.
func TestSessionScenarios(t *testing.T) {
	const (
		loggedIn  = config.DefaultReasonLoggedIn
		loggedOut = config.DefaultReasonLoggedOut
		noSession = config.DefaultReasonNoSession
		minute    = time.Minute
	)
	on, off := ptr(true), ptr(false)
	noToggles := []toggle(nil)
	login := func(at time.Duration, names ...string) func(r *sessionRig) {
		return func(r *sessionRig) { r.startSession(sessionT0.Add(at), 0, names...) }
	}
	scenarios := []struct {
		name           string
		targets        rigTargets
		manualOverride string
		steps          []sessionStep
	}{
		{
			name: "login event switches on; the poll after it sends nothing", targets: allTargets,
			steps: []sessionStep{
				{name: "login event", at: 1 * minute, org: login(1*minute, "ana"), event: sfevents.SessionLogin,
					outcome: session.OutcomeToggledOn, toggles: []toggle{{"ana", true, loggedIn}},
					audits: []string{"toggled-on"}, reason: loggedIn, omni: []string{rigAvailableID},
					state: &wantState{active: true, available: on}, connect: "Available"},
				{name: "poll confirms", at: 3 * minute, toggles: noToggles,
					state: &wantState{active: true, available: on},
					report: func(t *testing.T, rep sessionsync.Report) {
						if rep.ActiveUsers != 1 || rep.ToggledOn+rep.ToggledOff+rep.Delivered.ToggleCalls != 0 {
							t.Errorf("report %+v: want 1 active user and nothing toggled", rep)
						}
					}},
				{name: "login event repeated after the poll changes nothing", at: 4 * minute, event: sfevents.SessionLogin,
					outcome: session.OutcomeUnchanged, toggles: noToggles, state: &wantState{active: true, available: on}},
			},
		},
		{
			name: "manual switch-off while logged in is respected", targets: rigTargets{distribution: true, omni: true},
			steps: []sessionStep{
				{name: "login event", at: 1 * minute, org: login(1*minute, "ana"), event: sfevents.SessionLogin,
					outcome: session.OutcomeToggledOn, toggles: []toggle{{"ana", true, loggedIn}}, audits: []string{"toggled-on"},
					omni: []string{rigAvailableID}, state: &wantState{active: true, available: on}},
				{name: "poll sees Omni-Channel Available", at: 3 * minute,
					org:     func(r *sessionRig) { r.setPresence("ana", "Available", sessionT0.Add(2*minute)) },
					toggles: noToggles, state: &wantState{active: true, available: on, presenceAvailable: on}},
				{name: "poll sees the user switch to Away: left off", at: 6 * minute,
					org:     func(r *sessionRig) { r.setPresence("ana", "Away", sessionT0.Add(5*minute)) },
					toggles: noToggles, audits: []string{"left-off"}, reason: session.ReasonLeftOff,
					state: &wantState{active: true, available: on, manualOff: true, presenceAvailable: off},
					report: func(t *testing.T, rep sessionsync.Report) {
						if rep.LeftOff != 1 || rep.Delivered.ToggleCalls != 0 {
							t.Errorf("report %+v: want 1 left off and no toggle call", rep)
						}
					}},
				{name: "next poll leaves the user off", at: 8 * minute, toggles: noToggles,
					state: &wantState{active: true, available: on, manualOff: true, presenceAvailable: off}},
			},
		},
		{
			name: "manual switch-off is overridden once with manualOverride reassert", targets: rigTargets{distribution: true, omni: true},
			manualOverride: config.ManualOverrideReassert,
			steps: []sessionStep{
				{name: "login event", at: 1 * minute, org: login(1*minute, "ana"), event: sfevents.SessionLogin,
					outcome: session.OutcomeToggledOn, toggles: []toggle{{"ana", true, loggedIn}}, audits: []string{"toggled-on"},
					omni: []string{rigAvailableID}, state: &wantState{active: true, available: on}},
				{name: "poll sees Omni-Channel Available", at: 3 * minute,
					org:     func(r *sessionRig) { r.setPresence("ana", "Available", sessionT0.Add(2*minute)) },
					toggles: noToggles, state: &wantState{active: true, available: on, presenceAvailable: on}},
				{name: "poll sees the user switch to Away: switched back on", at: 6 * minute,
					org:     func(r *sessionRig) { r.setPresence("ana", "Away", sessionT0.Add(5*minute)) },
					toggles: []toggle{{"ana", true, loggedIn + session.ReasonReassertedSuffix}}, audits: []string{"reasserted"},
					reason: loggedIn + session.ReasonReassertedSuffix, omni: []string{rigAvailableID},
					state: &wantState{active: true, available: on, presenceAvailable: off}},
				{name: "next poll, still Away, does not insist", at: 8 * minute, toggles: noToggles,
					state: &wantState{active: true, available: on, presenceAvailable: off}},
			},
		},
		{
			name: "logout event switches off at once; the poll confirms with no action call", targets: allTargets,
			steps: []sessionStep{
				{name: "login event", at: 1 * minute, org: login(1*minute, "ana"), event: sfevents.SessionLogin,
					outcome: session.OutcomeToggledOn, toggles: []toggle{{"ana", true, loggedIn}}, audits: []string{"toggled-on"},
					omni: []string{rigAvailableID}, state: &wantState{active: true, available: on}, connect: "Available"},
				{name: "logout event", at: 10 * minute, org: func(r *sessionRig) { r.endSessions("ana") }, event: sfevents.SessionLogout,
					outcome: session.OutcomeToggledOff, toggles: []toggle{{"ana", false, loggedOut}}, audits: []string{"toggled-off"},
					reason: loggedOut, state: &wantState{active: false, available: off},
					connect: "Offline"},
				{name: "poll confirms", at: 12 * minute, toggles: noToggles, state: &wantState{active: false, available: off},
					connect: "Offline",
					report: func(t *testing.T, rep sessionsync.Report) {
						if rep.ActiveUsers != 0 || rep.StoredUsers != 1 || rep.ToggledOff != 0 {
							t.Errorf("report %+v: want no active user, 1 stored and nothing toggled", rep)
						}
					}},
			},
		},
		{
			name: "a delayed logout older than the poll is stale; a newer logout applies", targets: allTargets,
			steps: []sessionStep{
				{name: "login event", at: 1 * minute, org: login(1*minute, "ana"), event: sfevents.SessionLogin,
					outcome: session.OutcomeToggledOn, toggles: []toggle{{"ana", true, loggedIn}}, audits: []string{"toggled-on"},
					omni: []string{rigAvailableID}, state: &wantState{active: true, available: on}},
				{name: "poll sees the session the user opened after a logout whose event is late", at: 7 * minute,
					org: func(r *sessionRig) {
						r.endSessions("ana")                              // logged out at 5m (event delayed)
						r.startSession(sessionT0.Add(6*minute), 0, "ana") // logged in again at 6m
					},
					toggles: noToggles, state: &wantState{active: true, available: on}},
				{name: "the late logout from before the poll is stale", at: 8 * minute, event: sfevents.SessionLogout, eventAt: 5 * minute,
					outcome: session.OutcomeStale, toggles: noToggles, audits: []string{"stale"},
					state: &wantState{active: true, available: on}, connect: "Available"},
				{name: "a newer logout applies", at: 9 * minute, org: func(r *sessionRig) { r.endSessions("ana") },
					event: sfevents.SessionLogout, outcome: session.OutcomeToggledOff, toggles: []toggle{{"ana", false, loggedOut}},
					audits: []string{"toggled-off"},
					state:  &wantState{active: false, available: off}, connect: "Offline"},
			},
		},
		{
			name: "a poll before a late logout switches off; the late logout is stale", targets: distributionOnly,
			steps: []sessionStep{
				{name: "login event", at: 1 * minute, org: login(1*minute, "ana"), event: sfevents.SessionLogin,
					outcome: session.OutcomeToggledOn, toggles: []toggle{{"ana", true, loggedIn}}, audits: []string{"toggled-on"},
					state: &wantState{active: true, available: on}},
				{name: "poll finds no session", at: 7 * minute, org: func(r *sessionRig) { r.endSessions("ana") },
					toggles: []toggle{{"ana", false, noSession}}, audits: []string{"toggled-off"}, reason: noSession,
					state: &wantState{active: false, available: off}},
				{name: "the logout event from before the poll is stale", at: 8 * minute, event: sfevents.SessionLogout, eventAt: 5 * minute,
					outcome: session.OutcomeStale, toggles: noToggles, audits: []string{"stale"},
					state: &wantState{active: false, available: off}},
			},
		},
		{
			name: "an expired session without a logout event is switched off by the poll", targets: allTargets,
			steps: []sessionStep{
				{name: "login event", at: 1 * minute,
					org:   func(r *sessionRig) { r.startSession(sessionT0.Add(1*minute), 10*minute, "ana") },
					event: sfevents.SessionLogin, outcome: session.OutcomeToggledOn, toggles: []toggle{{"ana", true, loggedIn}},
					audits: []string{"toggled-on"}, omni: []string{rigAvailableID}, state: &wantState{active: true, available: on}},
				{name: "poll while the session is valid", at: 10 * minute, toggles: noToggles,
					state: &wantState{active: true, available: on}},
				{name: "poll after LastModifiedDate + NumSecondsValid", at: 12 * minute,
					toggles: []toggle{{"ana", false, noSession}}, audits: []string{"toggled-off"}, reason: noSession,
					state: &wantState{active: false, available: off}, connect: "Offline",
					report: func(t *testing.T, rep sessionsync.Report) {
						if rep.SessionRows != 1 || rep.ActiveUsers != 0 || rep.ToggledOff != 1 {
							t.Errorf("report %+v: want 1 expired session row, no active user, 1 toggled off", rep)
						}
					}},
			},
		},
		{
			name: "a user who leaves the relevant set while logged in is let go without a toggle", targets: distributionOnly,
			steps: []sessionStep{
				{name: "login event", at: 1 * minute, org: login(1*minute, "ana"), event: sfevents.SessionLogin,
					outcome: session.OutcomeToggledOn, toggles: []toggle{{"ana", true, loggedIn}}, audits: []string{"toggled-on"},
					state: &wantState{active: true, available: on}},
				{name: "poll after the user moved to Sales", at: 5 * minute,
					org: func(r *sessionRig) {
						u := r.user("ana")
						if err := r.org.Delete(u.id); err != nil {
							r.tb.Fatal(err)
						}
						if _, err := r.org.Insert("User", map[string]any{"Id": u.id, "Username": u.username, "IsActive": true,
							"ProfileId": r.supportProfile, "Department": "Sales"}); err != nil {
							r.tb.Fatal(err)
						}
					},
					toggles: noToggles, audits: []string{string(sessionsync.OutcomeNotRelevant)},
					state: &wantState{active: false, available: on},
					report: func(t *testing.T, rep sessionsync.Report) {
						if rep.NotRelevant != 1 || rep.ToggledOff != 0 {
							t.Errorf("report %+v: want 1 not relevant and nothing toggled", rep)
						}
					}},
				{name: "later polls leave the user alone", at: 7 * minute, toggles: noToggles,
					state: &wantState{active: false, available: on}},
			},
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			r := newSessionRig(t, rigOptions{targets: sc.targets, manualOverride: sc.manualOverride})
			r.addUsers(rigUserSpec{relevant: true, linked: true}, "ana")
			for _, st := range sc.steps {
				t.Run(st.name, func(t *testing.T) {
					runSessionStep(t, r, st)
				})
				if t.Failed() {
					return // later steps build on this one
				}
			}
		})
	}
}

// runSessionStep runs one step on r and checks its expectations.
func runSessionStep(t *testing.T, r *sessionRig, st sessionStep) {
	r.tb = t
	now := r.at(st.at)
	if st.org != nil {
		st.org(r)
	}
	before := r.audits("ana")
	r.resetCounters()
	var rep sessionsync.Report
	if st.event != "" {
		at := now
		if st.eventAt != 0 {
			at = sessionT0.Add(st.eventAt)
		}
		if got := r.send(st.event, "ana", at); got != string(st.outcome) {
			t.Errorf("webhook outcome %q, want %q", got, st.outcome)
		}
	} else {
		rep = r.poll()
		if st.report != nil {
			st.report(t, rep)
		}
	}

	if got := r.toggleInputs(); !slices.Equal(got, st.toggles) {
		t.Errorf("toggles %+v, want %+v", got, st.toggles)
	}
	wantCalls := 0
	if len(st.toggles) > 0 {
		wantCalls = 1
	}
	if got := r.org.Calls(sfsim.KindAction); got != wantCalls {
		t.Errorf("%d invocable action calls, want %d", got, wantCalls)
	}
	added := newAudits(before, r.audits("ana"))
	if got := outcomes(added); !slices.Equal(got, st.audits) {
		t.Errorf("new audit outcomes %q, want %q; entries %+v", got, st.audits, added)
	}
	if st.reason != "" && len(added) > 0 {
		if got, _ := added[len(added)-1].Details["reason"].(string); got != st.reason {
			t.Errorf("audit reason %q, want %q (%s)", got, st.reason, added[len(added)-1].Message)
		}
	}
	if got := r.omniCommands("ana"); !slices.Equal(got, st.omni) {
		t.Errorf("Omni-Channel commands %q, want %q", got, st.omni)
	}
	if st.connect != "" {
		if got := r.connectStatus("ana"); got != st.connect {
			t.Errorf("Connect status %q, want %q", got, st.connect)
		}
	}
	s, ok := r.state("ana")
	switch {
	case st.state == nil && ok:
		t.Errorf("state stored: %+v", s)
	case st.state != nil && !ok:
		t.Errorf("no state stored")
	case st.state != nil:
		w := st.state
		if s.Active != w.active || !samePtr(s.Available, w.available) || s.ManualOff != w.manualOff ||
			(w.presenceAvailable != nil && !samePtr(s.PresenceAvailable, w.presenceAvailable)) {
			t.Errorf("state %s, want %s", stateString(s), w)
		}
		if len(s.Retry) != 0 {
			t.Errorf("retries left: %+v", s.Retry)
		}
	}
}

func (w *wantState) String() string {
	b := func(p *bool) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("{active %v, available %s, manualOff %v, presenceAvailable %s}", w.active, b(w.available), w.manualOff, b(w.presenceAvailable))
}

func samePtr[T comparable](a, b *T) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func stateString(s session.State) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestSessionNotRelevant checks that a user outside the relevant set is audited and never
// toggled, whatever reaches the bridge.
func TestSessionNotRelevant(t *testing.T) {
	r := newSessionRig(t, rigOptions{targets: allTargets})
	r.addUsers(rigUserSpec{relevant: true, linked: true}, "ana")
	r.addUsers(rigUserSpec{linked: true}, "sam")
	tests := []struct {
		name    string
		at      time.Duration
		do      func(r *sessionRig)
		outcome string
		audits  []string
	}{
		{"login event", 1 * time.Minute, func(r *sessionRig) {
			r.startSession(sessionT0.Add(time.Minute), 0, "sam", "ana")
		}, string(sessionsync.OutcomeNotRelevant), []string{string(sessionsync.OutcomeNotRelevant)}},
		{"poll with the session open", 3 * time.Minute, nil, "", nil},
		{"logout event", 5 * time.Minute, func(r *sessionRig) { r.endSessions("sam") },
			string(sessionsync.OutcomeNotRelevant), []string{string(sessionsync.OutcomeNotRelevant)}},
		{"poll after the logout", 7 * time.Minute, nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.tb = t
			now := r.at(tt.at)
			if tt.do != nil {
				tt.do(r)
			}
			before := r.audits("sam")
			r.resetCounters()
			if tt.outcome != "" {
				typ := sfevents.SessionLogin
				if strings.HasPrefix(tt.name, "logout") {
					typ = sfevents.SessionLogout
				}
				if got := r.send(typ, "sam", now); got != tt.outcome {
					t.Errorf("outcome %q, want %q", got, tt.outcome)
				}
			} else {
				rep := r.poll()
				if rep.SessionRows != 1 || rep.ActiveUsers != 1 {
					t.Errorf("report %+v: want only ana's session read", rep)
				}
			}
			for _, tg := range r.toggleInputs() {
				if tg.User == "sam" {
					t.Errorf("sam toggled: %+v", tg)
				}
			}
			if got := r.omniCommands("sam"); len(got) > 0 {
				t.Errorf("Omni-Channel commands for sam: %q", got)
			}
			if got := outcomes(newAudits(before, r.audits("sam"))); !slices.Equal(got, tt.audits) {
				t.Errorf("new audit outcomes %q, want %q", got, tt.audits)
			}
			if s, ok := r.state("sam"); ok {
				t.Errorf("state stored for sam: %s", stateString(s))
			}
			if got := r.connectStatus("sam"); got != "Available" {
				t.Errorf("sam's Connect status %q, want Available (untouched)", got)
			}
		})
	}
}

// TestSessionDeliveryRetry checks that failed deliveries to the invocable action are kept and
// retried by the next run, and that the others are not sent again.
func TestSessionDeliveryRetry(t *testing.T) {
	const loggedIn = config.DefaultReasonLoggedIn
	rowLock := sfsim.Error{Code: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record"}
	tests := []struct {
		name string
		// breakIt makes the first run's delivery fail; fix undoes it.
		breakIt, fix func(r *sessionRig)
		// first are the inputs of the first run; failed the users whose input did not land.
		first  []toggle
		failed []string
	}{
		{
			name:    "one input rejected",
			breakIt: func(r *sessionRig) { r.toggles.Fail(rowLock, r.user("ben").id) },
			fix:     func(r *sessionRig) { r.toggles.Succeed() },
			first:   []toggle{{"ana", true, loggedIn}, {"ben", true, loggedIn}, {"cid", true, loggedIn}},
			failed:  []string{"ben"},
		},
		{
			name:    "every input rejected (HTTP 400)",
			breakIt: func(r *sessionRig) { r.toggles.Fail(rowLock, r.user("ana").id, r.user("ben").id, r.user("cid").id) },
			fix:     func(r *sessionRig) { r.toggles.Succeed() },
			first:   []toggle{{"ana", true, loggedIn}, {"ben", true, loggedIn}, {"cid", true, loggedIn}},
			failed:  []string{"ana", "ben", "cid"},
		},
		{
			name: "the whole call fails (HTTP 500)",
			breakIt: func(r *sessionRig) {
				r.org.AddRule(sfsim.Rule{Kind: sfsim.KindAction, Fault: sfsim.FaultServerError, Times: 1})
			},
			fix:    func(r *sessionRig) { r.org.ClearRules() },
			first:  nil, // the request never reached the action
			failed: []string{"ana", "ben", "cid"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSessionRig(t, rigOptions{targets: distributionOnly})
			names := []string{"ana", "ben", "cid"}
			r.addUsers(rigUserSpec{relevant: true}, names...)
			r.startSession(sessionT0, 0, names...)
			tt.breakIt(r)

			r.at(time.Minute)
			rep := r.poll()
			if rep.ToggledOn != 3 || rep.Delivered.Failed != len(tt.failed) || rep.Delivered.Toggled != 3-len(tt.failed) {
				t.Errorf("first run report %+v: want 3 toggled on, %d failed", rep, len(tt.failed))
			}
			if got := r.toggleInputs(); !slices.Equal(got, tt.first) {
				t.Errorf("first run inputs %+v, want %+v", got, tt.first)
			}
			for _, n := range names {
				s, _ := r.state(n)
				wantRetry := slices.Contains(tt.failed, n)
				if (len(s.Retry) == 1) != wantRetry || (wantRetry && s.Retry[0].Attempts != 1) {
					t.Errorf("%s: retry %+v, want kept with 1 attempt: %v", n, s.Retry, wantRetry)
				}
				if got := outcomes(r.audits(n)); slices.Contains(got, "delivery-failed") != wantRetry {
					t.Errorf("%s: audit outcomes %q; delivery-failed expected: %v", n, got, wantRetry)
				}
			}

			tt.fix(r)
			r.resetCounters()
			r.at(6 * time.Minute)
			rep = r.poll()
			var want []toggle
			for _, n := range tt.failed {
				want = append(want, toggle{n, true, loggedIn})
			}
			if got := r.toggleInputs(); !slices.Equal(got, want) {
				t.Errorf("second run inputs %+v, want only the retries %+v", got, want)
			}
			if got := r.org.Calls(sfsim.KindAction); got != 1 {
				t.Errorf("second run: %d action calls, want 1", got)
			}
			if rep.ToggledOn != 0 || rep.Delivered.Toggled != len(tt.failed) || rep.Delivered.Failed != 0 {
				t.Errorf("second run report %+v: want %d retries delivered and nothing new", rep, len(tt.failed))
			}
			for _, n := range names {
				if s, _ := r.state(n); len(s.Retry) != 0 || !s.Active || !samePtr(s.Available, ptr(true)) {
					t.Errorf("%s after the retry: %s", n, stateString(s))
				}
			}

			r.resetCounters()
			r.at(11 * time.Minute)
			r.poll()
			if got := r.org.Calls(sfsim.KindAction); got != 0 {
				t.Errorf("third run: %d action calls, want none", got)
			}
		})
	}
}

// TestSessionLogoutRetry: a logout's switch-off that the action rejects stays with the logged-out
// user's state, and the poll delivers it although the user has no session left.
func TestSessionLogoutRetry(t *testing.T) {
	r := newSessionRig(t, rigOptions{targets: distributionOnly})
	r.addUsers(rigUserSpec{relevant: true}, "ana", "ben")
	r.startSession(sessionT0, 0, "ana", "ben")
	r.at(time.Minute)
	r.poll() // both switched on
	off := toggle{"ana", false, config.DefaultReasonLoggedOut}
	steps := []struct {
		name      string
		at        time.Duration
		do        func()
		want      []toggle
		wantRetry int
	}{
		{"logout event; the switch-off is rejected", 3 * time.Minute, func() {
			r.toggles.Fail(sfsim.Error{Code: "UNABLE_TO_LOCK_ROW", Message: "locked"}, r.user("ana").id)
			r.endSessions("ana")
			if got := r.send(sfevents.SessionLogout, "ana", r.clock.Now()); got != string(session.OutcomeToggledOff) {
				t.Errorf("logout outcome %q", got)
			}
		}, []toggle{off}, 1},
		{"poll while it is still rejected", 6 * time.Minute, func() { r.poll() }, []toggle{off}, 1},
		{"poll after the fix delivers it", 11 * time.Minute, func() { r.toggles.Succeed(); r.poll() }, []toggle{off}, 0},
		{"poll after that sends nothing", 16 * time.Minute, func() { r.poll() }, nil, 0},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r.tb = t
			r.at(st.at)
			r.resetCounters()
			st.do()
			if got := r.toggleInputs(); !slices.Equal(got, st.want) {
				t.Errorf("inputs %+v, want %+v", got, st.want)
			}
			s, _ := r.state("ana")
			if s.Active || len(s.Retry) != st.wantRetry || (st.wantRetry > 0 && s.Retry[0].Attempts != i+1) {
				t.Errorf("state %s: want logged out with %d retries after %d attempts", stateString(s), st.wantRetry, i+1)
			}
		})
	}
}

// TestSessionManualOffDropsPendingOnRetry: a user whose switch-on keeps failing and who then
// switches themselves off must not be switched on by the stored retry (Decide drops it; the poll
// must not deliver the retry list it read before the decision).
func TestSessionManualOffDropsPendingOnRetry(t *testing.T) {
	r := newSessionRig(t, rigOptions{targets: distributionOnly})
	r.addUsers(rigUserSpec{relevant: true}, "ana")
	r.toggles.Fail(sfsim.Error{Code: "UNABLE_TO_LOCK_ROW", Message: "locked"}, r.user("ana").id)
	steps := []struct {
		name      string
		at        time.Duration
		org       func()
		wantSent  int
		wantRetry int
		manualOff bool
	}{
		{"login event; the toggle fails", time.Minute, func() { r.startSession(sessionT0.Add(time.Minute), 0, "ana") }, 1, 1, false},
		{"poll sees Available; the retry fails again", 3 * time.Minute,
			func() { r.setPresence("ana", "Available", sessionT0.Add(2*time.Minute)) }, 1, 1, false},
		{"poll sees Away: left off, the pending switch-on dropped unsent", 6 * time.Minute,
			func() { r.setPresence("ana", "Away", sessionT0.Add(5*time.Minute)) }, 0, 0, true},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r.tb = t
			r.at(st.at)
			st.org()
			r.resetCounters()
			if i == 0 {
				if got := r.send(sfevents.SessionLogin, "ana", r.clock.Now()); got != string(session.OutcomeToggledOn) {
					t.Fatalf("login outcome %q", got)
				}
			} else {
				r.poll()
			}
			if got := len(r.toggleInputs()); got != st.wantSent {
				t.Errorf("%d toggle inputs sent (%+v), want %d", got, r.toggleInputs(), st.wantSent)
			}
			s, _ := r.state("ana")
			if len(s.Retry) != st.wantRetry || s.ManualOff != st.manualOff {
				t.Errorf("state %s: want %d retries, manualOff %v", stateString(s), st.wantRetry, st.manualOff)
			}
		})
	}
}

// TestSessionPollCallCount checks the poll's API cost on an org of 1,000 relevant users (and 200
// outside the relevant set) with 1% churn between two polls: the second poll makes exactly its
// query pages plus ceil(changes/200) invocable action calls, and nothing else.
func TestSessionPollCallCount(t *testing.T) {
	const (
		relevant  = 1000
		outsiders = 200
		pageSize  = 300 // sfsim's page size, small so that the session query takes several pages
		churn     = relevant / 100
	)
	r := newSessionRig(t, rigOptions{targets: distributionOnly, pageSize: pageSize})
	names := make([]string, relevant)
	for i := range names {
		names[i] = fmt.Sprintf("agent%04d", i)
	}
	r.addUsers(rigUserSpec{relevant: true}, names...)
	outside := make([]string, outsiders)
	for i := range outside {
		outside[i] = fmt.Sprintf("sales%04d", i)
	}
	r.addUsers(rigUserSpec{}, outside...)
	// 95% of the relevant users and every outsider are logged in.
	var loggedIn, loggedOut []string
	for i, n := range names {
		if i%20 == 19 {
			loggedOut = append(loggedOut, n)
		} else {
			loggedIn = append(loggedIn, n)
		}
	}
	r.startSession(sessionT0, 0, loggedIn...)
	r.startSession(sessionT0, 0, outside...)
	// A few agents went Available in Omni-Channel within the poll's presence lookback; none is
	// linked to a Connect agent, so the first poll resolves (and caches) their identity links:
	// one User query and one Connect SearchUsers each. Five stay within the Connect client's
	// burst, so the test does not wait for its 2 req/s limiter.
	presenceRows := loggedIn[100:105]
	for _, n := range presenceRows {
		r.setPresence(n, "Available", sessionT0.Add(30*time.Second))
	}

	r.at(time.Minute)
	first := r.poll()
	if first.ToggledOn != len(loggedIn) || first.Delivered.ToggleCalls != ceilDiv(len(loggedIn), sessionsync.MaxToggleBatch) {
		t.Fatalf("first poll report %+v: want %d switched on in %d calls", first, len(loggedIn), ceilDiv(len(loggedIn), sessionsync.MaxToggleBatch))
	}

	// 1% churn: half the changes are logouts (sessions deleted, no event), half logins.
	ins, outs := loggedOut[:churn/2], loggedIn[:churn-churn/2]
	r.endSessions(outs...)
	r.startSession(sessionT0.Add(4*time.Minute), 0, ins...)
	r.resetCounters()
	r.at(6 * time.Minute)
	rep := r.poll()

	sessionRows := len(loggedIn) - len(outs) + len(ins) // outsiders' rows are filtered by the semi-join
	changes := len(ins) + len(outs)
	wantQueries := ceilDiv(sessionRows, pageSize) + // AuthSession pages
		max(1, ceilDiv(len(presenceRows), pageSize)) + // UserServicePresence pages (an empty result is a page too)
		ceilDiv(len(outs), sessionsync.MaxToggleBatch) // relevance checks of users whose session is gone
	wantActions := ceilDiv(changes, sessionsync.MaxToggleBatch)
	if rep.SessionRows != sessionRows || rep.ToggledOn != len(ins) || rep.ToggledOff != len(outs) ||
		rep.PresenceRows != len(presenceRows) || rep.PresenceEvents != len(presenceRows) {
		t.Errorf("report %+v: want %d session rows, %d on, %d off, %d presence rows fed to the engine",
			rep, sessionRows, len(ins), len(outs), len(presenceRows))
	}
	calls := map[sfsim.Kind]int{}
	for _, req := range r.org.Requests() {
		calls[req.Kind]++
	}
	// Token requests are not API calls (Salesforce does not count them against the allocation,
	// nor does sfsim's APIUsage); the client reuses its token here, so there are none anyway.
	if calls[sfsim.KindToken] != 0 {
		t.Errorf("%d token requests during the second poll, want 0 (the token is reused)", calls[sfsim.KindToken])
	}
	delete(calls, sfsim.KindToken)
	want := map[sfsim.Kind]int{sfsim.KindQuery: wantQueries, sfsim.KindAction: wantActions}
	if !maps.Equal(calls, want) {
		t.Errorf("second poll calls by kind %v, want %v (%d session rows, %d changes)", calls, want, sessionRows, changes)
	}
	if got := r.org.APIUsage(); got != wantQueries+wantActions {
		t.Errorf("API usage %d, want %d query pages + %d action calls", got, wantQueries, wantActions)
	}
	if got := len(r.toggleInputs()); got != changes {
		t.Errorf("%d toggle inputs, want %d", got, changes)
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// hookOrg runs a hook before the first Toggle call, to interleave another writer between a
// decision and its delivery.
type hookOrg struct {
	sessionsync.Org
	once         *sync.Once
	beforeToggle func()
}

func (h hookOrg) Toggle(ctx context.Context, t config.DistributionTarget, actions []session.Action) ([]error, error) {
	h.once.Do(h.beforeToggle)
	return h.Org.Toggle(ctx, t, actions)
}

// TestSessionStaleDeliveryCorrected: the poll decides to switch a user on and, before its
// toggle call goes out, the user's logout event is decided and delivered by the webhook. The
// poll's switch-on then lands after the switch-off. The target must end up off: the poll, whose
// settle write finds the newer state, queues the newer state's availability again, and the next
// run sends it.
func TestSessionStaleDeliveryCorrected(t *testing.T) {
	r := newSessionRig(t, rigOptions{targets: allTargets})
	r.addUsers(rigUserSpec{relevant: true, linked: true}, "ana")
	r.startSession(sessionT0, 0, "ana") // logged in; the login event was lost

	creds, err := r.deps.Secrets.SecretValue(r.ctx, rigSecretID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := salesforce.ParseCredentials(creds)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := salesforce.New(c, salesforce.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engineWith(r.deps, sf)
	if err != nil {
		t.Fatal(err)
	}
	logout := func() {
		r.endSessions("ana")
		if got := r.send(sfevents.SessionLogout, "ana", r.clock.Now().Add(time.Second)); got != string(session.OutcomeToggledOff) {
			t.Errorf("logout outcome %q, want toggled-off", got)
		}
	}
	svc, err := sessionsync.New(sessionsync.Deps{Store: r.store, Configs: engine.NewConfigSource(r.store, ConfigRefresh),
		Org: hookOrg{Org: sessionOrg{sf}, once: new(sync.Once), beforeToggle: logout}, Presence: eng, Publisher: presencePublisher{sf}},
		sessionsync.Options{Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}

	lastSent := func() toggle {
		seq := r.toggleSequence()
		if len(seq) == 0 {
			return toggle{}
		}
		return seq[len(seq)-1]
	}
	r.at(time.Minute)
	rep, err := svc.Poll(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Omni-Channel went the same way: the poll's Available command was published after the
	// logout's Offline.
	if got := r.omniCommands("ana"); len(got) == 0 || got[len(got)-1] != rigAvailableID {
		t.Fatalf("Omni-Channel commands %q: want the poll's Available last", got)
	}
	if got, want := r.toggleSequence(), []toggle{{"ana", false, config.DefaultReasonLoggedOut}, {"ana", true, config.DefaultReasonLoggedIn}}; !slices.Equal(got, want) {
		t.Fatalf("inputs %+v, want the webhook's switch-off and then the poll's switch-on %+v", got, want)
	}
	if got := lastSent(); !got.Online {
		t.Fatalf("last input %+v: the interleaving did not happen as the test intends", got)
	}
	s, _ := r.state("ana")
	if s.Active || !samePtr(s.Available, ptr(false)) || len(s.Retry) == 0 || slices.ContainsFunc(s.Retry, func(a session.Action) bool { return a.Online }) {
		t.Errorf("state after the poll %s: want logged out, off, and the switch-off queued again", stateString(s))
	}
	if rep.Delivered.Corrected != len(s.Retry) {
		t.Errorf("report %+v: want %d corrected", rep, len(s.Retry))
	}
	if got := outcomes(r.audits("ana")); !slices.Contains(got, sessionsync.OutcomeRequeued) {
		t.Errorf("audit outcomes %q: want %s", got, sessionsync.OutcomeRequeued)
	}

	r.resetCounters()
	r.at(6 * time.Minute)
	r.poll()
	if got := lastSent(); got.User != "ana" || got.Online {
		t.Errorf("after the next poll the last input is %+v; the user is logged out and must end off", got)
	}
	// The session ended: Salesforce ended the user's Omni-Channel presence with it, so no
	// Offline command is published (not applicable: user logged out).
	if got := r.omniCommands("ana"); len(got) != 0 {
		t.Errorf("Omni-Channel commands of the next poll %q, want none", got)
	}
	if got := r.connectStatus("ana"); got != "Offline" {
		t.Errorf("Connect status %q, want Offline", got)
	}
	if s, _ := r.state("ana"); len(s.Retry) != 0 {
		t.Errorf("retries left: %s", stateString(s))
	}
}

// afterFirstSights runs a hook once, after the first PutFirstSights has written, to interleave a
// webhook decision between the poll's first-sight write and its check for concurrent writes.
type afterFirstSights struct {
	*dynamo.Store
	once  sync.Once
	after func()
}

func (a *afterFirstSights) PutFirstSights(ctx context.Context, states []session.State) error {
	err := a.Store.PutFirstSights(ctx, states)
	if err == nil {
		a.once.Do(a.after)
	}
	return err
}

// TestSessionWebhookAfterFirstSightWrite: the poll switches a user it sees for the first time
// on and stores that as a first-sight item; the user's logout is then decided on that state by
// the webhook, before the poll checks for concurrent writes. The logout's versioned item
// supersedes the first-sight item, the poll's check finds it and queues the switch-off again
// (it cannot tell whether its switch-on landed after it), the target ends off, and the next
// poll deletes the superseded first-sight item.
func TestSessionWebhookAfterFirstSightWrite(t *testing.T) {
	r := newSessionRig(t, rigOptions{targets: distributionOnly})
	r.addUsers(rigUserSpec{relevant: true}, "ana")
	r.startSession(sessionT0, 0, "ana")
	sf := benchClient(t, r)
	eng, err := engineWith(r.deps, sf)
	if err != nil {
		t.Fatal(err)
	}
	table := &afterFirstSights{Store: r.store, after: func() {
		if s, ok := r.state("ana"); !ok || !s.Active {
			t.Errorf("state the webhook decides on %s: want the poll's first-sight state, active", stateString(s))
		}
		r.endSessions("ana")
		if got := r.send(sfevents.SessionLogout, "ana", r.clock.Now().Add(time.Second)); got != string(session.OutcomeToggledOff) {
			t.Errorf("logout outcome %q, want toggled-off", got)
		}
	}}
	svc, err := sessionsync.New(sessionsync.Deps{Store: table, Configs: engine.NewConfigSource(r.store, ConfigRefresh),
		Org: sessionOrg{sf}, Presence: eng, Publisher: presencePublisher{sf}}, sessionsync.Options{Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r.at(time.Minute)
	rep, err := svc.Poll(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.toggleSequence(), []toggle{{"ana", true, config.DefaultReasonLoggedIn}, {"ana", false, config.DefaultReasonLoggedOut}}; !slices.Equal(got, want) {
		t.Fatalf("inputs %+v, want the poll's switch-on and then the webhook's switch-off %+v", got, want)
	}
	s, _ := r.state("ana")
	if s.Active || !samePtr(s.Available, ptr(false)) || len(s.Retry) != 1 || s.Retry[0].Online {
		t.Errorf("state after the poll %s: want the logout's, off, with the switch-off queued again", stateString(s))
	}
	if rep.Delivered.Corrected != 1 {
		t.Errorf("report %+v: want 1 corrected", rep)
	}
	stale := func() bool {
		for rec, err := range r.store.Sessions(r.ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if rec.State.UserID == r.user("ana").id {
				return rec.StaleFirstSight
			}
		}
		t.Fatal("no stored state for ana")
		return false
	}
	if !stale() {
		t.Errorf("want the first-sight item still stored beside the logout's versioned item")
	}

	r.resetCounters()
	r.at(6 * time.Minute)
	if _, err := svc.Poll(r.ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.toggleSequence(); len(got) != 1 || got[0].Online {
		t.Errorf("next poll's inputs %+v, want the queued switch-off only", got)
	}
	if s, _ := r.state("ana"); s.Active || len(s.Retry) != 0 {
		t.Errorf("state after the next poll %s: want logged out with nothing to retry", stateString(s))
	}
	if stale() {
		t.Errorf("the next poll left the superseded first-sight item")
	}
}

// TestSessionOmniWithoutConnectAgent: a Salesforce user with no Connect agent still gets the
// Omni-Channel commands, published untracked, since the presence engine has no state to keep
// them in.
func TestSessionOmniWithoutConnectAgent(t *testing.T) {
	r := newSessionRig(t, rigOptions{targets: allTargets})
	r.addUsers(rigUserSpec{relevant: true}, "olga")
	steps := []struct {
		name string
		at   time.Duration
		typ  sfevents.SessionType
		want []string
	}{
		{"login sends the login status", time.Minute, sfevents.SessionLogin, []string{rigAvailableID}},
		{"logout sends Offline", 5 * time.Minute, sfevents.SessionLogout, []string{rigAvailableID, engine.OfflineStatus}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r.tb = t
			now := r.at(st.at)
			if st.typ == sfevents.SessionLogin {
				r.startSession(now, 0, "olga")
			} else {
				r.endSessions("olga")
			}
			r.send(st.typ, "olga", now)
			if got := r.omniCommands("olga"); !slices.Equal(got, st.want) {
				t.Errorf("Omni-Channel commands %v, want %v", got, st.want)
			}
		})
	}
}

// failingSessions is the table with PutSession and PutFirstSights failing while fail is set, the
// way a crash after the delivery and before the state write leaves the table: the poll's folded
// write (deliver first, then store the state once) never happened.
type failingSessions struct {
	*dynamo.Store
	fail bool
}

func (f *failingSessions) PutSession(ctx context.Context, st session.State, v int64, b eventtime.Bound) (int64, error) {
	if f.fail {
		return 0, apperr.New(apperr.Unavailable, "injected: lost before the state write")
	}
	return f.Store.PutSession(ctx, st, v, b)
}

func (f *failingSessions) PutFirstSights(ctx context.Context, states []session.State) error {
	if f.fail {
		return apperr.New(apperr.Unavailable, "injected: lost before the state write")
	}
	return f.Store.PutFirstSights(ctx, states)
}

// TestSessionPollStateWriteLost: the first poll delivers its switch-ons and then loses every
// state write (as a crash between the two steps would). Nothing is stored, so the next poll
// takes the same decisions again, delivers them again and stores them; the one after that
// sends nothing. A lost write never leaves a user switched on without a state that says so
// for longer than one poll interval, and never loses a switch.
func TestSessionPollStateWriteLost(t *testing.T) {
	r := newSessionRig(t, rigOptions{targets: distributionOnly})
	names := []string{"ana", "ben", "cid"}
	r.addUsers(rigUserSpec{relevant: true}, names...)
	r.startSession(sessionT0, 0, names...)
	sf := benchClient(t, r)
	table := &failingSessions{Store: r.store, fail: true}
	eng, err := engineWith(r.deps, sf)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := sessionsync.New(sessionsync.Deps{Store: table, Configs: engine.NewConfigSource(r.store, ConfigRefresh),
		Org: sessionOrg{sf}, Presence: eng, Publisher: presencePublisher{sf}}, sessionsync.Options{Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	on := []toggle{{"ana", true, config.DefaultReasonLoggedIn}, {"ben", true, config.DefaultReasonLoggedIn}, {"cid", true, config.DefaultReasonLoggedIn}}
	steps := []struct {
		name      string
		at        time.Duration
		fail      bool
		wantErr   bool
		want      []toggle
		wantState bool
	}{
		{"delivered, then every state write lost", time.Minute, true, true, on, false},
		{"the next poll decides and delivers again, and stores", 6 * time.Minute, false, false, on, true},
		{"the poll after that sends nothing", 11 * time.Minute, false, false, nil, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r.tb = t
			r.at(st.at)
			r.resetCounters()
			table.fail = st.fail
			_, err := svc.Poll(r.ctx)
			if (err != nil) != st.wantErr || (err != nil && !apperr.Is(err, apperr.Unavailable)) {
				t.Fatalf("Poll error %v, want an unavailable error: %v", err, st.wantErr)
			}
			if got := r.toggleInputs(); !slices.Equal(got, st.want) {
				t.Errorf("inputs %+v, want %+v", got, st.want)
			}
			for _, n := range names {
				s, ok := r.state(n)
				if ok != st.wantState || (ok && (!s.Active || !samePtr(s.Available, ptr(true)) || len(s.Retry) != 0)) {
					t.Errorf("%s: stored %v %s, want stored %v, active and on with nothing to retry", n, ok, stateString(s), st.wantState)
				}
				if got := outcomes(r.audits(n)); !slices.Contains(got, string(session.OutcomeToggledOn)) {
					t.Errorf("%s: audit outcomes %q, want the switch-on audited", n, got)
				}
			}
		})
	}
}
