// Package dynamo is Omnibridge's DynamoDB adapter: one table keyed by pk/sk with a TTL attribute,
// holding the config document and its history, idempotency keys, audit entries and the
// newer-wins state items later features build on.
//
// Every error it returns is an *apperr.Error: a failed condition becomes apperr.Conflict, a
// missing item or table apperr.NotFound, throttling apperr.Unavailable, anything else
// apperr.Internal. No SDK error type leaks out.
package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Attribute names shared by every item.
const (
	attrPK    = "pk"
	attrSK    = "sk"
	attrTTL   = "ttl"
	attrStamp = "stamp"
)

// API is the subset of the DynamoDB client the store uses; *dynamodb.Client satisfies it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store reads and writes Omnibridge's table.
type Store struct {
	db    API
	table string
	now   func() time.Time
}

// New returns a store over the named table.
func New(db API, table string) *Store {
	return &Store{db: db, table: table, now: time.Now}
}

// WithClock returns a copy of the store that reads the time from now; tests use it to control TTLs.
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.now = now
	return &c
}

// Table returns the table name.
func (s *Store) Table() string { return s.table }

// Ping checks that the table exists and is reachable.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	return mapErr(err, "describe table")
}

// CreateTable creates the table with the production key schema, as template.yaml declares it,
// and enables TTL where the server supports it. It is used by the local stack and tests; in AWS
// the table comes from CloudFormation. An existing table is not an error.
func (s *Store) CreateTable(ctx context.Context) error {
	_, err := s.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(s.table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return mapErr(err, "create table")
	}
	// Wait while the table is being created: dynalite creates tables asynchronously. minidyn
	// reports no status at all, which counts as ready.
	for i := 0; i < 200; i++ {
		out, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
		if err == nil && out.Table != nil && out.Table.TableStatus != types.TableStatusCreating {
			break
		}
		select {
		case <-ctx.Done():
			return apperr.Wrap(apperr.Unavailable, ctx.Err(), "table %s did not become active", s.table)
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Embedded servers may not implement TTL; expiry is also enforced on read, so this is best effort.
	_, _ = s.db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(s.table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrTTL), Enabled: aws.Bool(true)},
	})
	return nil
}

// mapErr turns an SDK error into an application error.
func mapErr(err error, op string) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	var (
		condFailed *types.ConditionalCheckFailedException
		notFound   *types.ResourceNotFoundException
		throughput *types.ProvisionedThroughputExceededException
		limit      *types.RequestLimitExceeded
	)
	switch {
	case errors.As(err, &condFailed):
		return apperr.Wrap(apperr.Conflict, err, "%s: condition failed", op)
	case errors.As(err, &notFound):
		return apperr.Wrap(apperr.NotFound, err, "%s: table not found", op)
	case errors.As(err, &throughput), errors.As(err, &limit):
		return apperr.Wrap(apperr.Unavailable, err, "%s: throttled", op)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return apperr.Wrap(apperr.Unavailable, err, "%s: %v", op, err)
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ConditionalCheckFailedException" {
		return apperr.Wrap(apperr.Conflict, err, "%s: condition failed", op)
	}
	return apperr.Wrap(apperr.Internal, err, "%s failed", op)
}

// ttlAt encodes an expiry as the epoch seconds DynamoDB TTL expects.
func ttlAt(t time.Time) string {
	return itoa(t.Unix())
}
