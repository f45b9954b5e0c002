package contactevent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/strictjson"
)

// maxIDLength is the longest contact id Connect documents (1-256 characters).
const maxIDLength = 256

// token is the shape of Connect's enumerated values (event types, channels, initiation
// methods): upper-case words joined by underscores.
var token = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// Decode parses one contact event exactly as EventBridge delivers it to a target: the
// envelope with the contact's data in "detail".
//
// The envelope must be Connect's (version "0", source "aws.connect", detail-type "Amazon
// Connect Contact Event") with an id, a 12-digit account, a region and an RFC 3339 time. The
// detail needs an eventType, a contactId, a channel and an instanceArn; every ARN present must
// be of the right kind and instance, and every timestamp must be RFC 3339. All problems are
// returned together in one apperr.Invalid error whose Problems carry JSON paths such as
// "$.detail.agentInfo.connectedToAgentTimestamp", so a poison event can be audited with the
// exact reason. Decode never panics.
func Decode(data []byte) (Event, error) {
	var d decoder
	var probe any
	if err := json.Unmarshal(data, &probe); err != nil {
		d.add("$", "not valid JSON: %v", err)
		return Event{}, d.err()
	}
	root := d.object("$", data)
	if root == nil {
		if len(d.problems) == 0 {
			d.add("$", "expected an object, got null")
		}
		return Event{}, d.err()
	}
	ev := d.envelope(root)
	if len(d.problems) > 0 {
		return Event{}, d.err()
	}
	return ev, nil
}

// FromEventBridge decodes the event a Lambda function receives from an EventBridge rule. The
// runtime has already parsed the envelope (case-insensitively, as encoding/json does), so the
// envelope is re-encoded and checked by Decode with the same rules.
func FromEventBridge(e events.EventBridgeEvent) (Event, error) {
	type envelope struct {
		Version    string          `json:"version"`
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Account    string          `json:"account"`
		Time       string          `json:"time,omitempty"`
		Region     string          `json:"region"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail,omitempty"`
	}
	w := envelope{Version: e.Version, ID: e.ID, DetailType: e.DetailType, Source: e.Source, Account: e.AccountID, Region: e.Region, Resources: e.Resources, Detail: e.Detail}
	if !e.Time.IsZero() {
		w.Time = e.Time.UTC().Format(time.RFC3339Nano)
	}
	if len(bytes.TrimSpace(w.Detail)) == 0 {
		w.Detail = nil
	}
	data, err := json.Marshal(w)
	if err != nil {
		// Only a detail that is not valid JSON gets here; say so with the detail's path.
		return Event{}, apperr.Invalidf([]apperr.Problem{{Path: "$.detail", Message: "not valid JSON"}}, "invalid contact event: $.detail: not valid JSON")
	}
	return Decode(data)
}

func (d *decoder) envelope(o *object) Event {
	ev := Event{
		ID:         o.reqStr("id"),
		Version:    o.reqStr("version"),
		DetailType: o.reqStr("detail-type"),
		Source:     o.reqStr("source"),
		Account:    o.reqStr("account"),
		Region:     o.reqStr("region"),
		Resources:  o.strList("resources"),
	}
	if ev.Version != "" && ev.Version != EnvelopeVersion {
		d.add(o.pathOf("version"), "unsupported envelope version %q (want %q)", ev.Version, EnvelopeVersion)
	}
	if ev.DetailType != "" && ev.DetailType != DetailType {
		d.add(o.pathOf("detail-type"), "not a contact event: %q (want %q)", ev.DetailType, DetailType)
	}
	if ev.Source != "" && ev.Source != Source {
		d.add(o.pathOf("source"), "not an Amazon Connect event: %q (want %q)", ev.Source, Source)
	}
	if ev.Account != "" && !accountID.MatchString(ev.Account) {
		d.add(o.pathOf("account"), "not a 12-digit AWS account id: %q", ev.Account)
	}
	if _, path, ok := o.field("time"); !ok {
		d.add(path, "required")
	} else if t := o.time("time"); t != nil {
		ev.Time = *t
	}
	if _, path, ok := o.field("detail"); !ok {
		d.add(path, "required")
		return ev
	}
	det := o.obj("detail")
	if det == nil {
		return ev
	}
	ev.Detail = d.detail(det)
	for i, r := range ev.Resources {
		if id := lastSegment(r, "contact"); id != "" && ev.Detail.ContactID != "" && id != ev.Detail.ContactID {
			d.add(fmt.Sprintf("%s[%d]", o.pathOf("resources"), i), "contact ARN names contact %q, detail.contactId is %q", id, ev.Detail.ContactID)
		}
	}
	return ev
}

