package connectsim

import (
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/contactevent"
)

type user struct {
	id, arn, username          string
	firstName, lastName, email string
	profileID                  string
	loggedIn                   bool
	statusID                   string
	statusStart                time.Time
	next                       *nextStatus
	contacts                   []*contact // on the agent, in arrival order
	modified                   time.Time
}

type nextStatus struct {
	statusID string
	enqueued time.Time
}

type contact struct {
	id, initialID string
	channel       agentevent.Channel
	method        agentevent.InitiationMethod
	queueID       string
	queuedAt      *time.Time
	connectedAt   *time.Time
	agentID       string                  // "" while not on an agent
	state         agentevent.ContactState // agent-side state; "" while not on an agent
	stateStart    time.Time
	ended         bool // disconnected: StopContact, or ended on the agent

	// Set for contacts created through StartTaskContact.
	viaAPI                                 bool
	name, description, flowID, clientToken string
	attributes                             map[string]string
	references                             map[string]Reference
	created                                time.Time

	// What contact events and DescribeContact report.
	previousID, relatedID string
	customer, system      string // voice endpoints; customer "" when withheld
	connectedToSystem     *time.Time
	disconnectedAt        *time.Time
	acwStart, acwEnd      *time.Time
	held                  time.Duration // total time CONNECTED_ONHOLD, AgentInitiatedHoldDuration
	lastAgentID           string        // the agent it was on, kept after Clear
	priority              int64
	timeAdjust            int32
	routing               *routingCriteria
	updated               time.Time
}

// Reference is a task reference as StartTaskContact received it.
type Reference struct {
	Type  string
	Value string
}

// Contact is a copy of a contact's state, for assertions.
type Contact struct {
	ID               string
	InitialContactID string
	Channel          agentevent.Channel
	InitiationMethod agentevent.InitiationMethod
	// AgentID is the user the contact is on, "" if none (a task waiting in its queue).
	AgentID string
	// State is the agent-side state, "" while the contact is on no agent.
	State   agentevent.ContactState
	QueueID string
	// Ended is true once the contact is disconnected (even if its ACW is not cleared yet).
	Ended bool
	// Name, Description, ContactFlowID, ClientToken and References are set for API tasks.
	Name          string
	Description   string
	ContactFlowID string
	ClientToken   string
	Attributes    map[string]string
	References    map[string]Reference
	// Priority is the contact's queue priority (0: the queue's default).
	Priority int64
	// RoutingConditions lists the attribute conditions of the contact's current routing
	// criteria, one "Name=Value>=Level" per condition of its steps, in order.
	RoutingConditions []string
}

// AgentState is a copy of one agent's state, for assertions.
type AgentState struct {
	UserID   string
	Username string
	LoggedIn bool
	// Snapshot is what a record emitted now would carry as CurrentAgentSnapshot.
	Snapshot *agentevent.AgentSnapshot
}

// Status returns the name of the agent's current status.
func (a AgentState) Status() string { return a.Snapshot.AgentStatus.Name }

// NextStatus returns the name of the pending next status, or "".
func (a AgentState) NextStatus() string {
	if a.Snapshot.NextAgentStatus == nil {
		return ""
	}
	return a.Snapshot.NextAgentStatus.Name
}

// NewContact describes a contact to put on an agent with Offer or Place.
type NewContact struct {
	// ID is the contact id; empty generates one.
	ID string
	// InitialContactID links a transferred contact to the first one; empty means null.
	InitialContactID string
	// Channel defaults to VOICE.
	Channel agentevent.Channel
	// InitiationMethod defaults to INBOUND for Offer and OUTBOUND for Place.
	InitiationMethod agentevent.InitiationMethod
	// Queue is a queue name or id; it defaults to the routing profile's first inbound queue
	// (Offer) or its default outbound queue (Place).
	Queue string
	// State is the state the contact appears in: INCOMING, PENDING or CONNECTING. It defaults
	// to INCOMING for Offer and CONNECTING for Place.
	State agentevent.ContactState
	// CustomerEndpoint is the customer's number (E.164, as Connect reports it) that
	// DescribeContact returns; empty for a withheld number.
	CustomerEndpoint string
}

