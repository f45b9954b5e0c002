package dynamo

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/presence"
)

// Agent state items: pk "AGENT#<connect user id>", sk "STATE". The Connect user id is the key
// because every Connect event names it (the agent ARN); Salesforce events name the Salesforce
// user and reach the item through the identity link (see Link).
const (
	agentPrefix = "AGENT#"
	agentSK     = "STATE"
)

// AgentRetention is how long an agent item outlives its last write. Agents who leave stop
// producing events, and their items expire instead of accumulating.
const AgentRetention = 30 * 24 * time.Hour

// AgentRecord is one agent's persisted presence state, its outbox and its optimistic version.
//
// The outbox lives in the same item as the state so that the decision and the commands it
// produced are written in one conditional put: no transaction is needed (DESIGN.md §4), and
// no crash can leave a state that remembers commands the outbox does not hold, or the reverse.
type AgentRecord struct {
	// ConnectUserID is the key.
	ConnectUserID string
	// State is what presence.Decide reads and returns.
	State presence.AgentState
	// Outbox holds commands decided but not yet delivered, oldest first.
	Outbox []OutboxEntry
	// Version is the stored version; 0 means the item does not exist yet.
	Version int64
	// UpdatedAt is when the item was last written (store clock).
	UpdatedAt time.Time
	// Journal lists the other items the decisions stored here call for and that are not known
	// to be written yet (see AgentJournal).
	Journal AgentJournal
}

// AgentJournal is what the decisions stored in an agent item promise to write elsewhere: their
// audit entries, the sweep's pending-index entries of their Salesforce commands, and the
// idempotency markers of their events. It is written in the same conditional put as the
// decision, so the decision costs one write on its critical path; the items it lists are then
// written in batches (WriteJournal) and the journal is cleared by the item's next write. A
// crash in between leaves the journal in the item, and whoever loads the agent next writes it
// again: every item in it is idempotent to write twice.
//
// Keys also count as processed for de-duplication while they are in the journal, so an event
// replayed before its marker exists is still recognised.
type AgentJournal struct {
	// Keys are idempotency keys (as Claim takes them) to mark processed.
	Keys []string `json:"keys,omitempty"`
	// Audits are audit entries to append.
	Audits []audit.Entry `json:"audits,omitempty"`
	// Pending are pending-index entries to put.
	Pending []PendingRef `json:"pending,omitempty"`
}

// Empty reports whether the journal lists nothing.
func (j AgentJournal) Empty() bool { return j.Len() == 0 }

// Len counts the journal's entries.
func (j AgentJournal) Len() int { return len(j.Keys) + len(j.Audits) + len(j.Pending) }

// HasKey reports whether key is one of the journal's idempotency keys.
func (j AgentJournal) HasKey(key string) bool { return slices.Contains(j.Keys, key) }

// Add returns j with o's entries appended; it never shares j's slices, so the caller's stays as
// it was.
func (j AgentJournal) Add(o AgentJournal) AgentJournal {
	return AgentJournal{
		Keys:    append(slices.Clone(j.Keys), o.Keys...),
		Audits:  append(slices.Clone(j.Audits), o.Audits...),
		Pending: append(slices.Clone(j.Pending), o.Pending...),
	}
}

// Without returns j less every entry that done lists: what is left once done was written.
// Entries are compared by the item they write (audit subject, time and id; pending deadline,
// agent and command).
func (j AgentJournal) Without(done AgentJournal) AgentJournal {
	var out AgentJournal
	for _, k := range j.Keys {
		if !slices.Contains(done.Keys, k) {
			out.Keys = append(out.Keys, k)
		}
	}
	for _, a := range j.Audits {
		if !slices.ContainsFunc(done.Audits, func(d audit.Entry) bool {
			return d.Subject == a.Subject && d.ID == a.ID && d.Time.Equal(a.Time)
		}) {
			out.Audits = append(out.Audits, a)
		}
	}
	for _, p := range j.Pending {
		if !slices.ContainsFunc(done.Pending, func(d PendingRef) bool { return d.sk() == p.sk() }) {
			out.Pending = append(out.Pending, p)
		}
	}
	return out
}

