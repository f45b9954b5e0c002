package connectsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Seed is the initial content of a simulated instance. Everything is optional: missing ids are
// derived from names (stable across runs), and missing lists get defaults (statuses Available
// and Offline, queue BasicQueue, routing profile "Basic Routing Profile" with VOICE 1, CHAT 3,
// TASK 1). Its JSON form, read by ParseSeed:
//
//	{
//	  "region": "us-east-1",
//	  "accountId": "123456789012",
//	  "instanceId": "aaaaaaaa-bbbb-cccc-dddd-111111111111",
//	  "queues": [{"id": "q-basic", "name": "BasicQueue"}, {"name": "PrimaryQueue"}],
//	  "routingProfiles": [{
//	    "id": "rp-basic", "name": "Basic Routing Profile",
//	    "defaultOutboundQueue": "BasicQueue", "inboundQueues": ["BasicQueue", "PrimaryQueue"],
//	    "concurrency": {"VOICE": 1, "CHAT": 3, "TASK": 1}
//	  }],
//	  "agentStatuses": [
//	    {"id": "st-available", "name": "Available", "type": "ROUTABLE"},
//	    {"name": "Lunch", "type": "CUSTOM"},
//	    {"name": "Training", "type": "CUSTOM", "state": "DISABLED"},
//	    {"name": "Offline", "type": "OFFLINE"}
//	  ],
//	  "users": [{"id": "u-jdoe", "username": "jdoe", "firstName": "Jane", "lastName": "Doe",
//	             "email": "jdoe@example.com", "routingProfile": "Basic Routing Profile"}]
//	}
//
// Queues and routing profiles are referred to by name or id. Users start logged out in the
// first OFFLINE status.
type Seed struct {
	Region          string               `json:"region,omitempty"`
	AccountID       string               `json:"accountId,omitempty"`
	InstanceID      string               `json:"instanceId,omitempty"`
	Queues          []SeedQueue          `json:"queues,omitempty"`
	RoutingProfiles []SeedRoutingProfile `json:"routingProfiles,omitempty"`
	AgentStatuses   []SeedAgentStatus    `json:"agentStatuses,omitempty"`
	Users           []SeedUser           `json:"users,omitempty"`
	// ContactFlows are the flows StartTaskContact can run; see SeedContactFlow.
	ContactFlows []SeedContactFlow `json:"contactFlows,omitempty"`
	// PredefinedAttributes are the attributes routing criteria may name (proficiency routing).
	PredefinedAttributes []SeedPredefinedAttribute `json:"predefinedAttributes,omitempty"`
	// PhoneNumber is the instance's claimed number: the system endpoint of calls (default
	// +18005550100).
	PhoneNumber string `json:"phoneNumber,omitempty"`
}

// SeedContactFlow is a contact flow of the seed. Type defaults to CONTACT_FLOW. Queue, when
// set, is the queue the flow transfers a task to (its "Set working queue" and "Transfer to
// queue" blocks), so a task started with it is QUEUED there; without it the task waits in no
// queue until RouteContact.
//
// RoutingCriteriaAttribute and PriorityAttribute model the flow's "Set routing criteria" and
// "Set routing priority" blocks set dynamically from contact attributes, as the sample flow in
// infra/connect does: before the transfer, the flow reads the named attribute as routing
// criteria JSON ({"Steps":[...]}, UpdateRoutingCriteria's parameter) or as a priority (1 or
// more). An attribute that does not hold valid criteria or a valid priority takes the block's
// error branch, which disconnects the task (DISCONNECTED and COMPLETED, never QUEUED).
type SeedContactFlow struct {
	ID                       string `json:"id,omitempty"`
	Name                     string `json:"name"`
	Type                     string `json:"type,omitempty"`
	Queue                    string `json:"queue,omitempty"`
	RoutingCriteriaAttribute string `json:"routingCriteriaAttribute,omitempty"`
	PriorityAttribute        string `json:"priorityAttribute,omitempty"`
}

// SeedPredefinedAttribute is a predefined attribute and its allowed values.
type SeedPredefinedAttribute struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// SeedQueue is a queue of the seed.
type SeedQueue struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// SeedRoutingProfile is a routing profile of the seed. Concurrency maps a channel to its
// maximum slots; a channel left out cannot be routed to the agent.
type SeedRoutingProfile struct {
	ID                   string         `json:"id,omitempty"`
	Name                 string         `json:"name"`
	DefaultOutboundQueue string         `json:"defaultOutboundQueue,omitempty"`
	InboundQueues        []string       `json:"inboundQueues,omitempty"`
	Concurrency          map[string]int `json:"concurrency,omitempty"`
}