// activeStates are the contact states in which the agent is handling the contact; a status
// set then becomes the next status.
var activeStates = map[agentevent.ContactState]bool{
	agentevent.ContactStateIncoming:        true,
	agentevent.ContactStatePending:         true,
	agentevent.ContactStateConnecting:      true,
	agentevent.ContactStateConnected:       true,
	agentevent.ContactStateConnectedOnHold: true,
}

// transitions lists the agent-side contact state changes the sim allows.
var transitions = map[agentevent.ContactState][]agentevent.ContactState{
	agentevent.ContactStateIncoming:        {agentevent.ContactStateConnecting, agentevent.ContactStateConnected, agentevent.ContactStateMissed, agentevent.ContactStateRejected, agentevent.ContactStateError, agentevent.ContactStateEnded},
	agentevent.ContactStatePending:         {agentevent.ContactStateIncoming, agentevent.ContactStateConnecting, agentevent.ContactStateConnected, agentevent.ContactStateMissed, agentevent.ContactStateRejected, agentevent.ContactStateError, agentevent.ContactStateEnded},
	agentevent.ContactStateConnecting:      {agentevent.ContactStateConnected, agentevent.ContactStateMissed, agentevent.ContactStateError, agentevent.ContactStateEnded},
	agentevent.ContactStateConnected:       {agentevent.ContactStateConnectedOnHold, agentevent.ContactStateEnded, agentevent.ContactStateError},
	agentevent.ContactStateConnectedOnHold: {agentevent.ContactStateConnected, agentevent.ContactStateEnded, agentevent.ContactStateError},
}

// clearable are the states a contact leaves the agent's snapshot from (Clear).
var clearable = map[agentevent.ContactState]bool{
	agentevent.ContactStateEnded:    true,
	agentevent.ContactStateMissed:   true,
	agentevent.ContactStateRejected: true,
	agentevent.ContactStateError:    true,
}

func notFound(format string, args ...any) error {
	return apperr.New(apperr.NotFound, format, args...)
}

func invalid(format string, args ...any) error {
	return apperr.New(apperr.Invalid, format, args...)
}

func (s *Sim) userLocked(userID string) (*user, error) {
	u := s.users[userID]
	if u == nil {
		return nil, notFound("connectsim: no user %q", userID)
	}
	return u, nil
}

func (s *Sim) statusByName(name string) (*agentStatus, error) {
	for _, id := range s.statusOrder {
		if s.statuses[id].name == name {
			return s.statuses[id], nil
		}
	}
	return nil, notFound("connectsim: no agent status %q", name)
}

// Login logs the agent in to the CCP and emits LOGIN (PreviousAgentSnapshot null). A non-empty
// statusName sets the status the agent logs in with; otherwise it keeps its last status.
func (s *Sim) Login(userID, statusName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(userID)
	if err != nil {
		return err
	}
	if u.loggedIn {
		return invalid("connectsim: user %q is already logged in", userID)
	}
	if statusName != "" {
		st, err := s.statusByName(statusName)
		if err != nil {
			return err
		}
		if !st.enabled {
			return invalid("connectsim: agent status %q is disabled", statusName)
		}
		u.statusID, u.statusStart = st.id, s.now()
	}
	u.loggedIn = true
	s.emit(agentevent.EventTypeLogin, u, nil)
	return nil
}

