package connectsim

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/contactevent"
)

// ContactEventRecord is one emitted contact event.
type ContactEventRecord struct {
	// Event is the event decoded; treat it as read-only, it is shared with the log.
	Event contactevent.Event
	// Data is the event exactly as EventBridge delivers it to a rule's target.
	Data []byte
}

// ContactEvents returns every contact event emitted so far, in emission order. Connect itself
// publishes them unordered and best-effort; tests that need that shuffle or repeat these.
func (s *Sim) ContactEvents() []ContactEventRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ContactEventRecord(nil), s.contactEvents...)
}

// ContactEventsFor returns the contact events of one contact, in emission order.
func (s *Sim) ContactEventsFor(contactID string) []ContactEventRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ContactEventRecord
	for _, r := range s.contactEvents {
		if r.Event.Detail.ContactID == contactID {
			out = append(out, r)
		}
	}
	return out
}

// SubscribeContactEvents calls fn with every contact event emitted from now on, in emission
// order, on a goroutine of its own (as Subscribe does for agent events), so a scenario runner
// can feed them to the contact-events function as an EventBridge rule would.
func (s *Sim) SubscribeContactEvents(fn func(ContactEventRecord)) (unsubscribe func()) {
	return subscribe(s, s.contactSubs, fn)
}

// EventBridgeEvent returns the event as the Lambda runtime hands it to a function triggered by
// an EventBridge rule.
func (r ContactEventRecord) EventBridgeEvent() (events.EventBridgeEvent, error) {
	var e events.EventBridgeEvent
	if err := json.Unmarshal(r.Data, &e); err != nil {
		return events.EventBridgeEvent{}, fmt.Errorf("connectsim: contact event %s: %w", r.Event.ID, err)
	}
	return e, nil
}

// NewCall describes an inbound call reaching the instance with Call.
type NewCall struct {
	// ID is the contact id; empty generates one.
	ID string
	// Customer is the caller's number as Connect reports it (E.164); empty for a withheld
	// number, which DescribeContact then returns without a CustomerEndpoint.
	Customer string
	// Queue is the queue name or id the inbound flow puts the call in; it defaults to the
	// instance's first queue.
	Queue string
}

// Call starts an inbound voice call that the inbound flow puts in a queue: it emits INITIATED
// and QUEUED. RouteContact then offers it to an agent (Accept, Connect, End, Clear follow), and
// DescribeContact returns its customer and system endpoints.
func (s *Sim) Call(nc NewCall) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.findQueue(nc.Queue)
	if nc.Queue == "" && len(s.queueOrder) > 0 {
		q = s.queues[s.queueOrder[0]]
	}
	if q == nil {
		return "", notFound("connectsim: no queue %q", nc.Queue)
	}
	c, err := s.newQueuedContact(nc.ID, agentevent.ChannelVoice, agentevent.InitiationInbound)
	if err != nil {
		return "", err
	}
	c.customer, c.system = nc.Customer, s.phoneNumber
	s.emitContact(contactevent.Initiated, c)
	s.enqueue(c, q.id)
	return c.id, nil
}

// Transfer transfers a connected contact to a queue, as an agent does with a quick connect:
// the contact is disconnected (its agent goes to after contact work) and a new contact with
// InitiationMethod TRANSFER, PreviousContactId the old one and the same InitialContactId is
// queued, with the same customer. It returns the new contact's id.
func (s *Sim) Transfer(contactID, queue string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.contacts[contactID]
	switch {
	case old == nil:
		return "", notFound("connectsim: no contact %q", contactID)
	case old.agentID == "" || (old.state != agentevent.ContactStateConnected && old.state != agentevent.ContactStateConnectedOnHold):
		return "", invalid("connectsim: contact %q is not connected to an agent", contactID)
	}
	q := s.findQueue(queue)
	if q == nil {
		return "", notFound("connectsim: no queue %q", queue)
	}
	c, err := s.newQueuedContact("", old.channel, agentevent.InitiationTransfer)
	if err != nil {
		return "", err
	}
	c.initialID, c.previousID, c.customer, c.system = old.initialID, old.id, old.customer, old.system
	if c.initialID == "" {
		c.initialID = old.id
	}
	s.setState(old, agentevent.ContactStateEnded)
	s.emitContact(contactevent.Initiated, c)
	s.enqueue(c, q.id)
	return c.id, nil
}

