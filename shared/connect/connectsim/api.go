package connectsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/contactevent"
)

// The handlers below answer in the shapes the SDK's deserializers.go reads: member names as in
// the API reference and timestamps as epoch seconds. They run with s.mu held for the whole
// operation, so each request is atomic like a real API call.

func errNotFound(format string, args ...any) *apiError {
	return &apiError{http.StatusNotFound, "ResourceNotFoundException", fmt.Sprintf(format, args...)}
}

func errParam(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterException", fmt.Sprintf(format, args...)}
}

func errRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidRequestException", fmt.Sprintf(format, args...)}
}

func decodeBody(body []byte, v any) *apiError {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{http.StatusBadRequest, "SerializationException", "could not parse request body: " + err.Error()}
	}
	return nil
}

// lockInstance takes the simulator's lock for a request on instance id and returns its release;
// an unknown or missing instance is answered with Connect's error and the lock is not held.
func (s *Sim) lockInstance(id string) (unlock func(), aerr *apiError) {
	s.mu.Lock()
	if aerr := s.checkInstance(id); aerr != nil {
		s.mu.Unlock()
		return nil, aerr
	}
	return s.mu.Unlock, nil
}

func (s *Sim) checkInstance(id string) *apiError {
	if id == "" {
		return errParam("InstanceId is required")
	}
	if id != s.instanceID {
		return errNotFound("Instance not found: %s", id)
	}
	return nil
}

// page cuts items [offset, offset+size) and returns the token for the next page.
func page(op string, total int, token string, size, apiMax int) (start, end int, next *string, aerr *apiError) {
	if size <= 0 || size > apiMax {
		size = apiMax
	}
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		prefix := "connectsim:" + op + ":"
		if err != nil || !strings.HasPrefix(string(raw), prefix) {
			return 0, 0, nil, errParam("invalid NextToken")
		}
		if start, err = strconv.Atoi(strings.TrimPrefix(string(raw), prefix)); err != nil || start < 0 || start > total {
			return 0, 0, nil, errParam("invalid NextToken")
		}
	}
	end = min(start+size, total)
	if end < total {
		t := base64.RawURLEncoding.EncodeToString([]byte("connectsim:" + op + ":" + strconv.Itoa(end)))
		next = &t
	}
	return start, end, next, nil
}

func (s *Sim) pageSize(requested, apiMax int) int {
	if s.opts.MaxPageSize > 0 && s.opts.MaxPageSize < apiMax {
		apiMax = s.opts.MaxPageSize
	}
	if requested <= 0 || requested > apiMax {
		return apiMax
	}
	return requested
}

type idRef struct {
	Arn string `json:"Arn"`
	ID  string `json:"Id"`
}

type agentStatusSummary struct {
	Arn                string  `json:"Arn"`
	ID                 string  `json:"Id"`
	LastModifiedRegion string  `json:"LastModifiedRegion"`
	LastModifiedTime   float64 `json:"LastModifiedTime"`
	Name               string  `json:"Name"`
	Type               string  `json:"Type"`
}

func (s *Sim) listAgentStatuses(p map[string]string, q url.Values, _ []byte) (any, *apiError) {
	unlock, aerr := s.lockInstance(p["InstanceId"])
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	size := 0
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, errParam("maxResults must be between 1 and 1000")
		}
		size = n
	}
	types := map[string]bool{}
	for _, t := range q["AgentStatusTypes"] {
		types[t] = true
	}
	var all []agentStatusSummary
	for _, id := range s.statusOrder {
		st := s.statuses[id]
		if len(types) > 0 && !types[string(st.typ)] {
			continue
		}
		all = append(all, agentStatusSummary{Arn: st.arn, ID: st.id, LastModifiedRegion: s.region, LastModifiedTime: epoch(st.modified), Name: st.name, Type: string(st.typ)})
	}
	start, end, next, aerr := page("ListAgentStatuses", len(all), q.Get("nextToken"), s.pageSize(size, 1000), 1000)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		AgentStatusSummaryList []agentStatusSummary `json:"AgentStatusSummaryList"`
		NextToken              *string              `json:"NextToken,omitempty"`
	}{append([]agentStatusSummary{}, all[start:end]...), next}, nil
}