// Logout logs the agent out, puts it in the Offline status and emits LOGOUT. An agent with
// contacts cannot log out, as in the CCP.
func (s *Sim) Logout(userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(userID)
	if err != nil {
		return err
	}
	if !u.loggedIn {
		return invalid("connectsim: user %q is not logged in", userID)
	}
	if len(u.contacts) > 0 {
		return invalid("connectsim: user %q has %d contacts and cannot log out", userID, len(u.contacts))
	}
	prev := s.snapshot(u)
	u.loggedIn = false
	u.next = nil
	if off := s.offlineStatusID(); off != "" && off != u.statusID {
		u.statusID, u.statusStart = off, s.now()
	}
	s.emit(agentevent.EventTypeLogout, u, prev)
	return nil
}

// SetStatus changes the agent's status as if the agent clicked it in the CCP; the rules are
// PutUserStatus's (see applyStatus).
func (s *Sim) SetStatus(userID, statusName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(userID)
	if err != nil {
		return err
	}
	st, err := s.statusByName(statusName)
	if err != nil {
		return err
	}
	if !st.enabled {
		return invalid("connectsim: agent status %q is disabled", statusName)
	}
	s.applyStatus(u, st)
	return nil
}

// applyStatus is PutUserStatus's semantics, shared by the API and SetStatus:
//   - a logged-out agent's status is stored silently (no record: logged-out agents emit none);
//   - an agent handling a contact (any contact INCOMING, PENDING, CONNECTING, CONNECTED or
//     CONNECTED_ONHOLD), or one that already has a next status waiting for its ACW to be
//     cleared, gets the status as NextAgentStatus, applied when its last contact is cleared;
//     asking for the current status there cancels the pending next status;
//   - otherwise the status applies at once.
//
// Setting the status the agent already has (or already has as next) emits nothing.
func (s *Sim) applyStatus(u *user, st *agentStatus) {
	now := s.now()
	if !u.loggedIn {
		if u.statusID != st.id {
			u.statusID, u.statusStart = st.id, now
		}
		return
	}
	busy := u.next != nil && len(u.contacts) > 0
	for _, c := range u.contacts {
		busy = busy || activeStates[c.state]
	}
	prev := s.snapshot(u)
	switch {
	case busy && st.id == u.statusID:
		if u.next == nil {
			return
		}
		u.next = nil
	case busy:
		if u.next != nil && u.next.statusID == st.id {
			return
		}
		u.next = &nextStatus{statusID: st.id, enqueued: now}
	default:
		if st.id == u.statusID {
			return
		}
		u.statusID, u.statusStart = st.id, now
	}
	s.emit(agentevent.EventTypeStateChange, u, prev)
}

// Heartbeat emits a HEART_BEAT record for the agent, as Connect does every 120 s when nothing
// else happened. Both snapshots are the current one.
func (s *Sim) Heartbeat(userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(userID)
	if err != nil {
		return err
	}
	s.emit(agentevent.EventTypeHeartBeat, u, s.snapshot(u))
	return nil
}

// Offer routes a new inbound contact to the agent: it appears INCOMING. Like Connect's router
// it requires a logged-in agent in a ROUTABLE status, with no next status pending (a next
// status pauses routing), no missed, rejected or failed contact left to clear (Connect shows
// the agent as Missed then) and a free slot on the channel.
func (s *Sim) Offer(userID string, nc NewContact) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if nc.InitiationMethod == "" {
		nc.InitiationMethod = agentevent.InitiationInbound
	}
	c, err := s.newAgentContact(userID, nc, true)
	if err != nil {
		return "", err
	}
	return c.id, s.putOnAgent(c, userID, initialState(nc.State, agentevent.ContactStateIncoming), true)
}

// initialState validates NewContact.State.
func initialState(requested, def agentevent.ContactState) agentevent.ContactState {
	switch requested {
	case agentevent.ContactStateIncoming, agentevent.ContactStatePending, agentevent.ContactStateConnecting:
		return requested
	}
	return def
}