// newQueuedContact registers a contact that is on no agent; the caller completes it and emits
// INITIATED. Callers hold s.mu.
func (s *Sim) newQueuedContact(id string, ch agentevent.Channel, method agentevent.InitiationMethod) (*contact, error) {
	if id == "" {
		id = s.newID()
	}
	if s.contacts[id] != nil {
		return nil, invalid("connectsim: contact %q already exists", id)
	}
	now := s.now()
	c := &contact{id: id, initialID: id, channel: ch, method: method, created: now, updated: now, connectedToSystem: &now, attributes: map[string]string{}}
	s.contacts[id] = c
	return c, nil
}

// enqueue puts c in queue and emits QUEUED. Callers hold s.mu.
func (s *Sim) enqueue(c *contact, queueID string) {
	now := s.now()
	c.queueID, c.queuedAt, c.updated = queueID, &now, now
	s.emitContact(contactevent.Queued, c)
}

// emitContact appends a contact event for c to the log and queues it for subscribers, in the
// envelope EventBridge delivers. Callers hold s.mu.
func (s *Sim) emitContact(typ contactevent.EventType, c *contact, updated ...string) {
	now := s.now()
	d := contactevent.Detail{
		EventType: typ, ContactID: c.id, InitialContactID: c.initialID, PreviousContactID: c.previousID,
		RelatedContactID: c.relatedID, Channel: c.channel, InstanceARN: s.instanceARN,
		InitiationMethod: c.method, InitiationTimestamp: timePtr(c.created),
		ConnectedToSystemTimestamp: copyTime(c.connectedToSystem), DisconnectTimestamp: copyTime(c.disconnectedAt),
		Tags:              map[string]string{"aws:connect:instanceId": s.instanceID},
		UpdatedProperties: updated,
	}
	if c.system != "" {
		d.Tags[contactevent.TagSystemEndpoint] = c.system
	}
	if q := s.queues[c.queueID]; q != nil && c.queuedAt != nil {
		d.Queue = &contactevent.QueueInfo{ARN: q.arn, Type: "STANDARD", EnqueueTimestamp: copyTime(c.queuedAt)}
	}
	if u := s.users[c.lastAgentID]; u != nil && c.connectedAt != nil {
		a := &contactevent.AgentInfo{ARN: u.arn, ConnectedToAgentTimestamp: copyTime(c.connectedAt)}
		if c.disconnectedAt != nil && c.held > 0 {
			// Connect reports the hold total once the contact is disconnected.
			secs := int(c.held / time.Second)
			a.AgentInitiatedHoldDuration = &secs
		}
		if typ == contactevent.Completed && c.acwStart != nil && c.acwEnd != nil {
			secs := int(c.acwEnd.Sub(*c.acwStart) / time.Second)
			a.AfterContactWorkStartTimestamp, a.AfterContactWorkEndTimestamp, a.AfterContactWorkDuration = copyTime(c.acwStart), copyTime(c.acwEnd), &secs
		}
		d.Agent = a
	}
	d.RoutingCriteria = s.eventRouting(c)
	ev := contactevent.Event{
		ID: s.newID(), Version: contactevent.EnvelopeVersion, DetailType: contactevent.DetailType, Source: contactevent.Source,
		Account: s.accountID, Time: now.Truncate(time.Second), Region: s.region,
		Resources: []string{d.ContactARN(), s.instanceARN}, Detail: d,
	}
	data, err := contactevent.Encode(ev)
	if err != nil {
		// Encode cannot fail on values built here; keep the event visible rather than drop it.
		data = []byte(fmt.Sprintf(`{"connectsimEncodeError":%q}`, err.Error()))
	}
	rec := ContactEventRecord{Event: ev, Data: data}
	s.contactEvents = append(s.contactEvents, rec)
	for _, sub := range s.contactSubs {
		sub.push(rec)
	}
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return timePtr(*t)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
