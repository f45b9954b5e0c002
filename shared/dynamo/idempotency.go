package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Claim records key if it is absent (or its earlier record has expired) and reports whether this
// caller recorded it. Of any number of concurrent callers with the same key exactly one gets
// true: the write is conditional. The record expires after ttl.
//
// DynamoDB deletes expired items lazily (often hours late), so expiry is also checked in the
// condition: an expired record counts as absent.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if key == "" {
		return false, apperr.New(apperr.Invalid, "idempotency key is empty")
	}
	if ttl <= 0 {
		return false, apperr.New(apperr.Invalid, "idempotency ttl must be positive")
	}
	now := s.now()
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name(attrTTL).LessThanEqual(expression.Value(now.Unix())))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return false, apperr.Wrap(apperr.Internal, err, "build condition")
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      markerItem(key, now, ttl),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		err = mapErr(err, "claim idempotency key")
		if apperr.Is(err, apperr.Conflict) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// markerItem is the stored form of a processed key.
func markerItem(key string, now time.Time, ttl time.Duration) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK:      &types.AttributeValueMemberS{Value: idemPrefix + key},
		attrSK:      &types.AttributeValueMemberS{Value: "IDEM"},
		attrTTL:     &types.AttributeValueMemberN{Value: ttlAt(now.Add(ttl))},
		"createdAt": &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
	}
}

// Release deletes a claimed key, so that work which failed after claiming can be retried.
func (s *Store) Release(ctx context.Context, key string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table),
		Key:       map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: idemPrefix + key}, attrSK: &types.AttributeValueMemberS{Value: "IDEM"}},
	})
	return mapErr(err, "release idempotency key")
}
