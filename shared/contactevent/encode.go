package contactevent

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// TimestampLayout is the layout of the detail's timestamps: UTC with milliseconds.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// EnvelopeTimeLayout is the layout of the envelope's time: UTC to the second.
const EnvelopeTimeLayout = "2006-01-02T15:04:05Z"

// The wire structs follow the current Connect guide's samples: camelCase keys in the order of
// its DISCONNECTED sample, absent values left out. Decoding does not use them (it matches keys
// case-insensitively); they only write.

type wireEnvelope struct {
	Version    string     `json:"version"`
	ID         string     `json:"id"`
	DetailType string     `json:"detail-type"`
	Source     string     `json:"source"`
	Account    string     `json:"account"`
	Time       string     `json:"time"`
	Region     string     `json:"region"`
	Resources  []string   `json:"resources"`
	Detail     wireDetail `json:"detail"`
}

type wireDetail struct {
	EventType                  string            `json:"eventType"`
	ContactID                  string            `json:"contactId"`
	InitialContactID           string            `json:"initialContactId,omitempty"`
	PreviousContactID          string            `json:"previousContactId,omitempty"`
	RelatedContactID           string            `json:"relatedContactId,omitempty"`
	Channel                    string            `json:"channel"`
	InstanceARN                string            `json:"instanceArn"`
	InitiationMethod           string            `json:"initiationMethod,omitempty"`
	InitiationTimestamp        string            `json:"initiationTimestamp,omitempty"`
	ConnectedToSystemTimestamp string            `json:"connectedToSystemTimestamp,omitempty"`
	DisconnectTimestamp        string            `json:"disconnectTimestamp,omitempty"`
	ScheduledTimestamp         string            `json:"scheduledTimestamp,omitempty"`
	QueueInfo                  *wireQueue        `json:"queueInfo,omitempty"`
	AgentInfo                  *wireAgent        `json:"agentInfo,omitempty"`
	UpdatedProperties          []string          `json:"updatedProperties,omitempty"`
	Tags                       map[string]string `json:"tags,omitempty"`
	RoutingCriteria            []wireCriteria    `json:"routingCriteria,omitempty"`
}

type wireQueue struct {
	QueueArn         string `json:"queueArn,omitempty"`
	QueueType        string `json:"queueType,omitempty"`
	EnqueueTimestamp string `json:"enqueueTimestamp,omitempty"`
}

type wireAgent struct {
	AgentArn                       string                `json:"agentArn,omitempty"`
	ConnectedToAgentTimestamp      string                `json:"connectedToAgentTimestamp,omitempty"`
	AfterContactWorkStartTimestamp string                `json:"afterContactWorkStartTimestamp,omitempty"`
	AfterContactWorkEndTimestamp   string                `json:"afterContactWorkEndTimestamp,omitempty"`
	AfterContactWorkDuration       *int                  `json:"afterContactWorkDuration,omitempty"`
	AgentInitiatedHoldDuration     *int                  `json:"agentInitiatedHoldDuration,omitempty"`
	HierarchyGroups                map[string]wireGroupA `json:"hierarchyGroups,omitempty"`
}

type wireGroupA struct {
	ARN string `json:"arn"`
}

type wireCriteria struct {
	ActivationTimestamp string     `json:"activationTimestamp,omitempty"`
	Index               int        `json:"index"`
	Steps               []wireStep `json:"steps"`
}

type wireStep struct {
	Status     string          `json:"status,omitempty"`
	Expiry     *wireExpiry     `json:"expiry,omitempty"`
	Expression *wireExpression `json:"expression"`
}

type wireExpiry struct {
	DurationInSeconds *int   `json:"durationInSeconds,omitempty"`
	ExpiryTimestamp   string `json:"expiryTimestamp,omitempty"`
}

type wireExpression struct {
	AttributeCondition    *wireCondition   `json:"attributeCondition,omitempty"`
	NotAttributeCondition *wireCondition   `json:"notAttributeCondition,omitempty"`
	AndExpression         []wireExpression `json:"andExpression,omitempty"`
	OrExpression          []wireExpression `json:"orExpression,omitempty"`
}

type wireCondition struct {
	Name               string         `json:"name,omitempty"`
	Value              string         `json:"value,omitempty"`
	ProficiencyLevel   *float64       `json:"proficiencyLevel,omitempty"`
	ComparisonOperator string         `json:"comparisonOperator,omitempty"`
	Range              *wireRange     `json:"range,omitempty"`
	MatchCriteria      *wireMatchCrit `json:"matchCriteria,omitempty"`
}

type wireRange struct {
	MinProficiencyLevel *float64 `json:"minProficiencyLevel,omitempty"`
	MaxProficiencyLevel *float64 `json:"maxProficiencyLevel,omitempty"`
}

