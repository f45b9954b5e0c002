package agentevent

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Decode parses one agent event stream record (the Kinesis record's data).
//
// EventType, EventId, EventTimestamp and AgentARN are required, EventType must be one of the
// four published types, AgentARN must be an agent ARN, and every timestamp present must be
// ISO-8601. All problems found are returned together in one apperr.Invalid error whose
// Problems carry JSON paths such as "$.CurrentAgentSnapshot.Contacts[0].StateStartTimestamp",
// so a poison record can be audited with the exact reason. Unknown keys are ignored because
// Connect adds fields to the format without changing Version.
func Decode(data []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(data, &w); err != nil {
		p := jsonProblem(err)
		return Event{}, apperr.Invalidf([]apperr.Problem{p}, "invalid agent event: %s: %s", p.Path, p.Message)
	}
	var d decoder
	ev := Event{
		AWSAccountID: w.AWSAccountID,
		AgentARN:     w.AgentARN,
		EventID:      w.EventID,
		EventType:    EventType(w.EventType),
		InstanceARN:  w.InstanceARN,
		Version:      w.Version,
	}
	switch {
	case w.EventType == "":
		d.add("$.EventType", "required")
	case !ev.EventType.Valid():
		d.add("$.EventType", fmt.Sprintf("unknown event type %q (want STATE_CHANGE, HEART_BEAT, LOGIN or LOGOUT)", w.EventType))
	}
	if w.EventID == "" {
		d.add("$.EventId", "required")
	}
	if w.EventTimestamp == nil || *w.EventTimestamp == "" {
		d.add("$.EventTimestamp", "required")
	} else {
		ev.EventTimestamp = d.time("$.EventTimestamp", *w.EventTimestamp)
	}
	var agent AgentRef
	if w.AgentARN == "" {
		d.add("$.AgentARN", "required")
	} else if ref, err := ParseAgentARN(w.AgentARN); err != nil {
		d.add("$.AgentARN", apperr.MessageOf(err))
	} else {
		agent = ref
	}
	if w.InstanceARN != "" {
		id, err := InstanceIDFromARN(w.InstanceARN)
		switch {
		case err != nil:
			d.add("$.InstanceARN", apperr.MessageOf(err))
		case agent.InstanceID != "" && id != agent.InstanceID:
			d.add("$.InstanceARN", fmt.Sprintf("instance %q does not match the AgentARN's instance %q", id, agent.InstanceID))
		}
	}
	ev.CurrentAgentSnapshot = d.snapshot("$.CurrentAgentSnapshot", w.CurrentAgentSnapshot)
	ev.PreviousAgentSnapshot = d.snapshot("$.PreviousAgentSnapshot", w.PreviousAgentSnapshot)
	if len(d.problems) > 0 {
		msgs := make([]string, len(d.problems))
		for i, p := range d.problems {
			msgs[i] = p.Path + ": " + p.Message
		}
		return Event{}, apperr.Invalidf(d.problems, "invalid agent event: %s", strings.Join(msgs, "; "))
	}
	return ev, nil
}

// decoder converts wire structs to domain structs and collects problems instead of stopping
// at the first, so one audit entry explains everything wrong with a record.
type decoder struct {
	problems []apperr.Problem
}

func (d *decoder) add(path, msg string) {
	d.problems = append(d.problems, apperr.Problem{Path: path, Message: msg})
}

// time parses an ISO-8601 timestamp and normalises it to UTC. Instants before 1970 or after
// year 9999 are refused: Connect never writes them, the zero instant would read back as
// "absent", and years past 9999 cannot be written in the record format.
func (d *decoder) time(path, s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.add(path, fmt.Sprintf("invalid timestamp %q (want ISO-8601 such as 2019-05-25T18:43:59.049Z)", s))
		return time.Time{}
	}
	t = t.UTC()
	if y := t.Year(); y < 1970 || y > 9999 {
		d.add(path, fmt.Sprintf("timestamp %q is out of range", s))
		return time.Time{}
	}
	return t
}

// optTime parses a nullable timestamp; null and "" both mean absent.
func (d *decoder) optTime(path string, s *string) *time.Time {
	if s == nil || *s == "" {
		return nil
	}
	t := d.time(path, *s)
	return &t
}

// reqTime parses a timestamp that is normally present; absent yields the zero time.
func (d *decoder) reqTime(path string, s *string) time.Time {
	if t := d.optTime(path, s); t != nil {
		return *t
	}
	return time.Time{}
}

