// Package agentstream consumes the Amazon Connect agent event stream (Kinesis) for the
// agent-events function: it decodes each record, feeds state changes to the presence engine
// agent by agent, and tells Lambda which records to retry.
//
// Records are grouped by agent. Agents are processed concurrently (Options.Concurrency at
// once), each agent's records one after another in stream order. At the end of the batch the
// engine publishes every Salesforce command of the batch together.
//
// What each event type does:
//   - STATE_CHANGE and LOGIN: the snapshot becomes a connect.agentStateChanged event (status,
//     status type, contacts with state, initiation method and channel, and the previous
//     snapshot when there is one).
//   - LOGOUT: the same event with status Offline and no contacts: the agent is offline in
//     Connect whatever the last snapshot said.
//   - HEART_BEAT: counted and logged only. It repeats a snapshot already applied (Decide would
//     call it "unchanged" and run no rules), and storing a last-seen time would cost a write
//     per agent every two minutes for a value nothing reads yet.
//
// Failures: a record that does not decode is a poison record: it is audited (subject
// "system/agent-stream", id = sequence number, with the decode problems) and skipped, never
// failing the batch. A record whose processing fails in a way a retry can fix is reported in
// BatchItemFailures, together with the agent's later records of the batch (processing a later
// record first would make the failed one stale when it comes back). Records of other agents
// succeed. Redelivered records are recognised by event id and cause no second effect. A record
// dated further ahead than settings.maxClockSkewSeconds is refused by the engine: audited under
// its agent as invalid and skipped, never stored and never retried.
package agentstream

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// DefaultConcurrency is how many agents are processed at once. Each agent's path is a few
// DynamoDB round trips, and the Salesforce publish is one call per batch, so the batch's wall
// time is set by how many agents wait on DynamoDB together (BENCHMARKS §8.6: 16 → 32 takes a
// 100-agent batch from about 255 to 200 ms); Connect calls stay under the client's rate limit.
const DefaultConcurrency = 32

// PoisonSubject is the audit subject of records that cannot be decoded.
var PoisonSubject = audit.Subject(audit.KindSystem, "agent-stream")

// Engine is the part of *engine.Engine the handler uses.
type Engine interface {
	NewBatch() *engine.Batch
	RecordAudit(ctx context.Context, e audit.Entry) error
}

var _ Engine = (*engine.Engine)(nil)

// Options tune the handler.
type Options struct {
	// Concurrency bounds agents processed at once; DefaultConcurrency when zero.
	Concurrency int
	// Logger receives one line per batch and one per failure; nil discards.
	Logger *slog.Logger
}

// Handler consumes batches of agent event stream records.
type Handler struct {
	eng  Engine
	opts Options
}

// New returns a handler that applies records through eng.
func New(eng Engine, opts Options) *Handler {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Handler{eng: eng, opts: opts}
}

// Stats counts what one batch contained and what became of it.
type Stats struct {
	// Records is the batch size.
	Records int
	// Poison counts records that did not decode (audited and skipped).
	Poison int
	// Heartbeats counts HEART_BEAT records (counted only).
	Heartbeats int
	// Processed counts events decided (any outcome but duplicate).
	Processed int
	// Duplicates counts events processed before.
	Duplicates int
	// Failed counts records reported in BatchItemFailures.
	Failed int
	// Published counts Salesforce commands published.
	Published int
	// PublishCalls counts the publish calls that took.
	PublishCalls int
}

// record is one decoded record and its fate.
type record struct {
	idx   int
	seq   string
	agent string
	ev    agentevent.Event
}

// Handle processes one Kinesis batch. It reports retryable failures per record (the function
// must enable ReportBatchItemFailures) and never returns an error, so one bad agent or record
// does not make Lambda retry the others.
func (h *Handler) Handle(ctx context.Context, in events.KinesisEvent) (events.KinesisEventResponse, error) {
	resp, _ := h.HandleWithStats(ctx, in)
	return resp, nil
}

