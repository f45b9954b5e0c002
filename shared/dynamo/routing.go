package dynamo

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/routing"
)

// Case routing items:
//   - the routing entry of a case: pk "ROUTE#<case id>", sk "ROUTE", the routing.Entry as JSON
//     with an optimistic version;
//   - the task index: pk "ROUTETASK#<Connect contact id>", sk "ROUTETASK", naming the case a task
//     belongs to, so its contact events find the entry;
//   - the backlog sweep's cursor: pk "ROUTESWEEP", sk "CURSOR".
const (
	routePrefix     = "ROUTE#"
	routeSK         = "ROUTE"
	routeTaskPrefix = "ROUTETASK#"
	routeTaskSK     = "ROUTETASK"
	routeSweepPK    = "ROUTESWEEP"
	routeSweepSK    = "CURSOR"
)

// RoutingRetention is how long a case's routing entry and task index outlive their last write
// once the case has no live task. A live entry never expires.
const RoutingRetention = 90 * 24 * time.Hour

// RoutingRecord is a stored routing entry and its version (0: not stored).
type RoutingRecord struct {
	Entry   routing.Entry
	Version int64
}

type routingItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	TTL     int64  `dynamodbav:"ttl,omitempty"`
	Version int64  `dynamodbav:"version"`
	State   string `dynamodbav:"state"`
	Entry   string `dynamodbav:"entry"`
}

// GetRouting reads a case's routing entry (18-character case id); apperr.NotFound when none.
func (s *Store) GetRouting(ctx context.Context, caseID string) (RoutingRecord, error) {
	if caseID == "" {
		return RoutingRecord{}, apperr.New(apperr.Invalid, "case id is empty")
	}
	var rec RoutingRecord
	v, err := s.getVersionedJSON(ctx, routePrefix+caseID, routeSK, "entry", &rec.Entry, "routing entry of case "+caseID)
	if err != nil {
		return RoutingRecord{}, err
	}
	rec.Version = v
	return rec, nil
}

// PutRouting writes e as the version after expectedVersion (0: create) and returns the new
// version; apperr.Conflict when another writer got there first (reload and decide again).
func (s *Store) PutRouting(ctx context.Context, e routing.Entry, expectedVersion int64) (int64, error) {
	if e.CaseID == "" {
		return 0, apperr.New(apperr.Invalid, "case id is empty")
	}
	body, err := json.Marshal(e)
	if err != nil {
		return 0, apperr.Wrap(apperr.Internal, err, "encode routing entry")
	}
	now := s.now()
	it := routingItem{PK: routePrefix + e.CaseID, SK: routeSK, Version: expectedVersion + 1, State: string(e.State), Entry: string(body)}
	if !e.State.Live() {
		it.TTL = now.Add(RoutingRetention).Unix()
	}
	if err := s.putVersioned(ctx, it, expectedVersion, now, nil); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return 0, apperr.Wrap(apperr.Conflict, err, "routing entry of case %s changed since version %d", e.CaseID, expectedVersion)
		}
		return 0, err
	}
	return expectedVersion + 1, nil
}

// putVersioned puts an item whose stored "version" attribute must equal expectedVersion (and,
// when and is set, meet that condition too), or, for 0, which must not exist (or has expired):
// the optimistic write of the versioned items (routing entries, session states, call logs). A
// failed condition is apperr.Conflict.
func (s *Store) putVersioned(ctx context.Context, it any, expectedVersion int64, now time.Time, and *expression.ConditionBuilder) error {
	if expectedVersion < 0 {
		return apperr.New(apperr.Invalid, "expected version %d is negative", expectedVersion)
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "encode item")
	}
	cond := expression.Name("version").Equal(expression.Value(expectedVersion))
	if and != nil {
		cond = cond.And(*and)
	}
	if expectedVersion == 0 {
		cond = expression.AttributeNotExists(expression.Name(attrPK)).
			Or(expression.Name(attrTTL).LessThanEqual(expression.Value(now.Unix())))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "build condition")
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	return mapErr(err, "put item")
}