func (s *Sim) putUserStatus(p map[string]string, _ url.Values, body []byte) (any, *apiError) {
	var in struct{ AgentStatusId string }
	if aerr := decodeBody(body, &in); aerr != nil {
		return nil, aerr
	}
	unlock, aerr := s.lockInstance(p["InstanceId"])
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	u := s.users[p["UserId"]]
	if u == nil {
		return nil, errNotFound("User not found: %s", p["UserId"])
	}
	if in.AgentStatusId == "" {
		return nil, errParam("AgentStatusId is required")
	}
	st := s.statuses[in.AgentStatusId]
	if st == nil {
		return nil, errNotFound("Agent status not found: %s", in.AgentStatusId)
	}
	if !st.enabled {
		return nil, errRequest("Agent status %s is disabled", in.AgentStatusId)
	}
	s.applyStatus(u, st)
	return nil, nil
}

type userDataFilters struct {
	Agents              []string
	Queues              []string
	RoutingProfiles     []string
	UserHierarchyGroups []string
	ContactFilter       *struct{ ContactStates []string }
}

type agentContactRef struct {
	AgentContactState         string   `json:"AgentContactState"`
	Channel                   string   `json:"Channel"`
	ConnectedToAgentTimestamp *float64 `json:"ConnectedToAgentTimestamp,omitempty"`
	ContactID                 string   `json:"ContactId"`
	InitiationMethod          string   `json:"InitiationMethod"`
	Queue                     *idRef   `json:"Queue,omitempty"`
	StateStartTimestamp       float64  `json:"StateStartTimestamp"`
}

type agentStatusRef struct {
	StatusArn            string  `json:"StatusArn"`
	StatusName           string  `json:"StatusName"`
	StatusStartTimestamp float64 `json:"StatusStartTimestamp"`
}

type userData struct {
	ActiveSlotsByChannel    map[string]int    `json:"ActiveSlotsByChannel"`
	AvailableSlotsByChannel map[string]int    `json:"AvailableSlotsByChannel"`
	Contacts                []agentContactRef `json:"Contacts"`
	HierarchyPath           struct{}          `json:"HierarchyPath"`
	MaxSlotsByChannel       map[string]int    `json:"MaxSlotsByChannel"`
	NextStatus              *string           `json:"NextStatus,omitempty"`
	RoutingProfile          idRef             `json:"RoutingProfile"`
	Status                  agentStatusRef    `json:"Status"`
	User                    idRef             `json:"User"`
}

// idSet accepts ids or ARNs (the API takes either) and matches both.
func idSet(refs []string) map[string]bool {
	set := make(map[string]bool, len(refs))
	for _, r := range refs {
		set[r] = true
		if i := strings.LastIndex(r, "/"); i >= 0 && strings.HasPrefix(r, "arn:") {
			set[r[i+1:]] = true
		}
	}
	return set
}

func (s *Sim) getCurrentUserData(p map[string]string, _ url.Values, body []byte) (any, *apiError) {
	var in struct {
		Filters    *userDataFilters
		MaxResults int
		NextToken  string
	}
	if aerr := decodeBody(body, &in); aerr != nil {
		return nil, aerr
	}
	unlock, aerr := s.lockInstance(p["InstanceId"])
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	f := in.Filters
	if f == nil {
		return nil, errParam("Filters is required")
	}
	if len(f.Agents)+len(f.Queues)+len(f.RoutingProfiles)+len(f.UserHierarchyGroups) == 0 {
		return nil, errParam("Filters must contain Agents, Queues, RoutingProfiles or UserHierarchyGroups")
	}
	if len(f.Agents) > 100 {
		return nil, errParam("Filters.Agents accepts at most 100 agents, got %d", len(f.Agents))
	}
	if in.MaxResults < 0 || in.MaxResults > 100 {
		return nil, errParam("MaxResults must be between 1 and 100")
	}
	agents, queues, profiles := idSet(f.Agents), idSet(f.Queues), idSet(f.RoutingProfiles)
	states := map[string]bool{}
	if f.ContactFilter != nil {
		for _, st := range f.ContactFilter.ContactStates {
			states[st] = true
		}
	}
	var all []userData
	for _, id := range s.userOrder {
		u := s.users[id]
		if !u.loggedIn || !s.userMatches(u, agents, queues, profiles, len(f.UserHierarchyGroups) > 0) {
			continue
		}
		d := s.userData(u)
		if len(states) > 0 {
			kept := d.Contacts[:0]
			for _, c := range d.Contacts {
				if states[c.AgentContactState] {
					kept = append(kept, c)
				}
			}
			if len(kept) == 0 {
				continue
			}
			d.Contacts = kept
		}
		all = append(all, d)
	}
	start, end, next, aerr := page("GetCurrentUserData", len(all), in.NextToken, s.pageSize(in.MaxResults, 100), 100)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		ApproximateTotalCount int        `json:"ApproximateTotalCount"`
		NextToken             *string    `json:"NextToken,omitempty"`
		UserDataList          []userData `json:"UserDataList"`
	}{len(all), next, append([]userData{}, all[start:end]...)}, nil
}