// HandleWithStats is Handle that also returns the batch's counts.
func (h *Handler) HandleWithStats(ctx context.Context, in events.KinesisEvent) (events.KinesisEventResponse, Stats) {
	st := Stats{Records: len(in.Records)}
	failed := make([]bool, len(in.Records))
	var order []string
	byAgent := map[string][]record{}
	for i, r := range in.Records {
		ev, err := agentevent.Decode(r.Kinesis.Data)
		if err != nil {
			st.Poison++
			if aerr := h.poison(ctx, r, err); aerr != nil {
				// Not even the audit could be written; retry the record rather than lose it.
				failed[i] = true
			}
			continue
		}
		rec := record{idx: i, seq: r.Kinesis.SequenceNumber, agent: ev.AgentID(), ev: ev}
		if _, ok := byAgent[rec.agent]; !ok {
			order = append(order, rec.agent)
		}
		byAgent[rec.agent] = append(byAgent[rec.agent], rec)
	}

	b := h.eng.NewBatch()
	// The links, the agents' items and the events' processed markers are read for the whole
	// batch up front, a few calls in all, instead of on each event's path.
	var agents, eventIDs []string
	for _, agent := range order {
		n := len(eventIDs)
		for _, r := range byAgent[agent] {
			if r.ev.EventType != agentevent.EventTypeHeartBeat {
				eventIDs = append(eventIDs, r.ev.EventID)
			}
		}
		if len(eventIDs) > n {
			agents = append(agents, agent)
		}
	}
	var prefetch sync.WaitGroup
	prefetch.Go(func() { b.PrefetchLinks(ctx, firstEvents(order, byAgent)) })
	prefetch.Go(func() { b.PrefetchAgents(ctx, agents, eventIDs) })
	prefetch.Wait()
	var (
		processed, duplicates, heartbeats atomic.Int64
		wg                                sync.WaitGroup
		mu                                sync.Mutex
		sem                               = make(chan struct{}, h.opts.Concurrency)
	)
	fail := func(rs []record, from int) {
		mu.Lock()
		for _, r := range rs[from:] {
			failed[r.idx] = true
		}
		mu.Unlock()
	}
	for _, agent := range order {
		rs := byAgent[agent]
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			for j, r := range rs {
				outcome, err := h.apply(ctx, b, r)
				if err != nil {
					h.opts.Logger.ErrorContext(ctx, "agent stream: record failed, it and the agent's later records will be retried",
						"agent", r.agent, "eventId", r.ev.EventID, "sequenceNumber", r.seq, "code", apperr.CodeOf(err), "err", err)
					fail(rs, j)
					return
				}
				switch outcome {
				case "heartbeat":
					heartbeats.Add(1)
				case presence.OutcomeDuplicate:
					duplicates.Add(1)
				default:
					processed.Add(1)
				}
			}
		})
	}
	wg.Wait()

	rep, err := b.Flush(ctx)
	if err != nil {
		h.opts.Logger.ErrorContext(ctx, "agent stream: flush failed; commands stay in the outboxes", "err", err)
	}
	st.Published, st.PublishCalls = rep.Published, rep.PublishCalls
	// A Salesforce command that failed fails its event's record and the agent's later ones.
	for _, f := range rep.Failed {
		rs := byAgent[f.ConnectUserID]
		for j, r := range rs {
			if r.ev.EventID == f.EventID {
				h.opts.Logger.ErrorContext(ctx, "agent stream: Salesforce command not published; record will be retried",
					"agent", r.agent, "eventId", r.ev.EventID, "commandId", f.CommandID, "err", f.Err)
				fail(rs, j)
				break
			}
		}
	}

	resp := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
	for i, r := range in.Records {
		if failed[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: r.Kinesis.SequenceNumber})
		}
	}
	st.Processed, st.Duplicates, st.Heartbeats = int(processed.Load()), int(duplicates.Load()), int(heartbeats.Load())
	st.Failed = len(resp.BatchItemFailures)
	h.opts.Logger.InfoContext(ctx, "agent stream: batch done", "records", st.Records, "processed", st.Processed,
		"duplicates", st.Duplicates, "heartbeats", st.Heartbeats, "poison", st.Poison, "failed", st.Failed,
		"published", st.Published, "publishCalls", st.PublishCalls)
	return resp, st
}

// firstEvents returns each agent's first event that ProcessConnect will see (heartbeats are
// not processed), for the batch's identity prefetch.
func firstEvents(order []string, byAgent map[string][]record) []engine.ConnectEvent {
	var out []engine.ConnectEvent
	for _, agent := range order {
		for _, r := range byAgent[agent] {
			if r.ev.EventType != agentevent.EventTypeHeartBeat {
				ev, username := Convert(r.ev)
				out = append(out, engine.ConnectEvent{ConnectUserID: agent, Username: username, Event: ev})
				break
			}
		}
	}
	return out
}

