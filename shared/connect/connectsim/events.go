package connectsim

import (
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/agentevent"
)

// Record is one emitted agent event stream record.
type Record struct {
	// Event is the record decoded; treat it as read-only, it is shared with the log.
	Event agentevent.Event
	// Data is the record exactly as Connect puts it on the Kinesis stream.
	Data []byte
	// PartitionKey is the agent ARN, Connect's partition key for the stream.
	PartitionKey string
	// SequenceNumber grows with every record of the sim, like a single shard's.
	SequenceNumber string
	// ArrivalTime is when the record was emitted.
	ArrivalTime time.Time
}

// Events returns every record emitted so far, oldest first.
func (s *Sim) Events() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.events...)
}

// EventsFor returns the records emitted for one agent, oldest first.
func (s *Sim) EventsFor(userID string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.events {
		if u := s.users[userID]; u != nil && r.PartitionKey == u.arn {
			out = append(out, r)
		}
	}
	return out
}

// Subscribe calls fn with every record emitted from now on, in emission order, on a goroutine
// of its own: fn may call back into the sim, and a slow fn never blocks the API. The returned
// function unsubscribes (it may be called from fn); records not yet handed to fn are dropped.
func (s *Sim) Subscribe(fn func(Record)) (unsubscribe func()) {
	return subscribe(s, s.subs, fn)
}

// subscribe registers fn in subs (a map guarded by s.mu) and starts its delivery goroutine.
func subscribe[T any](s *Sim, subs map[int]*subscriber[T], fn func(T)) (unsubscribe func()) {
	sub := &subscriber[T]{fn: fn}
	sub.cond = sync.NewCond(&sub.mu)
	s.mu.Lock()
	id := s.nextSub
	s.nextSub++
	subs[id] = sub
	s.mu.Unlock()
	go sub.run()
	return func() {
		s.mu.Lock()
		delete(subs, id)
		s.mu.Unlock()
		sub.close()
	}
}

// subscriber is an unbounded queue drained by one goroutine, so emitting never blocks on a
// subscriber and each subscriber sees records in order.
type subscriber[T any] struct {
	fn     func(T)
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []T
	closed bool
}

func (sub *subscriber[T]) push(r T) {
	sub.mu.Lock()
	sub.queue = append(sub.queue, r)
	sub.mu.Unlock()
	sub.cond.Signal()
}

func (sub *subscriber[T]) close() {
	sub.mu.Lock()
	sub.closed = true
	sub.mu.Unlock()
	sub.cond.Signal()
}

func (sub *subscriber[T]) run() {
	for {
		sub.mu.Lock()
		for len(sub.queue) == 0 && !sub.closed {
			sub.cond.Wait()
		}
		if sub.closed {
			sub.mu.Unlock()
			return
		}
		r := sub.queue[0]
		sub.queue = sub.queue[1:]
		sub.mu.Unlock()
		sub.fn(r)
	}
}

// KinesisEvent wraps records in the envelope Lambda hands to a Kinesis-triggered function, as
// if they had been read from a one-shard stream named connectsim-agent-events.
func (s *Sim) KinesisEvent(records []Record) events.KinesisEvent {
	out := events.KinesisEvent{Records: make([]events.KinesisEventRecord, 0, len(records))}
	for _, r := range records {
		out.Records = append(out.Records, events.KinesisEventRecord{
			AwsRegion:         s.region,
			EventID:           "shardId-000000000000:" + r.SequenceNumber,
			EventName:         "aws:kinesis:record",
			EventSource:       "aws:kinesis",
			EventSourceArn:    "arn:aws:kinesis:" + s.region + ":" + s.accountID + ":stream/connectsim-agent-events",
			EventVersion:      "1.0",
			InvokeIdentityArn: "arn:aws:iam::" + s.accountID + ":role/connectsim-agent-events",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: r.ArrivalTime},
				Data:                        append([]byte(nil), r.Data...),
				PartitionKey:                r.PartitionKey,
				SequenceNumber:              r.SequenceNumber,
				KinesisSchemaVersion:        "1.0",
			},
		})
	}
	return out
}