// Place starts an outbound contact from the agent (the agent dials): it appears CONNECTING,
// with no QueueTimestamp, in the default outbound queue. Routing rules do not apply, but the
// agent must be logged in.
func (s *Sim) Place(userID string, nc NewContact) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if nc.InitiationMethod == "" {
		nc.InitiationMethod = agentevent.InitiationOutbound
	}
	c, err := s.newAgentContact(userID, nc, false)
	if err != nil {
		return "", err
	}
	return c.id, s.putOnAgent(c, userID, initialState(nc.State, agentevent.ContactStateConnecting), false)
}

// RouteContact offers an existing contact that is on no agent (a task created with
// StartTaskContact) to the agent, with Offer's routing rules: it appears INCOMING.
func (s *Sim) RouteContact(contactID, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.contacts[contactID]
	switch {
	case c == nil:
		return notFound("connectsim: no contact %q", contactID)
	case c.ended:
		return invalid("connectsim: contact %q has ended", contactID)
	case c.agentID != "":
		return invalid("connectsim: contact %q is already on agent %q", contactID, c.agentID)
	}
	return s.putOnAgent(c, userID, agentevent.ContactStateIncoming, true)
}

func (s *Sim) newAgentContact(userID string, nc NewContact, inbound bool) (*contact, error) {
	u, err := s.userLocked(userID)
	if err != nil {
		return nil, err
	}
	if nc.ID == "" {
		nc.ID = s.newID()
	}
	if s.contacts[nc.ID] != nil {
		return nil, invalid("connectsim: contact %q already exists", nc.ID)
	}
	if nc.Channel == "" {
		nc.Channel = agentevent.ChannelVoice
	}
	if nc.State != "" && initialState(nc.State, "") == "" {
		return nil, invalid("connectsim: a new contact cannot start in state %q", nc.State)
	}
	rp := s.profiles[u.profileID]
	var q *queue
	switch {
	case nc.Queue != "":
		if q = s.findQueue(nc.Queue); q == nil {
			return nil, notFound("connectsim: no queue %q", nc.Queue)
		}
	case inbound && len(rp.inboundQueues) > 0:
		q = s.queues[rp.inboundQueues[0]]
	case !inbound && rp.outboundQueue != "":
		q = s.queues[rp.outboundQueue]
	}
	c := &contact{id: nc.ID, initialID: nc.InitialContactID, channel: nc.Channel, method: nc.InitiationMethod, created: s.now(), customer: nc.CustomerEndpoint}
	c.updated = c.created
	if c.channel == agentevent.ChannelVoice {
		c.system = s.phoneNumber
	}
	if inbound {
		t := c.created
		c.connectedToSystem = &t
	}
	if q != nil {
		c.queueID = q.id
	}
	if inbound {
		t := s.now()
		c.queuedAt = &t
	}
	return c, nil
}

// putOnAgent checks the routing rules, attaches c to the agent in state and emits.
func (s *Sim) putOnAgent(c *contact, userID string, state agentevent.ContactState, routed bool) error {
	u, err := s.userLocked(userID)
	if err != nil {
		return err
	}
	if !u.loggedIn {
		return invalid("connectsim: user %q is not logged in", userID)
	}
	if routed {
		if st := s.statuses[u.statusID]; st.typ != agentevent.StatusTypeRoutable {
			return invalid("connectsim: user %q is in non-routable status %q", userID, st.name)
		}
		if u.next != nil {
			return invalid("connectsim: user %q has a next status pending; routing is paused", userID)
		}
		for _, x := range u.contacts {
			if clearable[x.state] && x.state != agentevent.ContactStateEnded {
				return invalid("connectsim: user %q has a %s contact to clear; routing is paused", userID, x.state)
			}
		}
		if s.availableSlots(u, c.channel) <= 0 {
			return invalid("connectsim: user %q has no free %s slot", userID, c.channel)
		}
	}
	prev := s.snapshot(u)
	isNew := s.contacts[c.id] == nil
	c.agentID, c.lastAgentID, c.state, c.stateStart = u.id, u.id, state, s.now()
	s.contacts[c.id] = c
	u.contacts = append(u.contacts, c)
	if isNew { // Offer and Place: the contact starts now
		s.emitContact(contactevent.Initiated, c)
		if c.queuedAt != nil {
			s.emitContact(contactevent.Queued, c)
		}
	}
	s.emit(agentevent.EventTypeStateChange, u, prev)
	return nil
}