// PutRoutingTask records that the Connect contact contactID is a task of case caseID.
func (s *Store) PutRoutingTask(ctx context.Context, contactID, caseID string) error {
	if contactID == "" || caseID == "" {
		return apperr.New(apperr.Invalid, "contact id and case id are required")
	}
	item := map[string]types.AttributeValue{
		attrPK:   &types.AttributeValueMemberS{Value: routeTaskPrefix + contactID},
		attrSK:   &types.AttributeValueMemberS{Value: routeTaskSK},
		"caseId": &types.AttributeValueMemberS{Value: caseID},
		attrTTL:  &types.AttributeValueMemberN{Value: itoa(s.now().Add(RoutingRetention).Unix())},
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return mapErr(err, "put routing task")
}

// RoutingTaskCase returns the case a task belongs to; apperr.NotFound when the contact is not a
// task the bridge created (or its index expired).
func (s *Store) RoutingTaskCase(ctx context.Context, contactID string) (string, error) {
	if contactID == "" {
		return "", apperr.New(apperr.Invalid, "contact id is empty")
	}
	item, err := s.liveItem(ctx, routeTaskPrefix+contactID, routeTaskSK, "get routing task")
	if err != nil {
		return "", err
	}
	if item == nil {
		return "", apperr.New(apperr.NotFound, "contact %s is not a routed task", contactID)
	}
	var it struct {
		CaseID string `dynamodbav:"caseId"`
	}
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return "", apperr.Wrap(apperr.Internal, err, "decode routing task")
	}
	return it.CaseID, nil
}

// SweepCursor is where the backlog sweep resumes: after the case with this CreatedDate and id.
type SweepCursor struct {
	CreatedDate time.Time `json:"createdDate"`
	CaseID      string    `json:"caseId"`
}

// GetSweepCursor returns the backlog sweep's cursor; the zero cursor (start from the oldest
// case) when none is stored.
func (s *Store) GetSweepCursor(ctx context.Context) (SweepCursor, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(routeSweepPK, routeSweepSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return SweepCursor{}, mapErr(err, "get sweep cursor")
	}
	var it struct {
		Cursor string `dynamodbav:"cursor"`
	}
	if len(out.Item) == 0 {
		return SweepCursor{}, nil
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return SweepCursor{}, apperr.Wrap(apperr.Internal, err, "decode sweep cursor")
	}
	var c SweepCursor
	if err := json.Unmarshal([]byte(it.Cursor), &c); err != nil {
		return SweepCursor{}, apperr.Wrap(apperr.Internal, err, "sweep cursor is corrupt")
	}
	return c, nil
}

// PutSweepCursor stores the backlog sweep's cursor (the zero cursor: start again from the oldest).
func (s *Store) PutSweepCursor(ctx context.Context, c SweepCursor) error {
	body, err := json.Marshal(c)
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "encode sweep cursor")
	}
	item := map[string]types.AttributeValue{
		attrPK:   &types.AttributeValueMemberS{Value: routeSweepPK},
		attrSK:   &types.AttributeValueMemberS{Value: routeSweepSK},
		"cursor": &types.AttributeValueMemberS{Value: string(body)},
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return mapErr(err, "put sweep cursor")
}

// RoutingCatalog is what case routing last resolved in both systems: the monitored queues'
// Group ids by DeveloperName and the skills (values of the skill attribute) Connect has. The
// routing functions write it when they resolve it, so the admin API's simulator, which calls
// neither system, decides with the same view.
type RoutingCatalog struct {
	ConfigVersion int64             `json:"configVersion"`
	QueueIDs      map[string]string `json:"queueIds"`
	Skills        []string          `json:"skills"`
	// SkillsMissing is set when Connect has no skill attribute of the configured name.
	SkillsMissing bool      `json:"skillsMissing,omitempty"`
	ResolvedAt    time.Time `json:"resolvedAt"`
}

const routeCatalogPK, routeCatalogSK = "ROUTECATALOG", "CURRENT"

// PutRoutingCatalog stores the catalog, replacing the previous one.
func (s *Store) PutRoutingCatalog(ctx context.Context, c RoutingCatalog) error {
	body, err := json.Marshal(c)
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "encode routing catalog")
	}
	item := map[string]types.AttributeValue{
		attrPK:    &types.AttributeValueMemberS{Value: routeCatalogPK},
		attrSK:    &types.AttributeValueMemberS{Value: routeCatalogSK},
		"catalog": &types.AttributeValueMemberS{Value: string(body)},
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return mapErr(err, "put routing catalog")
}

// GetRoutingCatalog returns the stored catalog; apperr.NotFound before routing first ran.
func (s *Store) GetRoutingCatalog(ctx context.Context) (RoutingCatalog, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(routeCatalogPK, routeCatalogSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return RoutingCatalog{}, mapErr(err, "get routing catalog")
	}
	if len(out.Item) == 0 {
		return RoutingCatalog{}, apperr.New(apperr.NotFound, "case routing has not resolved its queues yet (it does on its first case event or sweep)")
	}
	var it struct {
		Catalog string `dynamodbav:"catalog"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return RoutingCatalog{}, apperr.Wrap(apperr.Internal, err, "decode routing catalog")
	}
	var c RoutingCatalog
	if err := json.Unmarshal([]byte(it.Catalog), &c); err != nil {
		return RoutingCatalog{}, apperr.Wrap(apperr.Internal, err, "routing catalog is corrupt")
	}
	return c, nil
}