// userMatches applies GetCurrentUserData's filters; the sim has no hierarchy groups, so a
// hierarchy filter matches nobody.
func (s *Sim) userMatches(u *user, agents, queues, profiles map[string]bool, byHierarchy bool) bool {
	if len(agents) > 0 && !agents[u.id] && !agents[u.arn] {
		return false
	}
	if len(profiles) > 0 && !profiles[u.profileID] {
		return false
	}
	if len(queues) > 0 {
		found := false
		for _, q := range s.profiles[u.profileID].inboundQueues {
			found = found || queues[q]
		}
		if !found {
			return false
		}
	}
	return !byHierarchy
}

func (s *Sim) userData(u *user) userData {
	rp := s.profiles[u.profileID]
	st := s.statuses[u.statusID]
	d := userData{
		ActiveSlotsByChannel:    map[string]int{},
		AvailableSlotsByChannel: map[string]int{},
		MaxSlotsByChannel:       map[string]int{},
		Contacts:                []agentContactRef{},
		RoutingProfile:          idRef{Arn: rp.arn, ID: rp.id},
		Status:                  agentStatusRef{StatusArn: st.arn, StatusName: st.name, StatusStartTimestamp: epoch(u.statusStart)},
		User:                    idRef{Arn: u.arn, ID: u.id},
	}
	for ch, n := range rp.concurrency {
		avail := s.availableSlots(u, ch)
		d.MaxSlotsByChannel[string(ch)] = n
		d.AvailableSlotsByChannel[string(ch)] = avail
		d.ActiveSlotsByChannel[string(ch)] = n - avail
	}
	if u.next != nil {
		name := s.statuses[u.next.statusID].name
		d.NextStatus = &name
	}
	for _, c := range u.contacts {
		ref := agentContactRef{
			AgentContactState: string(c.state), Channel: string(c.channel), ContactID: c.id,
			InitiationMethod: string(c.method), StateStartTimestamp: epoch(c.stateStart),
		}
		if c.connectedAt != nil {
			t := epoch(*c.connectedAt)
			ref.ConnectedToAgentTimestamp = &t
		}
		if q := s.queues[c.queueID]; q != nil {
			ref.Queue = &idRef{Arn: q.arn, ID: q.id}
		}
		d.Contacts = append(d.Contacts, ref)
	}
	return d
}

type searchCriteria struct {
	AndConditions           []searchCriteria
	OrConditions            []searchCriteria
	StringCondition         *struct{ FieldName, Value, ComparisonType string }
	HierarchyGroupCondition json.RawMessage
	ListCondition           json.RawMessage
}

type identityInfo struct {
	Email     string `json:"Email,omitempty"`
	FirstName string `json:"FirstName,omitempty"`
	LastName  string `json:"LastName,omitempty"`
}

type phoneConfig struct {
	AfterContactWorkTimeLimit int    `json:"AfterContactWorkTimeLimit"`
	AutoAccept                bool   `json:"AutoAccept"`
	PhoneType                 string `json:"PhoneType"`
}

type userSearchSummary struct {
	Arn                string        `json:"Arn"`
	ID                 string        `json:"Id"`
	IdentityInfo       *identityInfo `json:"IdentityInfo,omitempty"`
	PhoneConfig        phoneConfig   `json:"PhoneConfig"`
	RoutingProfileID   string        `json:"RoutingProfileId"`
	SecurityProfileIDs []string      `json:"SecurityProfileIds"`
	Username           string        `json:"Username"`
}