// availableSlots is the routing profile's slots on ch minus the contacts occupying one; a
// contact in ACW (ENDED) still occupies its slot until it is cleared.
func (s *Sim) availableSlots(u *user, ch agentevent.Channel) int {
	n := s.profiles[u.profileID].concurrency[ch]
	for _, c := range u.contacts {
		if c.channel == ch && (activeStates[c.state] || c.state == agentevent.ContactStateEnded) {
			n--
		}
	}
	return max(n, 0)
}

// Accept moves an INCOMING contact to CONNECTING (the agent pressed Accept).
func (s *Sim) Accept(contactID string) error {
	return s.SetContactState(contactID, agentevent.ContactStateConnecting)
}

// Connect connects the agent to the contact (CONNECTED) and sets ConnectedToAgentTimestamp.
func (s *Sim) Connect(contactID string) error {
	return s.SetContactState(contactID, agentevent.ContactStateConnected)
}

// Hold puts a connected contact on hold (CONNECTED_ONHOLD).
func (s *Sim) Hold(contactID string) error {
	return s.SetContactState(contactID, agentevent.ContactStateConnectedOnHold)
}

// Resume takes a contact off hold (CONNECTED).
func (s *Sim) Resume(contactID string) error {
	return s.SetContactState(contactID, agentevent.ContactStateConnected)
}

// Miss marks an offered contact as missed (MISSED); it stays on the agent until cleared.
func (s *Sim) Miss(contactID string) error {
	return s.SetContactState(contactID, agentevent.ContactStateMissed)
}

// Reject marks an offered contact as rejected by the agent (REJECTED).
func (s *Sim) Reject(contactID string) error {
	return s.SetContactState(contactID, agentevent.ContactStateRejected)
}

// Fail puts the contact in ERROR, as a failed softphone connection would.
func (s *Sim) Fail(contactID string) error {
	return s.SetContactState(contactID, agentevent.ContactStateError)
}

// End disconnects the contact: it becomes ENDED and the agent is in after contact work until
// Clear. The agent's status does not change (AgentStatus stays "Available" through ACW).
func (s *Sim) End(contactID string) error {
	return s.SetContactState(contactID, agentevent.ContactStateEnded)
}

// SetContactState moves a contact on an agent to state, if the transition is one Connect makes
// (see the transitions table), and emits STATE_CHANGE.
func (s *Sim) SetContactState(contactID string, state agentevent.ContactState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.contacts[contactID]
	if c == nil {
		return notFound("connectsim: no contact %q", contactID)
	}
	if c.agentID == "" {
		return invalid("connectsim: contact %q is on no agent", contactID)
	}
	allowed := false
	for _, to := range transitions[c.state] {
		allowed = allowed || to == state
	}
	if !allowed {
		return invalid("connectsim: contact %q cannot go from %s to %s", contactID, c.state, state)
	}
	s.setState(c, state)
	return nil
}

func (s *Sim) setState(c *contact, state agentevent.ContactState) {
	u := s.users[c.agentID]
	prev := s.snapshot(u)
	now := s.now()
	if c.state == agentevent.ContactStateConnectedOnHold && state != c.state {
		c.held += now.Sub(c.stateStart)
	}
	c.state, c.stateStart, c.updated = state, now, now
	if state == agentevent.ContactStateConnected && c.connectedAt == nil {
		c.connectedAt = &now
		s.emitContact(contactevent.ConnectedToAgent, c)
	}
	if !activeStates[state] {
		c.ended = true
	}
	if state == agentevent.ContactStateEnded {
		c.disconnectedAt, c.acwStart = &now, &now
		s.emitContact(contactevent.Disconnected, c)
	}
	s.emit(agentevent.EventTypeStateChange, u, prev)
}

