package dynamo

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// PutIfNewer writes item at k only if nothing is stored there or the stored item's stamp is
// older than stamp, and reports whether it wrote. This is the "newer wins" write that keeps a
// stale or redelivered event from overwriting newer state: stamps are event times (for example
// Unix nanoseconds) or versions. An equal stamp does not write, so a redelivered event is a no-op.
//
// item is marshalled with attributevalue (dynamodbav tags); its pk, sk and stamp attributes are
// set by the store. An expiry, if expires is non-zero, goes in the TTL attribute.
func (s *Store) PutIfNewer(ctx context.Context, k Key, stamp int64, item any, expires int64) (bool, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return false, apperr.Wrap(apperr.Internal, err, "encode item")
	}
	av[attrPK] = &types.AttributeValueMemberS{Value: k.PK}
	av[attrSK] = &types.AttributeValueMemberS{Value: k.SK}
	av[attrStamp] = &types.AttributeValueMemberN{Value: itoa(stamp)}
	if expires > 0 {
		av[attrTTL] = &types.AttributeValueMemberN{Value: itoa(expires)}
	}
	cond := expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name(attrStamp).LessThan(expression.Value(stamp)))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return false, apperr.Wrap(apperr.Internal, err, "build condition")
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      av,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		err = mapErr(err, "put if newer")
		if apperr.Is(err, apperr.Conflict) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// liveItem reads the item at pk/sk with a consistent read; nil when it is absent or has
// expired (DynamoDB deletes expired items only eventually). op names the read in errors.
func (s *Store) liveItem(ctx context.Context, pk, sk, op string) (map[string]types.AttributeValue, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, mapErr(err, op)
	}
	if len(out.Item) == 0 || expired(out.Item, s.now().Unix()) {
		return nil, nil
	}
	return out.Item, nil
}

// getVersionedJSON reads a live item that keeps its version in "version" and its state as JSON
// text in attr, decoding the state into out, and returns the version. what names the state in
// errors: apperr.NotFound "no <what> is stored" when the item is absent or expired,
// apperr.Internal when it does not decode.
func (s *Store) getVersionedJSON(ctx context.Context, pk, sk, attr string, out any, what string) (int64, error) {
	item, err := s.liveItem(ctx, pk, sk, "get "+what)
	if err != nil {
		return 0, err
	}
	if item == nil {
		return 0, apperr.New(apperr.NotFound, "no %s is stored", what)
	}
	var it struct {
		Version int64 `dynamodbav:"version"`
	}
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return 0, apperr.Wrap(apperr.Internal, err, "decode the item of %s", what)
	}
	text, ok := item[attr].(*types.AttributeValueMemberS)
	if !ok {
		return 0, apperr.New(apperr.Internal, "stored %s has no %s text", what, attr)
	}
	if err := json.Unmarshal([]byte(text.Value), out); err != nil {
		return 0, apperr.Wrap(apperr.Internal, err, "stored %s is corrupt", what)
	}
	return it.Version, nil
}

// GetItem reads the item at k into out and returns its stamp. It returns apperr.NotFound when the
// item is absent or has expired.
func (s *Store) GetItem(ctx context.Context, k Key, out any) (int64, error) {
	item, err := s.liveItem(ctx, k.PK, k.SK, "get item")
	if err != nil {
		return 0, err
	}
	if item == nil {
		return 0, apperr.New(apperr.NotFound, "item %s/%s not found", k.PK, k.SK)
	}
	if err := attributevalue.UnmarshalMap(item, out); err != nil {
		return 0, apperr.Wrap(apperr.Internal, err, "decode item")
	}
	var stamp int64
	if n, ok := item[attrStamp]; ok {
		_ = attributevalue.Unmarshal(n, &stamp)
	}
	return stamp, nil
}

func expired(item map[string]types.AttributeValue, now int64) bool {
	var ttl int64
	if v, ok := item[attrTTL]; ok && attributevalue.Unmarshal(v, &ttl) == nil && ttl > 0 {
		return ttl <= now
	}
	return false
}
