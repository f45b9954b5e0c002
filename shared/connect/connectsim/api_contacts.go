package connectsim

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/omnibridge/omnibridge/shared/contactevent"
)

// routingCriteria is what UpdateContactRoutingData set on a contact.
type routingCriteria struct {
	activation time.Time
	index      int
	steps      []routingStep
}

type routingStep struct {
	Expiry     *struct{ DurationInSeconds *int32 } `json:"Expiry,omitempty"`
	Expression *expression                         `json:"Expression"`
}

// expression is a routing expression in the API's shape (RoutingCriteriaInput and
// DescribeContact use the same member names).
type expression struct {
	AndExpression         []expression `json:"AndExpression,omitempty"`
	AttributeCondition    *condition   `json:"AttributeCondition,omitempty"`
	NotAttributeCondition *condition   `json:"NotAttributeCondition,omitempty"`
	OrExpression          []expression `json:"OrExpression,omitempty"`
}

type condition struct {
	ComparisonOperator *string `json:"ComparisonOperator,omitempty"`
	MatchCriteria      *struct {
		AgentsCriteria *struct {
			AgentIds []string `json:"AgentIds"`
		} `json:"AgentsCriteria,omitempty"`
	} `json:"MatchCriteria,omitempty"`
	Name             *string  `json:"Name,omitempty"`
	ProficiencyLevel *float64 `json:"ProficiencyLevel,omitempty"`
	Range            *struct {
		MaxProficiencyLevel *float64 `json:"MaxProficiencyLevel,omitempty"`
		MinProficiencyLevel *float64 `json:"MinProficiencyLevel,omitempty"`
	} `json:"Range,omitempty"`
	Value *string `json:"Value,omitempty"`
}

// maxRoutingSteps is the most steps routing criteria may have (the contact events data model
// gives Steps a length of 1-5).
const maxRoutingSteps = 5

func (s *Sim) updateContactRoutingData(p map[string]string, _ url.Values, body []byte) (any, *apiError) {
	var in struct {
		QueuePriority              *int64
		QueueTimeAdjustmentSeconds *int32
		RoutingCriteria            *struct{ Steps []routingStep }
	}
	if aerr := decodeBody(body, &in); aerr != nil {
		return nil, aerr
	}
	unlock, aerr := s.lockInstance(p["InstanceId"])
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	c := s.contacts[p["ContactId"]]
	if c == nil || c.ended {
		return nil, errNotFound("Contact not found or already ended: %s", p["ContactId"])
	}
	if in.QueuePriority != nil && *in.QueuePriority < 1 {
		return nil, errParam("QueuePriority must be at least 1")
	}
	if rc := in.RoutingCriteria; rc != nil {
		if len(rc.Steps) == 0 || len(rc.Steps) > maxRoutingSteps {
			return nil, errParam("RoutingCriteria.Steps must have 1 to %d steps, got %d", maxRoutingSteps, len(rc.Steps))
		}
		for i, st := range rc.Steps {
			path := fmt.Sprintf("RoutingCriteria.Steps[%d]", i)
			if st.Expiry != nil && st.Expiry.DurationInSeconds != nil && *st.Expiry.DurationInSeconds < 0 {
				return nil, errParam("%s.Expiry.DurationInSeconds must not be negative", path)
			}
			if st.Expression == nil {
				return nil, errParam("%s.Expression is required", path)
			}
			if aerr := s.checkExpression(path+".Expression", st.Expression, 1); aerr != nil {
				return nil, aerr
			}
		}
		idx := 0
		if c.routing != nil {
			idx = c.routing.index + 1
		}
		c.routing = &routingCriteria{activation: s.now(), index: idx, steps: rc.Steps}
	}
	if in.QueuePriority != nil {
		c.priority = *in.QueuePriority
	}
	if in.QueueTimeAdjustmentSeconds != nil {
		c.timeAdjust = *in.QueueTimeAdjustmentSeconds
	}
	c.updated = s.now()
	return nil, nil
}