// matchCriteria evaluates UserSearchCriteria. Fields and comparisons are case-insensitive, as
// Connect's search is.
func (s *Sim) matchCriteria(u *user, c *searchCriteria) (bool, *apiError) {
	if c == nil {
		return true, nil
	}
	if len(c.HierarchyGroupCondition) > 0 || len(c.ListCondition) > 0 {
		return false, errParam("connectsim supports only StringCondition, AndConditions and OrConditions in SearchCriteria")
	}
	for i := range c.AndConditions {
		ok, aerr := s.matchCriteria(u, &c.AndConditions[i])
		if aerr != nil || !ok {
			return false, aerr
		}
	}
	if len(c.OrConditions) > 0 {
		matched := false
		for i := range c.OrConditions {
			ok, aerr := s.matchCriteria(u, &c.OrConditions[i])
			if aerr != nil {
				return false, aerr
			}
			matched = matched || ok
		}
		if !matched {
			return false, nil
		}
	}
	sc := c.StringCondition
	if sc == nil {
		return true, nil
	}
	var field string
	switch strings.ToLower(sc.FieldName) {
	case "username":
		field = u.username
	case "firstname":
		field = u.firstName
	case "lastname":
		field = u.lastName
	case "resourceid":
		field = u.id
	case "routingprofileid":
		field = u.profileID
	default:
		return false, errParam("unsupported FieldName %q", sc.FieldName)
	}
	f, v := strings.ToLower(field), strings.ToLower(sc.Value)
	switch sc.ComparisonType {
	case "EXACT":
		return f == v, nil
	case "CONTAINS":
		return strings.Contains(f, v), nil
	case "STARTS_WITH":
		return strings.HasPrefix(f, v), nil
	}
	return false, errParam("unsupported ComparisonType %q", sc.ComparisonType)
}

func (s *Sim) userSummary(u *user) userSearchSummary {
	sum := userSearchSummary{
		Arn: u.arn, ID: u.id, Username: u.username, RoutingProfileID: u.profileID,
		PhoneConfig: phoneConfig{PhoneType: "SOFT_PHONE"}, SecurityProfileIDs: []string{stableID("security-profile", "Agent")},
	}
	if u.firstName != "" || u.lastName != "" || u.email != "" {
		sum.IdentityInfo = &identityInfo{Email: u.email, FirstName: u.firstName, LastName: u.lastName}
	}
	return sum
}

func (s *Sim) searchUsers(_ map[string]string, _ url.Values, body []byte) (any, *apiError) {
	var in struct {
		InstanceId     string
		MaxResults     int
		NextToken      string
		SearchCriteria *searchCriteria
	}
	if aerr := decodeBody(body, &in); aerr != nil {
		return nil, aerr
	}
	unlock, aerr := s.lockInstance(in.InstanceId)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	if in.MaxResults < 0 || in.MaxResults > 500 {
		return nil, errParam("MaxResults must be between 1 and 500")
	}
	var all []userSearchSummary
	for _, id := range s.userOrder {
		u := s.users[id]
		ok, aerr := s.matchCriteria(u, in.SearchCriteria)
		if aerr != nil {
			return nil, aerr
		}
		if ok {
			all = append(all, s.userSummary(u))
		}
	}
	start, end, next, aerr := page("SearchUsers", len(all), in.NextToken, s.pageSize(in.MaxResults, 100), 100)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		ApproximateTotalCount int                 `json:"ApproximateTotalCount"`
		NextToken             *string             `json:"NextToken,omitempty"`
		Users                 []userSearchSummary `json:"Users"`
	}{len(all), next, append([]userSearchSummary{}, all[start:end]...)}, nil
}

func (s *Sim) describeUser(p map[string]string, _ url.Values, _ []byte) (any, *apiError) {
	unlock, aerr := s.lockInstance(p["InstanceId"])
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	u := s.users[p["UserId"]]
	if u == nil {
		return nil, errNotFound("User not found: %s", p["UserId"])
	}
	sum := s.userSummary(u)
	return map[string]any{"User": struct {
		userSearchSummary
		LastModifiedRegion string            `json:"LastModifiedRegion"`
		LastModifiedTime   float64           `json:"LastModifiedTime"`
		Tags               map[string]string `json:"Tags"`
	}{sum, s.region, epoch(u.modified), map[string]string{}}}, nil
}

var referenceTypes = map[string]bool{"URL": true, "ATTACHMENT": true, "NUMBER": true, "STRING": true, "DATE": true, "EMAIL": true}

// taskRequest is StartTaskContact's body. Its JSON form, ClientToken left out, is the
// fingerprint a repeated ClientToken is compared on.
type taskRequest struct {
	Attributes        map[string]string                       `json:",omitempty"`
	ClientToken       string                                  `json:"-"`
	ContactFlowId     string                                  `json:",omitempty"`
	Description       string                                  `json:",omitempty"`
	InstanceId        string                                  `json:",omitempty"`
	Name              string                                  `json:",omitempty"`
	PreviousContactId string                                  `json:",omitempty"`
	QuickConnectId    string                                  `json:",omitempty"`
	References        map[string]struct{ Type, Value string } `json:",omitempty"`
	RelatedContactId  string                                  `json:",omitempty"`
	ScheduledTime     *float64                                `json:",omitempty"`
	TaskTemplateId    string                                  `json:",omitempty"`
}