func (d *decoder) detail(o *object) Detail {
	det := Detail{
		EventType:           EventType(o.reqStr("eventType")),
		ContactID:           o.reqStr("contactId"),
		InitialContactID:    o.str("initialContactId"),
		PreviousContactID:   o.str("previousContactId"),
		RelatedContactID:    o.str("relatedContactId"),
		Channel:             agentevent.Channel(strings.ToUpper(o.reqStr("channel"))),
		InstanceARN:         o.reqStr("instanceArn"),
		InitiationMethod:    agentevent.InitiationMethod(o.str("initiationMethod")),
		InitiationTimestamp: o.time("initiationTimestamp"),
		Tags:                o.strMap("tags"),
		UpdatedProperties:   o.strList("updatedProperties"),
	}
	det.ConnectedToSystemTimestamp = o.time("connectedToSystemTimestamp")
	det.DisconnectTimestamp = o.time("disconnectTimestamp")
	det.ScheduledTimestamp = o.time("scheduledTimestamp")
	o.token("eventType", string(det.EventType))
	o.token("channel", string(det.Channel))
	o.token("initiationMethod", string(det.InitiationMethod))
	for _, id := range []struct{ key, v string }{{"contactId", det.ContactID}, {"initialContactId", det.InitialContactID}, {"previousContactId", det.PreviousContactID}, {"relatedContactId", det.RelatedContactID}} {
		if len(id.v) > maxIDLength {
			d.add(o.pathOf(id.key), "%d characters, at most %d allowed", len(id.v), maxIDLength)
		}
	}
	instance := ""
	if det.InstanceARN != "" {
		id, err := agentevent.InstanceIDFromARN(det.InstanceARN)
		if err != nil || strings.Count(det.InstanceARN, "/") != 1 {
			d.add(o.pathOf("instanceArn"), "not a Connect instance ARN: %q", det.InstanceARN)
		} else {
			instance = id
		}
	}
	if q := o.obj("queueInfo"); q != nil {
		det.Queue = &QueueInfo{ARN: q.str("queueArn"), Type: q.str("queueType"), EnqueueTimestamp: q.time("enqueueTimestamp")}
		d.resourceARN(q, "queueArn", det.Queue.ARN, "queue", instance)
	}
	if a := o.obj("agentInfo"); a != nil {
		det.Agent = d.agent(a, instance)
	}
	det.RoutingCriteria = d.routingCriteria(o, "routingCriteria")
	return det
}

func (d *decoder) agent(a *object, instance string) *AgentInfo {
	ag := &AgentInfo{
		ARN:                            a.str("agentArn"),
		ConnectedToAgentTimestamp:      a.time("connectedToAgentTimestamp"),
		AfterContactWorkStartTimestamp: a.time("afterContactWorkStartTimestamp"),
		AfterContactWorkEndTimestamp:   a.time("afterContactWorkEndTimestamp"),
		AfterContactWorkDuration:       a.count("afterContactWorkDuration"),
		AgentInitiatedHoldDuration:     a.count("agentInitiatedHoldDuration"),
	}
	if ag.ARN != "" {
		ref, err := agentevent.ParseAgentARN(ag.ARN)
		switch {
		case err != nil:
			d.add(a.pathOf("agentArn"), "%s", apperr.MessageOf(err))
		case instance != "" && ref.InstanceID != instance:
			d.add(a.pathOf("agentArn"), "agent of instance %q, detail.instanceArn is instance %q", ref.InstanceID, instance)
		}
	}
	if h := a.obj("hierarchyGroups"); h != nil {
		for i := range ag.HierarchyGroups {
			if g := h.obj("level" + strconv.Itoa(i+1)); g != nil {
				ag.HierarchyGroups[i] = g.str("arn")
			}
		}
	}
	return ag
}

// resourceARN checks that an ARN present is a Connect ARN of kind under the event's instance.
func (d *decoder) resourceARN(o *object, key, arn, kind, instance string) {
	if arn == "" {
		return
	}
	id, err := agentevent.InstanceIDFromARN(arn)
	switch {
	case err != nil || lastSegment(arn, kind) == "":
		d.add(o.pathOf(key), "not a Connect %s ARN: %q", kind, arn)
	case instance != "" && id != instance:
		d.add(o.pathOf(key), "%s of instance %q, detail.instanceArn is instance %q", kind, id, instance)
	}
}