// checkExpression validates one routing expression against the predefined attributes.
func (s *Sim) checkExpression(path string, x *expression, depth int) *apiError {
	if depth > 3 {
		return errParam("%s is nested too deeply", path)
	}
	n := len(x.AndExpression) + len(x.OrExpression)
	if x.AttributeCondition != nil {
		n++
	}
	if x.NotAttributeCondition != nil {
		n++
	}
	if n == 0 {
		return errParam("%s must have a condition or an AndExpression or OrExpression", path)
	}
	for _, c := range []struct {
		name string
		c    *condition
	}{{"AttributeCondition", x.AttributeCondition}, {"NotAttributeCondition", x.NotAttributeCondition}} {
		if c.c != nil {
			if aerr := s.checkCondition(path+"."+c.name, c.c); aerr != nil {
				return aerr
			}
		}
	}
	for i := range x.AndExpression {
		if aerr := s.checkExpression(fmt.Sprintf("%s.AndExpression[%d]", path, i), &x.AndExpression[i], depth+1); aerr != nil {
			return aerr
		}
	}
	for i := range x.OrExpression {
		if aerr := s.checkExpression(fmt.Sprintf("%s.OrExpression[%d]", path, i), &x.OrExpression[i], depth+1); aerr != nil {
			return aerr
		}
	}
	return nil
}