// OutboxEntry is a command awaiting delivery.
type OutboxEntry struct {
	// Command is the command to deliver.
	Command presence.Command `json:"command"`
	// Attempts counts failed deliveries.
	Attempts int `json:"attempts,omitempty"`
	// LastError is the last delivery failure, user-safe text only.
	LastError string `json:"lastError,omitempty"`
	// LastAttemptAt is when delivery last failed.
	LastAttemptAt time.Time `json:"lastAttemptAt,omitzero"`
}

// agentItem is the stored form. State and outbox are JSON text, like the config document: the
// nested times, numbers and optional fields round-trip exactly. The other attributes are there
// for people reading the table.
type agentItem struct {
	PK                string `dynamodbav:"pk"`
	SK                string `dynamodbav:"sk"`
	TTL               int64  `dynamodbav:"ttl"`
	Version           int64  `dynamodbav:"version"`
	ConnectUserID     string `dynamodbav:"connectUserId"`
	SalesforceUserID  string `dynamodbav:"salesforceUserId,omitempty"`
	State             string `dynamodbav:"state"`
	Outbox            string `dynamodbav:"outbox,omitempty"`
	OutboxLen         int    `dynamodbav:"outboxLen"`
	ConnectEventAt    string `dynamodbav:"connectEventAt,omitempty"`
	SalesforceEventAt string `dynamodbav:"salesforceEventAt,omitempty"`
	UpdatedAt         string `dynamodbav:"updatedAt"`
	// Journal is the AgentJournal as JSON, absent when empty.
	Journal string `dynamodbav:"journal,omitempty"`
}

// GetAgent reads the agent item of a Connect user. It returns apperr.NotFound when there is
// none (or it has expired).
func (s *Store) GetAgent(ctx context.Context, connectUserID string) (AgentRecord, error) {
	if connectUserID == "" {
		return AgentRecord{}, apperr.New(apperr.Invalid, "agent id is empty")
	}
	item, err := s.liveItem(ctx, agentPrefix+connectUserID, agentSK, "get agent")
	if err != nil {
		return AgentRecord{}, err
	}
	if item == nil {
		return AgentRecord{}, apperr.New(apperr.NotFound, "agent %s has no stored state", connectUserID)
	}
	return decodeAgent(item, connectUserID)
}

// GetAgents reads the agent items of many Connect users at once (BatchGetItem, consistent
// reads), keyed by user id; users without a live item are absent. Repeated ids are read once.
func (s *Store) GetAgents(ctx context.Context, connectUserIDs []string) (map[string]AgentRecord, error) {
	ids := slices.Clone(connectUserIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > 0 && ids[0] == "" {
		return nil, apperr.New(apperr.Invalid, "agent id is empty")
	}
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = key(agentPrefix+id, agentSK)
	}
	items, err := s.getItems(ctx, "get agents", keys)
	if err != nil {
		return nil, err
	}
	now := s.now().Unix()
	out := make(map[string]AgentRecord, len(items))
	for _, item := range items {
		if expired(item, now) {
			continue
		}
		id := ""
		if v, ok := item[attrPK].(*types.AttributeValueMemberS); ok && len(v.Value) > len(agentPrefix) {
			id = v.Value[len(agentPrefix):]
		}
		rec, err := decodeAgent(item, id)
		if err != nil {
			return nil, err
		}
		out[rec.ConnectUserID] = rec
	}
	return out, nil
}

func decodeAgent(item map[string]types.AttributeValue, connectUserID string) (AgentRecord, error) {
	var it agentItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return AgentRecord{}, apperr.Wrap(apperr.Internal, err, "decode agent item")
	}
	rec := AgentRecord{ConnectUserID: it.ConnectUserID, Version: it.Version}
	rec.UpdatedAt, _ = time.Parse(time.RFC3339Nano, it.UpdatedAt)
	if err := json.Unmarshal([]byte(it.State), &rec.State); err != nil {
		return AgentRecord{}, apperr.Wrap(apperr.Internal, err, "stored state of agent %s is corrupt", connectUserID)
	}
	if it.Outbox != "" {
		if err := json.Unmarshal([]byte(it.Outbox), &rec.Outbox); err != nil {
			return AgentRecord{}, apperr.Wrap(apperr.Internal, err, "stored outbox of agent %s is corrupt", connectUserID)
		}
	}
	if it.Journal != "" {
		if err := json.Unmarshal([]byte(it.Journal), &rec.Journal); err != nil {
			return AgentRecord{}, apperr.Wrap(apperr.Internal, err, "stored journal of agent %s is corrupt", connectUserID)
		}
	}
	return rec, nil
}