// routingCriteria reads the contact's routing criteria, which Connect's samples send both as a
// list ("RoutingCriteria": [...]) and as the single current criteria ("routingCriteria": {...}).
func (d *decoder) routingCriteria(o *object, key string) []RoutingCriteria {
	raw, path, ok := o.field(key)
	if !ok {
		return nil
	}
	var items []*object
	switch strictjson.TypeName(raw) {
	case "an object":
		items = []*object{d.object(path, raw)}
	case "an array":
		for i, r := range d.array(path, raw) {
			items = append(items, d.object(fmt.Sprintf("%s[%d]", path, i), r))
		}
	default:
		d.add(path, "expected an object or an array, got %s", strictjson.TypeName(raw))
		return nil
	}
	var out []RoutingCriteria
	for _, c := range items {
		if c == nil {
			continue
		}
		rc := RoutingCriteria{ActivationTimestamp: c.time("activationTimestamp")}
		if n := c.count("index"); n != nil {
			rc.Index = *n
		}
		for i, s := range c.objList("steps") {
			step := RoutingStep{Status: s.str("status")}
			if e := s.obj("expiry"); e != nil {
				step.Expiry = &Expiry{DurationInSeconds: e.count("durationInSeconds"), ExpiryTimestamp: e.time("expiryTimestamp")}
			}
			if x := s.obj("expression"); x != nil {
				step.Expression = d.expression(x, 1)
			} else {
				d.add(fmt.Sprintf("%s.steps[%d].expression", c.path, i), "required")
			}
			rc.Steps = append(rc.Steps, step)
		}
		out = append(out, rc)
	}
	return out
}

// maxExpressionDepth bounds the nesting of routing expressions. Connect's are a condition or an
// AND/OR of a few; the bound keeps a hostile event from costing time quadratic in its depth.
const maxExpressionDepth = 8

func (d *decoder) expression(o *object, depth int) Expression {
	var x Expression
	if depth > maxExpressionDepth {
		d.add(o.path, "routing expression nested deeper than %d levels", maxExpressionDepth)
		return x
	}
	x.AttributeCondition = d.condition(o.obj("attributeCondition"))
	x.NotAttributeCondition = d.condition(o.obj("notAttributeCondition"))
	for _, e := range o.objList("andExpression") {
		x.AndExpression = append(x.AndExpression, d.expression(e, depth+1))
	}
	for _, e := range o.objList("orExpression") {
		x.OrExpression = append(x.OrExpression, d.expression(e, depth+1))
	}
	return x
}

func (d *decoder) condition(o *object) *AttributeCondition {
	if o == nil {
		return nil
	}
	c := &AttributeCondition{
		Name:               o.str("name"),
		Value:              o.str("value"),
		ComparisonOperator: o.str("comparisonOperator"),
		ProficiencyLevel:   o.number("proficiencyLevel"),
	}
	if r := o.obj("range"); r != nil {
		c.MinProficiencyLevel = r.number("minProficiencyLevel")
		c.MaxProficiencyLevel = r.number("maxProficiencyLevel")
	}
	if m := o.obj("matchCriteria"); m != nil {
		if a := m.obj("agentsCriteria"); a != nil {
			c.AgentIDs = a.strList("agentIds")
		}
	}
	return c
}

// decoder collects problems instead of stopping at the first, so one audit entry explains
// everything wrong with an event.
type decoder struct {
	problems []apperr.Problem
}

func (d *decoder) add(path, format string, args ...any) {
	d.problems = append(d.problems, apperr.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) err() error {
	sort.SliceStable(d.problems, func(i, j int) bool { return d.problems[i].Path < d.problems[j].Path })
	msgs := make([]string, len(d.problems))
	for i, p := range d.problems {
		msgs[i] = p.Path + ": " + p.Message
	}
	return apperr.Invalidf(d.problems, "invalid contact event: %s", strings.Join(msgs, "; "))
}

// object is a JSON object whose keys are looked up case-insensitively.
type object struct {
	d     *decoder
	path  string
	vals  map[string]json.RawMessage // lower-cased key → value
	names map[string]string          // lower-cased key → the key as written
}

// object reads raw as an object; null yields nil, anything else but an object is a problem.
// raw must be valid JSON.
func (d *decoder) object(path string, raw json.RawMessage) *object {
	switch k := strictjson.TypeName(raw); k {
	case "null":
		return nil
	case "an object":
	default:
		d.add(path, "expected an object, got %s", k)
		return nil
	}
	o := &object{d: d, path: path, vals: map[string]json.RawMessage{}, names: map[string]string{}}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		d.add(path, "not valid JSON: %v", err)
		return nil
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			d.add(path, "not valid JSON: %v", err)
			return nil
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			d.add(path, "not valid JSON: %v", err)
			return nil
		}
		lower := strings.ToLower(key)
		if prev, dup := o.names[lower]; dup {
			d.add(path+"."+key, "key given twice (as %q and %q)", prev, key)
			continue
		}
		o.vals[lower], o.names[lower] = v, key
	}
	return o
}