// tokenUse is what the sim remembers of a ClientToken: the contact it created, the request's
// fingerprint, and how often it came back with the same or with other parameters.
type tokenUse struct {
	contactID   string
	fingerprint string
	replays     int
	mismatches  int
}

// TokenUse reports how one StartTaskContact ClientToken was used, for idempotency assertions.
type TokenUse struct {
	Token     string
	ContactID string
	// Replays counts later requests with the same token and the same parameters.
	Replays int
	// Mismatches counts later requests with the same token and other parameters.
	Mismatches int
}

// ClientTokens returns every ClientToken StartTaskContact has seen, by contact creation order.
func (s *Sim) ClientTokens() []TokenUse {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TokenUse, 0, len(s.tokens))
	for tok, u := range s.tokens {
		out = append(out, TokenUse{Token: tok, ContactID: u.contactID, Replays: u.replays, Mismatches: u.mismatches})
	}
	sort.Slice(out, func(i, j int) bool {
		ci, cj := s.contacts[out[i].ContactID], s.contacts[out[j].ContactID]
		if !ci.created.Equal(cj.created) {
			return ci.created.Before(cj.created)
		}
		return out[i].Token < out[j].Token
	})
	return out
}

func (s *Sim) startTaskContact(_ map[string]string, _ url.Values, body []byte) (any, *apiError) {
	var in taskRequest
	if aerr := decodeBody(body, &in); aerr != nil {
		return nil, aerr
	}
	if err := json.Unmarshal(body, &struct{ ClientToken *string }{&in.ClientToken}); err != nil {
		return nil, &apiError{http.StatusBadRequest, "SerializationException", "could not parse request body: " + err.Error()}
	}
	unlock, aerr := s.lockInstance(in.InstanceId)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	fp, _ := json.Marshal(in) // cannot fail: strings, maps of strings and a float
	if use, ok := s.tokens[in.ClientToken]; ok && in.ClientToken != "" {
		// Connect keeps a ClientToken for 7 days and answers a repeat with the contact it
		// created. A repeat with other parameters is answered the same way unless
		// Options.StrictClientToken asks for the IdempotencyException other Connect operations
		// give.
		if use.fingerprint == string(fp) {
			use.replays++
			return map[string]string{"ContactId": use.contactID}, nil
		}
		use.mismatches++
		if s.opts.StrictClientToken {
			return nil, &apiError{http.StatusConflict, "IdempotencyException", "ClientToken " + in.ClientToken + " was already used with different parameters"}
		}
		return map[string]string{"ContactId": use.contactID}, nil
	}
	switch {
	case in.Name == "":
		return nil, errParam("Name is required")
	case len([]rune(in.Name)) > 512:
		return nil, errParam("Name must be at most 512 characters")
	case len([]rune(in.Description)) > 4096:
		return nil, errParam("Description must be at most 4096 characters")
	case len(in.ClientToken) > 500:
		return nil, errParam("ClientToken must be at most 500 characters")
	case in.ContactFlowId == "" && in.TaskTemplateId == "" && in.QuickConnectId == "":
		return nil, errRequest("ContactFlowId, TaskTemplateId or QuickConnectId is required")
	case len(in.References) > 25:
		return nil, errParam("at most 25 References are allowed")
	}
	refs := map[string]Reference{}
	for name, r := range in.References {
		if !referenceTypes[r.Type] {
			return nil, errParam("Reference %q has invalid Type %q", name, r.Type)
		}
		refs[name] = Reference{Type: r.Type, Value: r.Value}
	}
	for _, rel := range []string{in.PreviousContactId, in.RelatedContactId} {
		if rel != "" && s.contacts[rel] == nil {
			return nil, errNotFound("Contact not found: %s", rel)
		}
	}
	var flow *contactFlow
	if in.ContactFlowId != "" {
		if flow = s.flows[in.ContactFlowId]; flow == nil {
			return nil, errNotFound("Contact flow not found: %s", in.ContactFlowId)
		}
	}
	c, err := s.newQueuedContact("", agentevent.ChannelTask, agentevent.InitiationAPI)
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, "InternalServiceException", err.Error()}
	}
	c.viaAPI, c.name, c.description, c.flowID, c.clientToken = true, in.Name, in.Description, in.ContactFlowId, in.ClientToken
	c.previousID, c.relatedID, c.references = in.PreviousContactId, in.RelatedContactId, refs
	if in.PreviousContactId != "" {
		c.initialID = s.contacts[in.PreviousContactId].initialID
	}
	for k, v := range in.Attributes {
		c.attributes[k] = v
	}
	if in.ClientToken != "" {
		s.tokens[in.ClientToken] = &tokenUse{contactID: c.id, fingerprint: string(fp)}
	}
	s.emitContact(contactevent.Initiated, c)
	if flow != nil && flow.queueID != "" {
		if !s.runFlowBlocks(flow, c) {
			now := s.now()
			c.ended, c.disconnectedAt, c.updated = true, &now, now
			s.emitContact(contactevent.Disconnected, c)
			s.emitContact(contactevent.Completed, c)
		} else {
			s.enqueue(c, flow.queueID)
		}
	}
	return map[string]string{"ContactId": c.id}, nil
}