// SeedAgentStatus is an agent status of the seed. Type is ROUTABLE, CUSTOM or OFFLINE
// (default CUSTOM); State is ENABLED (default) or DISABLED.
type SeedAgentStatus struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name"`
	Type  string `json:"type,omitempty"`
	State string `json:"state,omitempty"`
}

// SeedUser is a user (agent) of the seed. RoutingProfile defaults to the first profile.
type SeedUser struct {
	ID             string `json:"id,omitempty"`
	Username       string `json:"username"`
	FirstName      string `json:"firstName,omitempty"`
	LastName       string `json:"lastName,omitempty"`
	Email          string `json:"email,omitempty"`
	RoutingProfile string `json:"routingProfile,omitempty"`
}

// ParseSeed reads a seed in the JSON form documented on Seed. Unknown keys are errors, because
// a misspelt key in a hand-written seed would otherwise silently fall back to a default.
func ParseSeed(data []byte) (Seed, error) {
	var s Seed
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Seed{}, apperr.Wrap(apperr.Invalid, err, "invalid connectsim seed: %v", err)
	}
	return s, nil
}

// stableID derives a UUID-shaped id from a kind and a name, so seeds without ids still give
// the same ids on every run (tests and recorded samples can rely on them).
func stableID(kind, name string) string {
	b := sha256.Sum256([]byte("connectsim/" + kind + "/" + name))
	b[6] = (b[6] & 0x0f) | 0x80
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// load fills s (which holds the lock or is not shared yet) from seed, applying defaults.
func (s *Sim) load(seed Seed) error {
	var probs []apperr.Problem
	add := func(path, format string, args ...any) {
		probs = append(probs, apperr.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	fail := func() error {
		sort.SliceStable(probs, func(i, j int) bool { return probs[i].Path < probs[j].Path })
		return apperr.Invalidf(probs, "invalid connectsim seed: %s: %s", probs[0].Path, probs[0].Message)
	}
	queues := seed.Queues
	if len(queues) == 0 {
		queues = []SeedQueue{{Name: "BasicQueue"}}
	}
	for i, q := range queues {
		if q.Name == "" {
			add(fmt.Sprintf("$.queues[%d].name", i), "required")
			continue
		}
		id := q.ID
		if id == "" {
			id = stableID("queue", q.Name)
		}
		s.queues[id] = &queue{id: id, arn: s.instanceARN + "/queue/" + id, name: q.Name, modified: s.now()}
		s.queueOrder = append(s.queueOrder, id)
	}
	if len(probs) > 0 {
		return fail() // profiles refer to queues; stop before reporting knock-on errors
	}
	profiles := seed.RoutingProfiles
	if len(profiles) == 0 {
		first := s.queues[s.queueOrder[0]].name
		profiles = []SeedRoutingProfile{{
			Name: "Basic Routing Profile", DefaultOutboundQueue: first, InboundQueues: []string{first},
			Concurrency: map[string]int{"VOICE": 1, "CHAT": 3, "TASK": 1},
		}}
	}
	for i, p := range profiles {
		path := fmt.Sprintf("$.routingProfiles[%d]", i)
		if p.Name == "" {
			add(path+".name", "required")
			continue
		}
		id := p.ID
		if id == "" {
			id = stableID("routing-profile", p.Name)
		}
		rp := &routingProfile{id: id, arn: s.instanceARN + "/routing-profile/" + id, name: p.Name, concurrency: map[agentevent.Channel]int{}}
		if p.DefaultOutboundQueue != "" {
			if q := s.findQueue(p.DefaultOutboundQueue); q != nil {
				rp.outboundQueue = q.id
			} else {
				add(path+".defaultOutboundQueue", "unknown queue %q", p.DefaultOutboundQueue)
			}
		}
		for j, ref := range p.InboundQueues {
			if q := s.findQueue(ref); q != nil {
				rp.inboundQueues = append(rp.inboundQueues, q.id)
			} else {
				add(fmt.Sprintf("%s.inboundQueues[%d]", path, j), "unknown queue %q", ref)
			}
		}
		conc := p.Concurrency
		if conc == nil {
			conc = map[string]int{"VOICE": 1, "CHAT": 3, "TASK": 1}
		}
		for ch, n := range conc {
			if n < 0 {
				add(path+".concurrency."+ch, "must not be negative")
			}
			rp.concurrency[agentevent.Channel(strings.ToUpper(ch))] = n
		}
		s.profiles[id] = rp
		s.profileOrder = append(s.profileOrder, id)
	}
	if len(probs) > 0 {
		return fail()
	}
	statuses := seed.AgentStatuses
	if len(statuses) == 0 {
		statuses = []SeedAgentStatus{{Name: "Available", Type: "ROUTABLE"}, {Name: "Offline", Type: "OFFLINE"}}
	}
	for i, st := range statuses {
		if _, err := s.addStatus(st); err != nil {
			for _, p := range apperr.ProblemsOf(err) {
				add(fmt.Sprintf("$.agentStatuses[%d]%s", i, strings.TrimPrefix(p.Path, "$")), "%s", p.Message)
			}
		}
	}
	flows := seed.ContactFlows
	if len(flows) == 0 {
		flows = []SeedContactFlow{
			{Name: "Default agent transfer", Type: "AGENT_TRANSFER"},
			{Name: "Default queue transfer", Type: "QUEUE_TRANSFER"},
			{Name: "Sample inbound flow (first contact experience)", Type: "CONTACT_FLOW"},
		}
	}
	for i, f := range flows {
		path := fmt.Sprintf("$.contactFlows[%d]", i)
		typ := strings.ToUpper(f.Type)
		if typ == "" {
			typ = "CONTACT_FLOW"
		}
		if !flowTypes[typ] {
			add(path+".type", "unknown flow type %q", f.Type)
		}
		if f.Name == "" {
			add(path+".name", "required")
			continue
		}
		id := f.ID
		if id == "" {
			id = stableID("contact-flow", f.Name)
		}
		if s.flows[id] != nil {
			add(path+".id", "duplicate contact flow id %q", id)
			continue
		}
		fl := &contactFlow{id: id, arn: s.instanceARN + "/contact-flow/" + id, name: f.Name, typ: typ,
			criteriaAttr: f.RoutingCriteriaAttribute, priorityAttr: f.PriorityAttribute}
		if f.Queue != "" {
			if q := s.findQueue(f.Queue); q != nil {
				fl.queueID = q.id
			} else {
				add(path+".queue", "unknown queue %q", f.Queue)
			}
		}
		s.flows[id] = fl
		s.flowOrder = append(s.flowOrder, id)
	}
	for i, a := range seed.PredefinedAttributes {
		path := fmt.Sprintf("$.predefinedAttributes[%d]", i)
		switch {
		case a.Name == "":
			add(path+".name", "required")
		case s.attributes[a.Name] != nil:
			add(path+".name", "duplicate predefined attribute %q", a.Name)
		case len(a.Values) == 0:
			add(path+".values", "at least one value is required")
		default:
			s.attributes[a.Name] = &predefinedAttribute{name: a.Name, values: append([]string(nil), a.Values...), modified: s.now()}
			s.attributeOrder = append(s.attributeOrder, a.Name)
		}
	}
	s.phoneNumber = seed.PhoneNumber
	if s.phoneNumber == "" {
		s.phoneNumber = "+18005550100"
	}
	for i, u := range seed.Users {
		if _, err := s.addUser(u); err != nil {
			for _, p := range apperr.ProblemsOf(err) {
				add(fmt.Sprintf("$.users[%d]%s", i, strings.TrimPrefix(p.Path, "$")), "%s", p.Message)
			}
		}
	}
	if len(probs) > 0 {
		return fail()
	}
	return nil
}

func (s *Sim) findQueue(ref string) *queue {
	if q := s.queues[ref]; q != nil {
		return q
	}
	for _, id := range s.queueOrder {
		if s.queues[id].name == ref {
			return s.queues[id]
		}
	}
	return nil
}

// flowTypes are the ContactFlowType values of the API.
var flowTypes = map[string]bool{
	"CONTACT_FLOW": true, "CUSTOMER_QUEUE": true, "CUSTOMER_HOLD": true, "CUSTOMER_WHISPER": true,
	"AGENT_HOLD": true, "AGENT_WHISPER": true, "OUTBOUND_WHISPER": true, "AGENT_TRANSFER": true,
	"QUEUE_TRANSFER": true, "CAMPAIGN": true,
}

func (s *Sim) findProfile(ref string) *routingProfile {
	if p := s.profiles[ref]; p != nil {
		return p
	}
	for _, id := range s.profileOrder {
		if s.profiles[id].name == ref {
			return s.profiles[id]
		}
	}
	return nil
}

func (s *Sim) addStatus(st SeedAgentStatus) (string, error) {
	var probs []apperr.Problem
	if st.Name == "" {
		probs = append(probs, apperr.Problem{Path: "$.name", Message: "required"})
	}
	typ := agentevent.StatusType(strings.ToUpper(st.Type))
	switch typ {
	case "":
		typ = agentevent.StatusTypeCustom
	case agentevent.StatusTypeRoutable, agentevent.StatusTypeCustom, agentevent.StatusTypeOffline:
	default:
		probs = append(probs, apperr.Problem{Path: "$.type", Message: fmt.Sprintf("unknown type %q (want ROUTABLE, CUSTOM or OFFLINE)", st.Type)})
	}
	state := strings.ToUpper(st.State)
	switch state {
	case "":
		state = "ENABLED"
	case "ENABLED", "DISABLED":
	default:
		probs = append(probs, apperr.Problem{Path: "$.state", Message: fmt.Sprintf("unknown state %q (want ENABLED or DISABLED)", st.State)})
	}
	for _, id := range s.statusOrder {
		if s.statuses[id].name == st.Name {
			probs = append(probs, apperr.Problem{Path: "$.name", Message: fmt.Sprintf("duplicate agent status %q", st.Name)})
		}
	}
	if len(probs) > 0 {
		return "", apperr.Invalidf(probs, "invalid agent status: %s: %s", probs[0].Path, probs[0].Message)
	}
	id := st.ID
	if id == "" {
		id = stableID("agent-state", st.Name)
	}
	s.statuses[id] = &agentStatus{id: id, arn: s.instanceARN + "/agent-state/" + id, name: st.Name, typ: typ, enabled: state == "ENABLED", modified: s.now()}
	s.statusOrder = append(s.statusOrder, id)
	return id, nil
}

func (s *Sim) addUser(u SeedUser) (string, error) {
	var probs []apperr.Problem
	if u.Username == "" {
		probs = append(probs, apperr.Problem{Path: "$.username", Message: "required"})
	}
	id := u.ID
	if id == "" {
		id = stableID("agent", u.Username)
	}
	if s.users[id] != nil {
		probs = append(probs, apperr.Problem{Path: "$.id", Message: fmt.Sprintf("duplicate user id %q", id)})
	}
	for _, other := range s.users {
		if u.Username != "" && strings.EqualFold(other.username, u.Username) {
			probs = append(probs, apperr.Problem{Path: "$.username", Message: fmt.Sprintf("duplicate username %q", u.Username)})
		}
	}
	var rp *routingProfile
	if u.RoutingProfile == "" {
		rp = s.profiles[s.profileOrder[0]]
	} else if rp = s.findProfile(u.RoutingProfile); rp == nil {
		probs = append(probs, apperr.Problem{Path: "$.routingProfile", Message: fmt.Sprintf("unknown routing profile %q", u.RoutingProfile)})
	}
	if len(probs) > 0 {
		return "", apperr.Invalidf(probs, "invalid user: %s: %s", probs[0].Path, probs[0].Message)
	}
	now := s.now()
	usr := &user{
		id: id, arn: s.instanceARN + "/agent/" + id, username: u.Username,
		firstName: u.FirstName, lastName: u.LastName, email: u.Email,
		profileID: rp.id, statusID: s.offlineStatusID(), statusStart: now, modified: now,
	}
	s.users[id] = usr
	s.userOrder = append(s.userOrder, id)
	return id, nil
}

// offlineStatusID is the status users start in and return to on logout.
func (s *Sim) offlineStatusID() string {
	for _, id := range s.statusOrder {
		if s.statuses[id].typ == agentevent.StatusTypeOffline {
			return id
		}
	}
	if len(s.statusOrder) > 0 {
		return s.statusOrder[len(s.statusOrder)-1]
	}
	return ""
}