func (s *Sim) checkCondition(path string, c *condition) *apiError {
	op := ""
	if c.ComparisonOperator != nil {
		op = *c.ComparisonOperator
	}
	switch op {
	case "Match":
		if c.MatchCriteria == nil || c.MatchCriteria.AgentsCriteria == nil || len(c.MatchCriteria.AgentsCriteria.AgentIds) == 0 {
			return errParam("%s: Match needs MatchCriteria.AgentsCriteria.AgentIds", path)
		}
		for _, id := range c.MatchCriteria.AgentsCriteria.AgentIds {
			if s.users[id] == nil {
				return errParam("%s: unknown agent %q", path, id)
			}
		}
		return nil
	case "NumberGreaterOrEqualTo", "Range":
	default:
		return errParam("%s.ComparisonOperator must be NumberGreaterOrEqualTo, Range or Match, got %q", path, op)
	}
	name, value := deref(c.Name), deref(c.Value)
	attr := s.attributes[name]
	if attr == nil {
		return errParam("%s.Name: no predefined attribute %q", path, name)
	}
	found := false
	for _, v := range attr.values {
		found = found || v == value
	}
	if !found {
		return errParam("%s.Value: %q is not a value of predefined attribute %q", path, value, name)
	}
	level := func(p string, f *float64) *apiError {
		if f == nil || *f < 1 || *f > 5 || *f != math.Trunc(*f) {
			return errParam("%s.%s must be 1.0, 2.0, 3.0, 4.0 or 5.0", path, p)
		}
		return nil
	}
	if op == "Range" {
		if c.Range == nil {
			return errParam("%s.Range is required for Range", path)
		}
		if aerr := level("Range.MinProficiencyLevel", c.Range.MinProficiencyLevel); aerr != nil {
			return aerr
		}
		return level("Range.MaxProficiencyLevel", c.Range.MaxProficiencyLevel)
	}
	return level("ProficiencyLevel", c.ProficiencyLevel)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

type stepView struct {
	Expiry *struct {
		DurationInSeconds *int32   `json:"DurationInSeconds,omitempty"`
		ExpiryTimestamp   *float64 `json:"ExpiryTimestamp,omitempty"`
	} `json:"Expiry,omitempty"`
	Expression *expression `json:"Expression"`
	Status     string      `json:"Status"`
}

// stepStatuses walks the steps on the clock: each step is ACTIVE for its DurationInSeconds
// after the previous one expired; the step active when an agent connected is JOINED and the
// later ones stay INACTIVE. It returns each step's status and expiry instant (nil for a step
// without expiry or not yet active).
func (rc *routingCriteria) stepStatuses(now time.Time, connected *time.Time) ([]string, []*time.Time) {
	statuses := make([]string, len(rc.steps))
	expiries := make([]*time.Time, len(rc.steps))
	at := now
	if connected != nil {
		at = *connected
	}
	start := rc.activation
	decided := false
	for i, st := range rc.steps {
		if decided {
			statuses[i] = "INACTIVE"
			continue
		}
		var end *time.Time
		if st.Expiry != nil && st.Expiry.DurationInSeconds != nil {
			e := start.Add(time.Duration(*st.Expiry.DurationInSeconds) * time.Second)
			end = &e
		}
		expiries[i] = end
		switch {
		case end != nil && !at.Before(*end):
			statuses[i] = "EXPIRED"
			start = *end
		case connected != nil:
			statuses[i], decided = "JOINED", true
		default:
			statuses[i], decided = "ACTIVE", true
		}
	}
	return statuses, expiries
}

func (s *Sim) routingView(c *contact) any {
	rc := c.routing
	if rc == nil {
		return nil
	}
	statuses, expiries := rc.stepStatuses(s.now(), c.connectedAt)
	steps := make([]stepView, len(rc.steps))
	for i, st := range rc.steps {
		steps[i] = stepView{Expression: st.Expression, Status: statuses[i]}
		if st.Expiry != nil {
			steps[i].Expiry = &struct {
				DurationInSeconds *int32   `json:"DurationInSeconds,omitempty"`
				ExpiryTimestamp   *float64 `json:"ExpiryTimestamp,omitempty"`
			}{DurationInSeconds: st.Expiry.DurationInSeconds}
			if e := expiries[i]; e != nil && statuses[i] != "INACTIVE" {
				v := epoch(*e)
				steps[i].Expiry.ExpiryTimestamp = &v
			}
		}
	}
	return struct {
		ActivationTimestamp float64    `json:"ActivationTimestamp"`
		Index               int        `json:"Index"`
		Steps               []stepView `json:"Steps"`
	}{epoch(rc.activation), rc.index, steps}
}

// eventRouting renders the routing criteria for a contact event.
func (s *Sim) eventRouting(c *contact) []contactevent.RoutingCriteria {
	rc := c.routing
	if rc == nil {
		return nil
	}
	statuses, expiries := rc.stepStatuses(s.now(), c.connectedAt)
	out := contactevent.RoutingCriteria{ActivationTimestamp: timePtr(rc.activation), Index: rc.index}
	for i, st := range rc.steps {
		step := contactevent.RoutingStep{Status: statuses[i], Expression: eventExpression(st.Expression)}
		if st.Expiry != nil && st.Expiry.DurationInSeconds != nil {
			d := int(*st.Expiry.DurationInSeconds)
			step.Expiry = &contactevent.Expiry{DurationInSeconds: &d}
			if statuses[i] != "INACTIVE" {
				step.Expiry.ExpiryTimestamp = copyTime(expiries[i])
			}
		}
		out.Steps = append(out.Steps, step)
	}
	return []contactevent.RoutingCriteria{out}
}

func eventExpression(x *expression) contactevent.Expression {
	if x == nil {
		return contactevent.Expression{}
	}
	out := contactevent.Expression{AttributeCondition: eventCondition(x.AttributeCondition), NotAttributeCondition: eventCondition(x.NotAttributeCondition)}
	for i := range x.AndExpression {
		out.AndExpression = append(out.AndExpression, eventExpression(&x.AndExpression[i]))
	}
	for i := range x.OrExpression {
		out.OrExpression = append(out.OrExpression, eventExpression(&x.OrExpression[i]))
	}
	return out
}

func eventCondition(c *condition) *contactevent.AttributeCondition {
	if c == nil {
		return nil
	}
	out := &contactevent.AttributeCondition{Name: deref(c.Name), Value: deref(c.Value), ComparisonOperator: deref(c.ComparisonOperator), ProficiencyLevel: c.ProficiencyLevel}
	if c.Range != nil {
		out.MinProficiencyLevel, out.MaxProficiencyLevel = c.Range.MinProficiencyLevel, c.Range.MaxProficiencyLevel
	}
	if c.MatchCriteria != nil && c.MatchCriteria.AgentsCriteria != nil {
		out.AgentIDs = append([]string(nil), c.MatchCriteria.AgentsCriteria.AgentIds...)
	}
	return out
}

type endpointInfo struct {
	Address string `json:"Address"`
	Type    string `json:"Type"`
}

func optEpoch(t *time.Time) *float64 {
	if t == nil {
		return nil
	}
	v := epoch(*t)
	return &v
}

func (s *Sim) describeContact(p map[string]string, _ url.Values, _ []byte) (any, *apiError) {
	unlock, aerr := s.lockInstance(p["InstanceId"])
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	c := s.contacts[p["ContactId"]]
	if c == nil {
		return nil, errNotFound("Contact not found: %s", p["ContactId"])
	}
	type queueInfo struct {
		EnqueueTimestamp *float64 `json:"EnqueueTimestamp,omitempty"`
		ID               string   `json:"Id"`
	}
	type agentInfo struct {
		AfterContactWorkDuration       *int     `json:"AfterContactWorkDuration,omitempty"`
		AfterContactWorkEndTimestamp   *float64 `json:"AfterContactWorkEndTimestamp,omitempty"`
		AfterContactWorkStartTimestamp *float64 `json:"AfterContactWorkStartTimestamp,omitempty"`
		ConnectedToAgentTimestamp      *float64 `json:"ConnectedToAgentTimestamp,omitempty"`
		ID                             string   `json:"Id"`
	}
	out := struct {
		AgentInfo                  *agentInfo        `json:"AgentInfo,omitempty"`
		Arn                        string            `json:"Arn"`
		Attributes                 map[string]string `json:"Attributes"`
		Channel                    string            `json:"Channel"`
		ConnectedToSystemTimestamp *float64          `json:"ConnectedToSystemTimestamp,omitempty"`
		CustomerEndpoint           *endpointInfo     `json:"CustomerEndpoint,omitempty"`
		Description                string            `json:"Description,omitempty"`
		DisconnectTimestamp        *float64          `json:"DisconnectTimestamp,omitempty"`
		ID                         string            `json:"Id"`
		InitialContactID           string            `json:"InitialContactId,omitempty"`
		InitiationMethod           string            `json:"InitiationMethod"`
		InitiationTimestamp        float64           `json:"InitiationTimestamp"`
		LastUpdateTimestamp        float64           `json:"LastUpdateTimestamp"`
		Name                       string            `json:"Name,omitempty"`
		PreviousContactID          string            `json:"PreviousContactId,omitempty"`
		QueueInfo                  *queueInfo        `json:"QueueInfo,omitempty"`
		QueuePriority              *int64            `json:"QueuePriority,omitempty"`
		QueueTimeAdjustmentSeconds *int32            `json:"QueueTimeAdjustmentSeconds,omitempty"`
		RelatedContactID           string            `json:"RelatedContactId,omitempty"`
		RoutingCriteria            any               `json:"RoutingCriteria,omitempty"`
		SystemEndpoint             *endpointInfo     `json:"SystemEndpoint,omitempty"`
		Tags                       map[string]string `json:"Tags"`
	}{
		Arn: s.instanceARN + "/contact/" + c.id, Attributes: c.attributes, Channel: string(c.channel),
		ConnectedToSystemTimestamp: optEpoch(c.connectedToSystem), Description: c.description,
		DisconnectTimestamp: optEpoch(c.disconnectedAt), ID: c.id, InitialContactID: c.initialID,
		InitiationMethod: string(c.method), InitiationTimestamp: epoch(c.created), LastUpdateTimestamp: epoch(c.updated),
		Name: c.name, PreviousContactID: c.previousID, RelatedContactID: c.relatedID,
		Tags: map[string]string{"aws:connect:instanceId": s.instanceID},
	}
	if out.Attributes == nil {
		out.Attributes = map[string]string{}
	}
	if c.customer != "" {
		out.CustomerEndpoint = &endpointInfo{Address: c.customer, Type: "TELEPHONE_NUMBER"}
	}
	if c.system != "" {
		out.SystemEndpoint = &endpointInfo{Address: c.system, Type: "TELEPHONE_NUMBER"}
	}
	if c.queueID != "" && c.queuedAt != nil {
		out.QueueInfo = &queueInfo{EnqueueTimestamp: optEpoch(c.queuedAt), ID: c.queueID}
	}
	if c.lastAgentID != "" {
		a := &agentInfo{ID: c.lastAgentID, ConnectedToAgentTimestamp: optEpoch(c.connectedAt), AfterContactWorkStartTimestamp: optEpoch(c.acwStart), AfterContactWorkEndTimestamp: optEpoch(c.acwEnd)}
		if c.acwStart != nil && c.acwEnd != nil {
			d := int(c.acwEnd.Sub(*c.acwStart) / time.Second)
			a.AfterContactWorkDuration = &d
		}
		out.AgentInfo = a
	}
	if c.priority > 0 {
		out.QueuePriority = &c.priority
	}
	if c.timeAdjust != 0 {
		out.QueueTimeAdjustmentSeconds = &c.timeAdjust
	}
	if rc := s.routingView(c); rc != nil {
		out.RoutingCriteria = rc
	}
	return map[string]any{"Contact": out}, nil
}

// maxResults reads the maxResults query parameter within [1, apiMax]; absent is 0.
func maxResults(q url.Values, apiMax int) (int, *apiError) {
	v := q.Get("maxResults")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > apiMax {
		return 0, errParam("maxResults must be between 1 and %d", apiMax)
	}
	return n, nil
}

type queueSummary struct {
	Arn                string  `json:"Arn"`
	ID                 string  `json:"Id"`
	LastModifiedRegion string  `json:"LastModifiedRegion"`
	LastModifiedTime   float64 `json:"LastModifiedTime"`
	Name               string  `json:"Name"`
	QueueType          string  `json:"QueueType"`
}

func (s *Sim) listQueues(p map[string]string, q url.Values, _ []byte) (any, *apiError) {
	unlock, aerr := s.lockInstance(p["InstanceId"])
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	size, aerr := maxResults(q, 1000)
	if aerr != nil {
		return nil, aerr
	}
	for _, t := range q["queueTypes"] {
		if t != "STANDARD" && t != "AGENT" {
			return nil, errParam("queueTypes: unknown queue type %q", t)
		}
	}
	// The sim has no agent queues, so only STANDARD queues are ever listed.
	wantStandard := len(q["queueTypes"]) == 0
	for _, t := range q["queueTypes"] {
		wantStandard = wantStandard || t == "STANDARD"
	}
	var all []queueSummary
	if wantStandard {
		for _, id := range s.queueOrder {
			qu := s.queues[id]
			all = append(all, queueSummary{Arn: qu.arn, ID: qu.id, LastModifiedRegion: s.region, LastModifiedTime: epoch(qu.modified), Name: qu.name, QueueType: "STANDARD"})
		}
	}
	start, end, next, aerr := page("ListQueues", len(all), q.Get("nextToken"), s.pageSize(size, 1000), 1000)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		NextToken        *string        `json:"NextToken,omitempty"`
		QueueSummaryList []queueSummary `json:"QueueSummaryList"`
	}{next, append([]queueSummary{}, all[start:end]...)}, nil
}