func (s *Sim) stopContact(_ map[string]string, _ url.Values, body []byte) (any, *apiError) {
	var in struct{ ContactId, InstanceId string }
	if aerr := decodeBody(body, &in); aerr != nil {
		return nil, aerr
	}
	unlock, aerr := s.lockInstance(in.InstanceId)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	c := s.contacts[in.ContactId]
	if c == nil || c.ended {
		return nil, &apiError{http.StatusGone, "ContactNotFoundException", "Contact not found or already ended: " + in.ContactId}
	}
	if c.agentID != "" {
		s.setState(c, agentevent.ContactStateEnded) // the agent goes to ACW, as for a hang-up
		return nil, nil
	}
	// On no agent there is no after contact work: COMPLETED follows DISCONNECTED at once.
	now := s.now()
	c.ended, c.disconnectedAt, c.updated = true, &now, now
	s.emitContact(contactevent.Disconnected, c)
	s.emitContact(contactevent.Completed, c)
	return nil, nil
}

func (s *Sim) updateContactAttributes(_ map[string]string, _ url.Values, body []byte) (any, *apiError) {
	var in struct {
		Attributes       map[string]string
		InitialContactId string
		InstanceId       string
	}
	if aerr := decodeBody(body, &in); aerr != nil {
		return nil, aerr
	}
	unlock, aerr := s.lockInstance(in.InstanceId)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	if in.Attributes == nil {
		return nil, errParam("Attributes is required")
	}
	if in.InitialContactId == "" {
		return nil, errParam("InitialContactId is required")
	}
	var targets []*contact
	for _, c := range s.contacts {
		if c.id == in.InitialContactId || c.initialID == in.InitialContactId {
			targets = append(targets, c)
		}
	}
	if len(targets) == 0 {
		return nil, errNotFound("Contact not found: %s", in.InitialContactId)
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].id < targets[j].id })
	for _, c := range targets {
		if c.attributes == nil {
			c.attributes = map[string]string{}
		}
		for k, v := range in.Attributes {
			c.attributes[k] = v
		}
		c.updated = s.now()
		if !c.ended {
			s.emitContact(contactevent.ContactDataUpdated, c, contactevent.PropertyUserDefinedAttributes)
		}
	}
	return nil, nil
}

// runFlowBlocks runs the flow's dynamic "Set routing criteria" and "Set routing priority" blocks
// on a task before its transfer, and reports whether they succeeded (false: the error branch,
// which disconnects). Callers hold s.mu.
func (s *Sim) runFlowBlocks(flow *contactFlow, c *contact) bool {
	if flow.criteriaAttr != "" {
		if raw, ok := c.attributes[flow.criteriaAttr]; ok {
			var rc struct{ Steps []routingStep }
			if json.Unmarshal([]byte(raw), &rc) != nil || len(rc.Steps) == 0 || len(rc.Steps) > maxRoutingSteps {
				return false
			}
			for i, st := range rc.Steps {
				if st.Expression == nil || s.checkExpression(fmt.Sprintf("RoutingCriteria.Steps[%d].Expression", i), st.Expression, 1) != nil {
					return false
				}
			}
			c.routing = &routingCriteria{activation: s.now(), steps: rc.Steps}
		}
	}
	if flow.priorityAttr != "" {
		if raw, ok := c.attributes[flow.priorityAttr]; ok {
			p, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || p < 1 {
				return false
			}
			c.priority = p
		}
	}
	return true
}
