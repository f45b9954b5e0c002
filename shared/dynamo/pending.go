package dynamo

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Sweep index items. The acknowledgement deadlines of pending Salesforce commands live in one
// partition, pk "PENDING", sk "<fixed-width UTC deadline>#<connect user id>#<command id>", so a
// scheduled sweep finds every due command with one key-range query. Agents whose outbox still
// holds undelivered commands are listed under pk "OUTBOX", sk "<connect user id>".
//
// One partition per index is simple and enough for thousands of agents: DynamoDB gives a
// partition 1,000 writes a second, far above the rate of presence commands.
const (
	pendingPK = "PENDING"
	outboxPK  = "OUTBOX"
)

// indexRetention keeps an index item past its deadline for a while, in case the sweep is not
// running; after that DynamoDB removes it.
const indexRetention = 7 * 24 * time.Hour

// PendingRef is one pending-command index entry.
type PendingRef struct {
	// Deadline is when the command's acknowledgement is due.
	Deadline time.Time `json:"deadline"`
	// ConnectUserID is the agent.
	ConnectUserID string `json:"connectUserId"`
	// CommandID is the command.
	CommandID string `json:"commandId"`
}

func (r PendingRef) sk() string {
	return sortableTime(r.Deadline) + "#" + r.ConnectUserID + "#" + r.CommandID
}

type indexItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	TTL           int64  `dynamodbav:"ttl"`
	ConnectUserID string `dynamodbav:"connectUserId"`
	CommandID     string `dynamodbav:"commandId,omitempty"`
	Deadline      string `dynamodbav:"deadline,omitempty"`
	Since         string `dynamodbav:"since,omitempty"`
}

// PutPending records that the agent's command must be acknowledged by r.Deadline. Writing the
// same entry again is harmless.
func (s *Store) PutPending(ctx context.Context, r PendingRef) error {
	it, err := pendingItem(r)
	if err != nil {
		return err
	}
	return s.putIndex(ctx, it)
}

func pendingItem(r PendingRef) (indexItem, error) {
	if r.ConnectUserID == "" || r.CommandID == "" || r.Deadline.IsZero() {
		return indexItem{}, apperr.New(apperr.Invalid, "pending entry needs an agent, a command id and a deadline")
	}
	if strings.Contains(r.ConnectUserID, "#") {
		return indexItem{}, apperr.New(apperr.Invalid, "agent id %q contains '#'", r.ConnectUserID)
	}
	return indexItem{
		PK: pendingPK, SK: r.sk(), TTL: r.Deadline.Add(indexRetention).Unix(),
		ConnectUserID: r.ConnectUserID, CommandID: r.CommandID, Deadline: r.Deadline.UTC().Format(time.RFC3339Nano),
	}, nil
}

// DuePending returns up to limit entries whose deadline is at or before now, earliest first.
func (s *Store) DuePending(ctx context.Context, now time.Time, limit int) ([]PendingRef, error) {
	items, err := s.queryIndex(ctx, pendingPK, "0", sortableTime(now)+"~", limit)
	if err != nil {
		return nil, err
	}
	out := make([]PendingRef, 0, len(items))
	for _, it := range items {
		r := PendingRef{ConnectUserID: it.ConnectUserID, CommandID: it.CommandID}
		r.Deadline, _ = time.Parse(time.RFC3339Nano, it.Deadline)
		out = append(out, r)
	}
	return out, nil
}

// DeletePending removes an entry; removing a missing one is not an error.
func (s *Store) DeletePending(ctx context.Context, r PendingRef) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(pendingPK, r.sk())})
	return mapErr(err, "delete pending entry")
}

// MarkOutbox lists the agent as having undelivered commands since the given time.
func (s *Store) MarkOutbox(ctx context.Context, connectUserID string, since time.Time) error {
	if connectUserID == "" {
		return apperr.New(apperr.Invalid, "agent id is empty")
	}
	return s.putIndex(ctx, indexItem{
		PK: outboxPK, SK: connectUserID, TTL: s.now().Add(indexRetention).Unix(),
		ConnectUserID: connectUserID, Since: since.UTC().Format(time.RFC3339Nano),
	})
}

// OutboxAgents returns up to limit agents listed by MarkOutbox.
func (s *Store) OutboxAgents(ctx context.Context, limit int) ([]string, error) {
	items, err := s.queryIndex(ctx, outboxPK, "", "", limit)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.ConnectUserID)
	}
	return out, nil
}

// ClearOutbox removes the agent from the outbox list; removing a missing entry is not an error.
func (s *Store) ClearOutbox(ctx context.Context, connectUserID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(outboxPK, connectUserID)})
	return mapErr(err, "clear outbox entry")
}

func (s *Store) putIndex(ctx context.Context, it indexItem) error {
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "encode index item")
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return mapErr(err, "put index item")
}

// queryIndex reads up to limit items of partition pk, in sk order, with sk between lo and hi
// when lo is set. Expired items are skipped.
func (s *Store) queryIndex(ctx context.Context, pk, lo, hi string, limit int) ([]indexItem, error) {
	if limit <= 0 {
		limit = 1000
	}
	kc := expression.Key(attrPK).Equal(expression.Value(pk))
	if lo != "" {
		kc = kc.And(expression.Key(attrSK).Between(expression.Value(lo), expression.Value(hi)))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, err, "build query")
	}
	now := s.now().Unix()
	var (
		out   []indexItem
		start map[string]types.AttributeValue
	)
	for len(out) < limit {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			KeyConditionExpression:    expr.KeyCondition(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
			ExclusiveStartKey:         start,
			Limit:                     aws.Int32(int32(limit - len(out))),
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return nil, mapErr(err, "query index")
		}
		for _, item := range res.Items {
			if expired(item, now) {
				continue
			}
			var it indexItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return nil, apperr.Wrap(apperr.Internal, err, "decode index item")
			}
			out = append(out, it)
		}
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		start = res.LastEvaluatedKey
	}
	return out, nil
}