// array reads raw, which must be a JSON array, into its elements.
func (d *decoder) array(path string, raw json.RawMessage) []json.RawMessage {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		d.add(path, "expected an array, got %s", strictjson.TypeName(raw))
		return nil
	}
	return items
}

// pathOf is the JSON path of key: as the event spells it, or as documented when absent.
func (o *object) pathOf(key string) string {
	if name, ok := o.names[strings.ToLower(key)]; ok {
		key = name
	}
	return o.path + "." + key
}

// field returns key's value and path; absent and null both report !ok.
func (o *object) field(key string) (json.RawMessage, string, bool) {
	raw, ok := o.vals[strings.ToLower(key)]
	if !ok || strictjson.TypeName(raw) == "null" {
		return nil, o.pathOf(key), false
	}
	return raw, o.pathOf(key), true
}

func (o *object) str(key string) string {
	raw, path, ok := o.field(key)
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		o.d.add(path, "expected a string, got %s", strictjson.TypeName(raw))
	}
	return s
}

// reqStr reads a string that must be present and not empty.
func (o *object) reqStr(key string) string {
	raw, path, ok := o.field(key)
	if ok && strictjson.TypeName(raw) != "a string" {
		return o.str(key) // reports the type
	}
	s := o.str(key)
	if s == "" {
		o.d.add(path, "required")
	}
	return s
}

// token checks an enumerated value's shape; "" (absent) is left to the required checks.
func (o *object) token(key, v string) {
	if v != "" && !token.MatchString(v) {
		o.d.add(o.pathOf(key), "invalid value %q (want upper-case words such as CONNECTED_TO_AGENT)", v)
	}
}

// time parses an RFC 3339 timestamp and normalises it to UTC. Instants in the first second of
// the epoch are Connect's "not set" placeholder and read as absent; instants before 1970 or
// after 9999 are refused, since Connect never writes them.
func (o *object) time(key string) *time.Time {
	s := o.str(key)
	if s == "" {
		return nil
	}
	path := o.pathOf(key)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		o.d.add(path, "invalid timestamp %q (want RFC 3339 such as 2021-08-04T17:29:09.000Z)", s)
		return nil
	}
	t = t.UTC()
	if y := t.Year(); y < 1970 || y > 9999 {
		o.d.add(path, "timestamp %q is out of range", s)
		return nil
	}
	if t.Before(time.Unix(1, 0)) {
		return nil
	}
	return &t
}

// count reads a non-negative integer.
func (o *object) count(key string) *int {
	raw, path, ok := o.field(key)
	if !ok {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		o.d.add(path, "expected an integer, got %s", strictjson.TypeName(raw))
		return nil
	}
	i, err := strconv.Atoi(n.String())
	if err != nil || i < 0 {
		o.d.add(path, "expected a non-negative integer, got %s", n)
		return nil
	}
	return &i
}

func (o *object) number(key string) *float64 {
	raw, path, ok := o.field(key)
	if !ok {
		return nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		o.d.add(path, "expected a number, got %s", strictjson.TypeName(raw))
		return nil
	}
	return &f
}

func (o *object) obj(key string) *object {
	raw, path, ok := o.field(key)
	if !ok {
		return nil
	}
	return o.d.object(path, raw)
}

func (o *object) objList(key string) []*object {
	raw, path, ok := o.field(key)
	if !ok {
		return nil
	}
	var out []*object
	for i, r := range o.d.array(path, raw) {
		if x := o.d.object(fmt.Sprintf("%s[%d]", path, i), r); x != nil {
			out = append(out, x)
		}
	}
	return out
}

func (o *object) strList(key string) []string {
	raw, path, ok := o.field(key)
	if !ok {
		return nil
	}
	var out []string
	for i, r := range o.d.array(path, raw) {
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			o.d.add(fmt.Sprintf("%s[%d]", path, i), "expected a string, got %s", strictjson.TypeName(r))
			continue
		}
		out = append(out, s)
	}
	return out
}

// strMap reads an object of strings whose keys are data (tag names), so they keep their case.
func (o *object) strMap(key string) map[string]string {
	raw, path, ok := o.field(key)
	if !ok {
		return nil
	}
	var vals map[string]json.RawMessage
	if err := json.Unmarshal(raw, &vals); err != nil {
		o.d.add(path, "expected an object, got %s", strictjson.TypeName(raw))
		return nil
	}
	out := make(map[string]string, len(vals))
	for name, v := range vals {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			o.d.add(path+"."+name, "expected a string, got %s", strictjson.TypeName(v))
			continue
		}
		out[name] = s
	}
	return out
}
