package dynamo

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/omnibridge/omnibridge/shared/apperr"
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
}

// GetAgent reads the agent item of a Connect user. It returns apperr.NotFound when there is
// none (or it has expired).
func (s *Store) GetAgent(ctx context.Context, connectUserID string) (AgentRecord, error) {
	if connectUserID == "" {
		return AgentRecord{}, apperr.New(apperr.Invalid, "agent id is empty")
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(agentPrefix+connectUserID, agentSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return AgentRecord{}, mapErr(err, "get agent")
	}
	if len(out.Item) == 0 || expired(out.Item, s.now().Unix()) {
		return AgentRecord{}, apperr.New(apperr.NotFound, "agent %s has no stored state", connectUserID)
	}
	var it agentItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
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