func (s *Sim) describeQueue(p map[string]string, _ url.Values, _ []byte) (any, *apiError) {
	unlock, aerr := s.lockInstance(p["InstanceId"])
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	qu := s.queues[p["QueueId"]]
	if qu == nil {
		return nil, errNotFound("Queue not found: %s", p["QueueId"])
	}
	return map[string]any{"Queue": struct {
		HoursOfOperationID string            `json:"HoursOfOperationId"`
		LastModifiedRegion string            `json:"LastModifiedRegion"`
		LastModifiedTime   float64           `json:"LastModifiedTime"`
		Name               string            `json:"Name"`
		QueueArn           string            `json:"QueueArn"`
		QueueID            string            `json:"QueueId"`
		Status             string            `json:"Status"`
		Tags               map[string]string `json:"Tags"`
	}{stableID("hours-of-operation", "Basic Hours"), s.region, epoch(qu.modified), qu.name, qu.arn, qu.id, "ENABLED", map[string]string{}}}, nil
}

type flowSummary struct {
	Arn               string `json:"Arn"`
	ContactFlowState  string `json:"ContactFlowState"`
	ContactFlowStatus string `json:"ContactFlowStatus"`
	ContactFlowType   string `json:"ContactFlowType"`
	ID                string `json:"Id"`
	Name              string `json:"Name"`
}