func (d *decoder) snapshot(path string, w *wireSnapshot) *AgentSnapshot {
	if w == nil {
		return nil
	}
	s := &AgentSnapshot{}
	if w.AgentStatus != nil {
		s.AgentStatus = &AgentStatus{
			ARN:            w.AgentStatus.ARN,
			Name:           w.AgentStatus.Name,
			StartTimestamp: d.reqTime(path+".AgentStatus.StartTimestamp", w.AgentStatus.StartTimestamp),
			Type:           StatusType(w.AgentStatus.Type),
		}
	}
	if w.NextAgentStatus != nil {
		s.NextAgentStatus = &NextAgentStatus{
			ARN:               w.NextAgentStatus.ARN,
			Name:              w.NextAgentStatus.Name,
			EnqueuedTimestamp: d.reqTime(path+".NextAgentStatus.EnqueuedTimestamp", w.NextAgentStatus.EnqueuedTimestamp),
		}
	}
	if w.Configuration != nil {
		s.Configuration = configuration(w.Configuration)
	}
	if len(w.Contacts) > 0 {
		s.Contacts = make([]Contact, len(w.Contacts))
		for i, c := range w.Contacts {
			p := path + ".Contacts[" + strconv.Itoa(i) + "]"
			s.Contacts[i] = Contact{
				ContactID:                 c.ContactID,
				Channel:                   Channel(c.Channel),
				InitiationMethod:          InitiationMethod(c.InitiationMethod),
				State:                     ContactState(c.State),
				StateStartTimestamp:       d.reqTime(p+".StateStartTimestamp", c.StateStartTimestamp),
				ConnectedToAgentTimestamp: d.optTime(p+".ConnectedToAgentTimestamp", c.ConnectedToAgentTimestamp),
				QueueTimestamp:            d.optTime(p+".QueueTimestamp", c.QueueTimestamp),
				Queue:                     queue(c.Queue),
			}
			if c.InitialContactID != nil {
				s.Contacts[i].InitialContactID = *c.InitialContactID
			}
		}
	}
	return s
}

func configuration(w *wireConfig) *Configuration {
	c := &Configuration{Username: w.Username, FirstName: w.FirstName, LastName: w.LastName}
	if h := w.AgentHierarchyGroups; h != nil {
		c.AgentHierarchyGroups = &HierarchyGroups{
			Level1: group(h.Level1), Level2: group(h.Level2), Level3: group(h.Level3),
			Level4: group(h.Level4), Level5: group(h.Level5),
		}
	}
	for _, p := range w.Proficiencies {
		c.Proficiencies = append(c.Proficiencies, Proficiency{Name: p.Name, Value: p.Value, Level: p.Level})
	}
	if r := w.RoutingProfile; r != nil {
		rp := &RoutingProfile{ARN: r.ARN, Name: r.Name, DefaultOutboundQueue: queue(r.DefaultOutboundQueue)}
		for _, cc := range r.Concurrency {
			rp.Concurrency = append(rp.Concurrency, Concurrency{Channel: Channel(cc.Channel), AvailableSlots: cc.AvailableSlots, MaximumSlots: cc.MaximumSlots})
		}
		for i := range r.InboundQueues {
			rp.InboundQueues = append(rp.InboundQueues, *queue(&r.InboundQueues[i]))
		}
		c.RoutingProfile = rp
	}
	return c
}

func group(w *wireGroup) *HierarchyGroup {
	if w == nil {
		return nil
	}
	return &HierarchyGroup{ARN: w.ARN, Name: w.Name}
}

func queue(w *wireQueue) *Queue {
	if w == nil {
		return nil
	}
	q := &Queue{ARN: w.ARN, Name: w.Name}
	for _, ch := range w.Channels {
		q.Channels = append(q.Channels, Channel(ch))
	}
	return q
}

// jsonProblem turns an encoding/json error into a problem that names the offending field in
// the record's own terms rather than in Go types.
func jsonProblem(err error) apperr.Problem {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return apperr.Problem{Path: "$", Message: fmt.Sprintf("not valid JSON (byte %d): %v", syn.Offset, syn)}
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		path := "$"
		if typ.Field != "" {
			path += "." + typ.Field
		}
		return apperr.Problem{Path: path, Message: fmt.Sprintf("expected %s, got %s", jsonKind(typ.Type), typ.Value)}
	}
	return apperr.Problem{Path: "$", Message: "not a valid agent event: " + err.Error()}
}

// jsonKind names a Go destination type the way the JSON document would.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	}
	return "a " + t.Kind().String()
}