// PutAgent writes rec as the version after rec.Version and returns the new version. The write is
// conditional on the stored version still being rec.Version (or, for rec.Version 0, on there
// being no live item): a concurrent writer makes it fail with apperr.Conflict, and the caller
// reloads and decides again. Since Decide drops events that are not newer than the loaded
// state, this one condition also keeps a stale event from overwriting a newer one.
func (s *Store) PutAgent(ctx context.Context, rec AgentRecord) (int64, error) {
	if rec.ConnectUserID == "" {
		return 0, apperr.New(apperr.Invalid, "agent id is empty")
	}
	state, err := json.Marshal(rec.State)
	if err != nil {
		return 0, apperr.Wrap(apperr.Internal, err, "encode agent state")
	}
	now := s.now()
	it := agentItem{
		PK: agentPrefix + rec.ConnectUserID, SK: agentSK, TTL: now.Add(AgentRetention).Unix(),
		Version: rec.Version + 1, ConnectUserID: rec.ConnectUserID, SalesforceUserID: rec.State.SalesforceUserID,
		State: string(state), OutboxLen: len(rec.Outbox), UpdatedAt: now.UTC().Format(time.RFC3339Nano),
	}
	if len(rec.Outbox) > 0 {
		b, err := json.Marshal(rec.Outbox)
		if err != nil {
			return 0, apperr.Wrap(apperr.Internal, err, "encode agent outbox")
		}
		it.Outbox = string(b)
	}
	if !rec.Journal.Empty() {
		b, err := json.Marshal(rec.Journal)
		if err != nil {
			return 0, apperr.Wrap(apperr.Invalid, err, "agent journal cannot be encoded")
		}
		it.Journal = string(b)
	}
	if t := rec.State.Connect.EventTime; !t.IsZero() {
		it.ConnectEventAt = sortableTime(t)
	}
	if t := rec.State.Salesforce.EventTime; !t.IsZero() {
		it.SalesforceEventAt = sortableTime(t)
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return 0, apperr.Wrap(apperr.Internal, err, "encode agent item")
	}
	cond := expression.Name("version").Equal(expression.Value(rec.Version))
	if rec.Version == 0 {
		// An expired item DynamoDB has not deleted yet counts as absent, as on read.
		cond = expression.AttributeNotExists(expression.Name(attrPK)).
			Or(expression.Name(attrTTL).LessThanEqual(expression.Value(now.Unix())))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return 0, apperr.Wrap(apperr.Internal, err, "build condition")
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		err = mapErr(err, "put agent")
		if apperr.Is(err, apperr.Conflict) {
			return 0, apperr.Wrap(apperr.Conflict, err, "agent %s changed since version %d", rec.ConnectUserID, rec.Version)
		}
		return 0, err
	}
	return rec.Version + 1, nil
}

// WriteJournal writes every item j lists, unconditionally and BatchWriteMax per BatchWriteItem
// call: the audit entries (kept for retention, as AppendAudit keeps them), the pending-index
// entries (as PutPending) and an idempotency marker per key (kept for markerTTL, as Claim
// records it, but without Claim's condition: a marker written twice is the same marker). On
// error the caller keeps the journal, so the items are written again later.
func (s *Store) WriteJournal(ctx context.Context, j AgentJournal, retention, markerTTL time.Duration) error {
	if markerTTL <= 0 && len(j.Keys) > 0 {
		return apperr.New(apperr.Invalid, "idempotency ttl must be positive")
	}
	items := make([]map[string]types.AttributeValue, 0, len(j.Keys)+len(j.Audits)+len(j.Pending))
	now := s.now()
	for _, k := range j.Keys {
		if k == "" {
			return apperr.New(apperr.Invalid, "idempotency key is empty")
		}
		items = append(items, markerItem(k, now, markerTTL))
	}
	for _, e := range j.Audits {
		item, err := s.auditItem(e, retention)
		if err != nil {
			return err
		}
		items = append(items, item)
	}
	for _, r := range j.Pending {
		it, err := pendingItem(r)
		if err != nil {
			return err
		}
		item, err := attributevalue.MarshalMap(it)
		if err != nil {
			return apperr.Wrap(apperr.Internal, err, "encode index item")
		}
		items = append(items, item)
	}
	return s.putItems(ctx, "write agent journal", items)
}