func (s *Sim) listContactFlows(p map[string]string, q url.Values, _ []byte) (any, *apiError) {
	unlock, aerr := s.lockInstance(p["InstanceId"])
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	size, aerr := maxResults(q, 1000)
	if aerr != nil {
		return nil, aerr
	}
	types := map[string]bool{}
	for _, t := range q["contactFlowTypes"] {
		if !flowTypes[t] {
			return nil, errParam("contactFlowTypes: unknown flow type %q", t)
		}
		types[t] = true
	}
	var all []flowSummary
	for _, id := range s.flowOrder {
		f := s.flows[id]
		if len(types) == 0 || types[f.typ] {
			all = append(all, flowSummary{Arn: f.arn, ContactFlowState: "ACTIVE", ContactFlowStatus: "PUBLISHED", ContactFlowType: f.typ, ID: f.id, Name: f.name})
		}
	}
	start, end, next, aerr := page("ListContactFlows", len(all), q.Get("nextToken"), s.pageSize(size, 1000), 1000)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		ContactFlowSummaryList []flowSummary `json:"ContactFlowSummaryList"`
		NextToken              *string       `json:"NextToken,omitempty"`
	}{append([]flowSummary{}, all[start:end]...), next}, nil
}

type attributeSummary struct {
	LastModifiedRegion string  `json:"LastModifiedRegion"`
	LastModifiedTime   float64 `json:"LastModifiedTime"`
	Name               string  `json:"Name"`
}

