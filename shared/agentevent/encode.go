package agentevent

import (
	"bytes"
	"encoding/json"
	"time"
)

// TimestampLayout is the layout of every timestamp in the record: UTC with milliseconds.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// Encode writes e in the exact record format Connect puts on the stream: compact JSON, keys in
// Connect's order, null for absent snapshots, queues, hierarchy groups, initial contact ids and
// timestamps, and millisecond UTC timestamps. Keys that only newer records carry
// (NextAgentStatus, AgentStatus.Type, RoutingProfile.Concurrency, Proficiencies, Queue.Channels)
// are written only when set, so a 2019-style record round-trips to its original shape.
func Encode(e Event) ([]byte, error) {
	w := wireEvent{
		AWSAccountID:          e.AWSAccountID,
		AgentARN:              e.AgentARN,
		CurrentAgentSnapshot:  encodeSnapshot(e.CurrentAgentSnapshot),
		EventID:               e.EventID,
		EventTimestamp:        encodeTime(e.EventTimestamp),
		EventType:             string(e.EventType),
		InstanceARN:           e.InstanceARN,
		PreviousAgentSnapshot: encodeSnapshot(e.PreviousAgentSnapshot),
		Version:               e.Version,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Connect does not HTML-escape; escaping would change the bytes of names containing & < >.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func encodeTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(TimestampLayout)
	return &s
}

func encodeOptTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	return encodeTime(*t)
}

func encodeSnapshot(s *AgentSnapshot) *wireSnapshot {
	if s == nil {
		return nil
	}
	// Contacts is written as [] rather than null: an agent with no contacts has an empty list.
	w := &wireSnapshot{Contacts: make([]wireContact, 0, len(s.Contacts))}
	if st := s.AgentStatus; st != nil {
		w.AgentStatus = &wireStatus{ARN: st.ARN, Name: st.Name, StartTimestamp: encodeTime(st.StartTimestamp), Type: string(st.Type)}
	}
	if n := s.NextAgentStatus; n != nil {
		w.NextAgentStatus = &wireNextStatus{ARN: n.ARN, Name: n.Name, EnqueuedTimestamp: encodeTime(n.EnqueuedTimestamp)}
	}
	if c := s.Configuration; c != nil {
		w.Configuration = encodeConfiguration(c)
	}
	for _, c := range s.Contacts {
		wc := wireContact{
			Channel:                   string(c.Channel),
			ConnectedToAgentTimestamp: encodeOptTime(c.ConnectedToAgentTimestamp),
			ContactID:                 c.ContactID,
			InitiationMethod:          string(c.InitiationMethod),
			Queue:                     encodeQueue(c.Queue),
			QueueTimestamp:            encodeOptTime(c.QueueTimestamp),
			State:                     string(c.State),
			StateStartTimestamp:       encodeTime(c.StateStartTimestamp),
		}
		if c.InitialContactID != "" {
			id := c.InitialContactID
			wc.InitialContactID = &id
		}
		w.Contacts = append(w.Contacts, wc)
	}
	return w
}

func encodeConfiguration(c *Configuration) *wireConfig {
	w := &wireConfig{FirstName: c.FirstName, LastName: c.LastName, Username: c.Username}
	if h := c.AgentHierarchyGroups; h != nil {
		w.AgentHierarchyGroups = &wireHierarchy{
			Level1: encodeGroup(h.Level1), Level2: encodeGroup(h.Level2), Level3: encodeGroup(h.Level3),
			Level4: encodeGroup(h.Level4), Level5: encodeGroup(h.Level5),
		}
	}
	for _, p := range c.Proficiencies {
		w.Proficiencies = append(w.Proficiencies, wireProficiency{Level: p.Level, Name: p.Name, Value: p.Value})
	}
	if r := c.RoutingProfile; r != nil {
		wr := &wireRouting{
			ARN:                  r.ARN,
			Name:                 r.Name,
			DefaultOutboundQueue: encodeQueue(r.DefaultOutboundQueue),
			InboundQueues:        make([]wireQueue, 0, len(r.InboundQueues)),
		}
		for _, cc := range r.Concurrency {
			wr.Concurrency = append(wr.Concurrency, wireConcurrency{AvailableSlots: cc.AvailableSlots, Channel: string(cc.Channel), MaximumSlots: cc.MaximumSlots})
		}
		for i := range r.InboundQueues {
			wr.InboundQueues = append(wr.InboundQueues, *encodeQueue(&r.InboundQueues[i]))
		}
		w.RoutingProfile = wr
	}
	return w
}

func encodeGroup(g *HierarchyGroup) *wireGroup {
	if g == nil {
		return nil
	}
	return &wireGroup{ARN: g.ARN, Name: g.Name}
}

func encodeQueue(q *Queue) *wireQueue {
	if q == nil {
		return nil
	}
	w := &wireQueue{ARN: q.ARN, Name: q.Name}
	for _, ch := range q.Channels {
		w.Channels = append(w.Channels, string(ch))
	}
	return w
}