// apply processes one decoded record. A final (non-retryable) error is audited like a poison
// record and swallowed; only retryable errors are returned.
func (h *Handler) apply(ctx context.Context, b *engine.Batch, r record) (outcome presence.Outcome, err error) {
	defer func() {
		// A bug must fail the record, not kill the container mid-batch from this goroutine.
		if p := recover(); p != nil {
			outcome, err = "", apperr.New(apperr.Internal, "panic while processing record: %v", p)
		}
	}()
	if r.ev.EventType == agentevent.EventTypeHeartBeat {
		return "heartbeat", nil
	}
	ev, username := Convert(r.ev)
	res, err := b.ProcessConnect(ctx, engine.ConnectEvent{ConnectUserID: r.agent, Username: username, Event: ev})
	if err != nil && !engine.Retryable(err) {
		if aerr := h.eng.RecordAudit(ctx, audit.Entry{
			Subject: PoisonSubject, Time: r.ev.EventTimestamp, ID: r.seq, EventID: r.ev.EventID,
			Outcome: string(presence.OutcomeInvalid),
			Message: fmt.Sprintf("agent event %s of agent %s was refused and skipped: %s", r.ev.EventID, r.agent, apperr.MessageOf(err)),
			Details: map[string]any{"sequenceNumber": r.seq, "agent": r.agent, "eventType": r.ev.EventType, "error": apperr.MessageOf(err)},
		}); aerr != nil {
			return "", aerr
		}
		return presence.OutcomeInvalid, nil
	}
	return res.Outcome, err
}

// poison audits a record that does not decode.
func (h *Handler) poison(ctx context.Context, r events.KinesisEventRecord, err error) error {
	problems := apperr.ProblemsOf(err)
	msgs := make([]string, 0, len(problems))
	for _, p := range problems {
		msgs = append(msgs, p.Path+": "+p.Message)
	}
	at := r.Kinesis.ApproximateArrivalTimestamp.Time
	if at.IsZero() {
		at = time.Unix(0, 0)
	}
	h.opts.Logger.WarnContext(ctx, "agent stream: poison record skipped", "sequenceNumber", r.Kinesis.SequenceNumber,
		"partitionKey", r.Kinesis.PartitionKey, "err", apperr.MessageOf(err))
	return h.eng.RecordAudit(ctx, audit.Entry{
		Subject: PoisonSubject,
		Time:    at,
		ID:      r.Kinesis.SequenceNumber,
		Outcome: string(presence.OutcomeInvalid),
		Message: fmt.Sprintf("poison record %s skipped: %s", r.Kinesis.SequenceNumber, apperr.MessageOf(err)),
		Details: map[string]any{
			"sequenceNumber": r.Kinesis.SequenceNumber,
			"partitionKey":   r.Kinesis.PartitionKey,
			"eventSourceArn": r.EventSourceArn,
			"eventId":        r.EventID,
			"bytes":          len(r.Kinesis.Data),
			"problems":       strings.Join(msgs, "; "),
		},
	})
}

// Convert turns a decoded agent event into the engine's event and returns the agent's username
// from the snapshot ("" when absent). It is exported for the admin API's simulator, which takes
// raw records too.
func Convert(ev agentevent.Event) (presence.Event, string) {
	out := presence.Event{
		ID: ev.EventID, Kind: rules.EventConnectAgentStateChanged, Time: ev.EventTimestamp, Origin: presence.OriginStream,
		Connect: snapshot(ev.CurrentAgentSnapshot),
	}
	if p := ev.PreviousAgentSnapshot; p != nil {
		prev := snapshot(p)
		out.ConnectPrevious = &prev
	}
	if ev.EventType == agentevent.EventTypeLogout {
		out.Connect = presence.ConnectSnapshot{StatusName: "Offline", StatusType: string(agentevent.StatusTypeOffline)}
	}
	var username string
	for _, s := range []*agentevent.AgentSnapshot{ev.CurrentAgentSnapshot, ev.PreviousAgentSnapshot} {
		if s != nil && s.Configuration != nil && s.Configuration.Username != "" {
			username = s.Configuration.Username
			break
		}
	}
	return out, username
}

func snapshot(s *agentevent.AgentSnapshot) presence.ConnectSnapshot {
	var out presence.ConnectSnapshot
	if s == nil {
		return out
	}
	if st := s.AgentStatus; st != nil {
		out.StatusName, out.StatusType = st.Name, string(st.Type)
	}
	for _, c := range s.Contacts {
		out.Contacts = append(out.Contacts, presence.Contact{
			ID: c.ContactID, State: string(c.State), InitiationMethod: string(c.InitiationMethod), Channel: string(c.Channel),
		})
	}
	return out
}