func (s *Sim) listPredefinedAttributes(p map[string]string, q url.Values, _ []byte) (any, *apiError) {
	unlock, aerr := s.lockInstance(p["InstanceId"])
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	size, aerr := maxResults(q, 100)
	if aerr != nil {
		return nil, aerr
	}
	var all []attributeSummary
	for _, name := range s.attributeOrder {
		a := s.attributes[name]
		all = append(all, attributeSummary{LastModifiedRegion: s.region, LastModifiedTime: epoch(a.modified), Name: a.name})
	}
	start, end, next, aerr := page("ListPredefinedAttributes", len(all), q.Get("nextToken"), s.pageSize(size, 100), 100)
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		NextToken                      *string            `json:"NextToken,omitempty"`
		PredefinedAttributeSummaryList []attributeSummary `json:"PredefinedAttributeSummaryList"`
	}{next, append([]attributeSummary{}, all[start:end]...)}, nil
}

func (s *Sim) describePredefinedAttribute(p map[string]string, _ url.Values, _ []byte) (any, *apiError) {
	unlock, aerr := s.lockInstance(p["InstanceId"])
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	a := s.attributes[p["Name"]]
	if a == nil {
		return nil, errNotFound("Predefined attribute not found: %s", p["Name"])
	}
	return map[string]any{"PredefinedAttribute": struct {
		LastModifiedRegion string              `json:"LastModifiedRegion"`
		LastModifiedTime   float64             `json:"LastModifiedTime"`
		Name               string              `json:"Name"`
		Values             map[string][]string `json:"Values"`
	}{s.region, epoch(a.modified), a.name, map[string][]string{"StringList": append([]string{}, a.values...)}}}, nil
}