// Clear removes an ENDED, MISSED, REJECTED or ERROR contact from the agent (the agent cleared
// the contact, ending ACW). When it was the agent's last contact, a pending next status is
// applied in the same STATE_CHANGE.
func (s *Sim) Clear(contactID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.contacts[contactID]
	if c == nil {
		return notFound("connectsim: no contact %q", contactID)
	}
	if c.agentID == "" || !clearable[c.state] {
		return invalid("connectsim: contact %q is in state %q and cannot be cleared", contactID, c.state)
	}
	u := s.users[c.agentID]
	prev := s.snapshot(u)
	for i, x := range u.contacts {
		if x == c {
			u.contacts = append(u.contacts[:i:i], u.contacts[i+1:]...)
			break
		}
	}
	if len(u.contacts) == 0 && u.next != nil {
		u.statusID, u.statusStart, u.next = u.next.statusID, s.now(), nil
	}
	c.agentID = ""
	if c.state == agentevent.ContactStateEnded {
		now := s.now()
		c.acwEnd, c.updated = &now, now
		s.emitContact(contactevent.Completed, c)
	}
	s.emit(agentevent.EventTypeStateChange, u, prev)
	return nil
}

// Agent returns a copy of the agent's state.
func (s *Sim) Agent(userID string) (AgentState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(userID)
	if err != nil {
		return AgentState{}, err
	}
	return AgentState{UserID: u.id, Username: u.username, LoggedIn: u.loggedIn, Snapshot: s.snapshot(u)}, nil
}

// Contact returns a copy of a contact.
func (s *Sim) Contact(contactID string) (Contact, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.contacts[contactID]
	if c == nil {
		return Contact{}, notFound("connectsim: no contact %q", contactID)
	}
	return c.export(), nil
}