type wireMatchCrit struct {
	AgentsCriteria struct {
		AgentIds []string `json:"agentIds"`
	} `json:"agentsCriteria"`
}

// Encode writes e as EventBridge delivers it: the envelope with its time to the second, the
// detail with camelCase keys and millisecond UTC timestamps, absent values left out. Routing
// criteria are written as a list.
func Encode(e Event) ([]byte, error) {
	d := e.Detail
	w := wireEnvelope{
		Version: e.Version, ID: e.ID, DetailType: e.DetailType, Source: e.Source, Account: e.Account,
		Time: e.Time.UTC().Truncate(time.Second).Format(EnvelopeTimeLayout), Region: e.Region, Resources: e.Resources,
		Detail: wireDetail{
			EventType: string(d.EventType), ContactID: d.ContactID, InitialContactID: d.InitialContactID,
			PreviousContactID: d.PreviousContactID, RelatedContactID: d.RelatedContactID,
			Channel: string(d.Channel), InstanceARN: d.InstanceARN, InitiationMethod: string(d.InitiationMethod),
			InitiationTimestamp:        encodeTime(d.InitiationTimestamp),
			ConnectedToSystemTimestamp: encodeTime(d.ConnectedToSystemTimestamp),
			DisconnectTimestamp:        encodeTime(d.DisconnectTimestamp),
			ScheduledTimestamp:         encodeTime(d.ScheduledTimestamp),
			UpdatedProperties:          d.UpdatedProperties,
			Tags:                       d.Tags,
		},
	}
	if w.Resources == nil {
		w.Resources = []string{}
	}
	if q := d.Queue; q != nil {
		w.Detail.QueueInfo = &wireQueue{QueueArn: q.ARN, QueueType: q.Type, EnqueueTimestamp: encodeTime(q.EnqueueTimestamp)}
	}
	if a := d.Agent; a != nil {
		wa := &wireAgent{
			AgentArn:                       a.ARN,
			ConnectedToAgentTimestamp:      encodeTime(a.ConnectedToAgentTimestamp),
			AfterContactWorkStartTimestamp: encodeTime(a.AfterContactWorkStartTimestamp),
			AfterContactWorkEndTimestamp:   encodeTime(a.AfterContactWorkEndTimestamp),
			AfterContactWorkDuration:       a.AfterContactWorkDuration,
			AgentInitiatedHoldDuration:     a.AgentInitiatedHoldDuration,
		}
		for i, arn := range a.HierarchyGroups {
			if arn != "" {
				if wa.HierarchyGroups == nil {
					wa.HierarchyGroups = map[string]wireGroupA{}
				}
				wa.HierarchyGroups["level"+strconv.Itoa(i+1)] = wireGroupA{ARN: arn}
			}
		}
		w.Detail.AgentInfo = wa
	}
	for _, rc := range d.RoutingCriteria {
		wc := wireCriteria{ActivationTimestamp: encodeTime(rc.ActivationTimestamp), Index: rc.Index, Steps: []wireStep{}}
		for _, s := range rc.Steps {
			ws := wireStep{Status: s.Status, Expression: encodeExpression(s.Expression)}
			if s.Expiry != nil {
				ws.Expiry = &wireExpiry{DurationInSeconds: s.Expiry.DurationInSeconds, ExpiryTimestamp: encodeTime(s.Expiry.ExpiryTimestamp)}
			}
			wc.Steps = append(wc.Steps, ws)
		}
		w.Detail.RoutingCriteria = append(w.Detail.RoutingCriteria, wc)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func encodeExpression(x Expression) *wireExpression {
	w := &wireExpression{AttributeCondition: encodeCondition(x.AttributeCondition), NotAttributeCondition: encodeCondition(x.NotAttributeCondition)}
	for _, e := range x.AndExpression {
		w.AndExpression = append(w.AndExpression, *encodeExpression(e))
	}
	for _, e := range x.OrExpression {
		w.OrExpression = append(w.OrExpression, *encodeExpression(e))
	}
	return w
}

func encodeCondition(c *AttributeCondition) *wireCondition {
	if c == nil {
		return nil
	}
	w := &wireCondition{Name: c.Name, Value: c.Value, ProficiencyLevel: c.ProficiencyLevel, ComparisonOperator: c.ComparisonOperator}
	if c.MinProficiencyLevel != nil || c.MaxProficiencyLevel != nil {
		w.Range = &wireRange{MinProficiencyLevel: c.MinProficiencyLevel, MaxProficiencyLevel: c.MaxProficiencyLevel}
	}
	if c.AgentIDs != nil {
		w.MatchCriteria = &wireMatchCrit{}
		w.MatchCriteria.AgentsCriteria.AgentIds = c.AgentIDs
	}
	return w
}

func encodeTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(TimestampLayout)
}