// Tasks returns every contact created through StartTaskContact, oldest first.
func (s *Sim) Tasks() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Contact
	for _, c := range s.contacts {
		if c.viaAPI {
			out = append(out, c.export())
		}
	}
	sort.Slice(out, func(i, j int) bool {
		ci, cj := s.contacts[out[i].ID], s.contacts[out[j].ID]
		if !ci.created.Equal(cj.created) {
			return ci.created.Before(cj.created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (c *contact) export() Contact {
	return Contact{
		ID: c.id, InitialContactID: c.initialID, Channel: c.channel, InitiationMethod: c.method,
		AgentID: c.agentID, State: c.state, QueueID: c.queueID, Ended: c.ended,
		Name: c.name, Description: c.description, ContactFlowID: c.flowID, ClientToken: c.clientToken,
		Attributes: maps.Clone(c.attributes), References: maps.Clone(c.references),
		Priority: c.priority, RoutingConditions: c.routingConditions(),
	}
}

// routingConditions flattens the current routing criteria's conditions for assertions.
func (c *contact) routingConditions() []string {
	if c.routing == nil {
		return nil
	}
	var out []string
	var walk func(x *expression)
	walk = func(x *expression) {
		if x == nil {
			return
		}
		if a := x.AttributeCondition; a != nil && a.Name != nil && a.Value != nil {
			lvl := 0.0
			if a.ProficiencyLevel != nil {
				lvl = *a.ProficiencyLevel
			}
			out = append(out, fmt.Sprintf("%s=%s>=%g", *a.Name, *a.Value, lvl))
		}
		for i := range x.AndExpression {
			walk(&x.AndExpression[i])
		}
		for i := range x.OrExpression {
			walk(&x.OrExpression[i])
		}
	}
	for _, st := range c.routing.steps {
		walk(st.Expression)
	}
	return out
}

// snapshot renders the agent as a record's AgentSnapshot. It builds fresh values every time,
// so records in the log never alias live state.
func (s *Sim) snapshot(u *user) *agentevent.AgentSnapshot {
	st := s.statuses[u.statusID]
	snap := &agentevent.AgentSnapshot{
		AgentStatus: &agentevent.AgentStatus{ARN: st.arn, Name: st.name, StartTimestamp: u.statusStart},
	}
	if !s.opts.ReferenceShape {
		snap.AgentStatus.Type = st.typ
	}
	if u.next != nil {
		ns := s.statuses[u.next.statusID]
		snap.NextAgentStatus = &agentevent.NextAgentStatus{ARN: ns.arn, Name: ns.name, EnqueuedTimestamp: u.next.enqueued}
	}
	rp := s.profiles[u.profileID]
	prof := &agentevent.RoutingProfile{ARN: rp.arn, Name: rp.name, DefaultOutboundQueue: s.queueRef(rp.outboundQueue)}
	for _, id := range rp.inboundQueues {
		prof.InboundQueues = append(prof.InboundQueues, *s.queueRef(id))
	}
	if !s.opts.ReferenceShape {
		channels := make([]string, 0, len(rp.concurrency))
		for ch := range rp.concurrency {
			channels = append(channels, string(ch))
		}
		sort.Strings(channels)
		for _, ch := range channels {
			c := agentevent.Channel(ch)
			prof.Concurrency = append(prof.Concurrency, agentevent.Concurrency{Channel: c, AvailableSlots: s.availableSlots(u, c), MaximumSlots: rp.concurrency[c]})
		}
	}
	snap.Configuration = &agentevent.Configuration{Username: u.username, FirstName: u.firstName, LastName: u.lastName, RoutingProfile: prof}
	for _, c := range u.contacts {
		ac := agentevent.Contact{
			ContactID: c.id, InitialContactID: c.initialID, Channel: c.channel, InitiationMethod: c.method,
			State: c.state, StateStartTimestamp: c.stateStart, Queue: s.queueRef(c.queueID),
		}
		if c.connectedAt != nil {
			t := *c.connectedAt
			ac.ConnectedToAgentTimestamp = &t
		}
		if c.queuedAt != nil {
			t := *c.queuedAt
			ac.QueueTimestamp = &t
		}
		snap.Contacts = append(snap.Contacts, ac)
	}
	return snap
}

func (s *Sim) queueRef(id string) *agentevent.Queue {
	q := s.queues[id]
	if q == nil {
		return nil
	}
	return &agentevent.Queue{ARN: q.arn, Name: q.name}
}

// emit appends a record for u to the log and queues it for subscribers. Callers hold s.mu.
func (s *Sim) emit(typ agentevent.EventType, u *user, prev *agentevent.AgentSnapshot) {
	now := s.now()
	ev := agentevent.Event{
		AWSAccountID:          s.accountID,
		AgentARN:              u.arn,
		EventID:               s.newID(),
		EventTimestamp:        now,
		EventType:             typ,
		InstanceARN:           s.instanceARN,
		Version:               agentevent.Version,
		CurrentAgentSnapshot:  s.snapshot(u),
		PreviousAgentSnapshot: prev,
	}
	data, err := agentevent.Encode(ev)
	if err != nil {
		// Encode cannot fail on values built here; keep the record visible rather than drop it.
		data = []byte(fmt.Sprintf(`{"connectsimEncodeError":%q}`, err.Error()))
	}
	s.seq++
	rec := Record{
		Event:          ev,
		Data:           data,
		PartitionKey:   u.arn,
		SequenceNumber: fmt.Sprintf("4959%052d", s.seq),
		ArrivalTime:    now,
	}
	s.events = append(s.events, rec)
	for _, sub := range s.subs {
		sub.push(rec)
	}
}
