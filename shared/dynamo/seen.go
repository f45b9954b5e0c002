package dynamo

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Seen reports whether key is currently claimed (see Claim): a processed-marker check that
// writes nothing. Callers that mark work as done after doing it (Claim after success) check
// with Seen before starting, so a crash mid-way leaves no marker and the work is redone.
func (s *Store) Seen(ctx context.Context, k string) (bool, error) {
	if k == "" {
		return false, apperr.New(apperr.Invalid, "idempotency key is empty")
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(idemPrefix+k, idemSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, mapErr(err, "check idempotency key")
	}
	return len(out.Item) > 0 && !expired(out.Item, s.now().Unix()), nil
}

// SeenKeys is Seen for many keys at once (BatchGetItem, consistent reads): the result holds
// every key asked for, true for those currently claimed. Repeated keys are read once.
func (s *Store) SeenKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	ks := slices.Clone(keys)
	slices.Sort(ks)
	ks = slices.Compact(ks)
	if len(ks) > 0 && ks[0] == "" {
		return nil, apperr.New(apperr.Invalid, "idempotency key is empty")
	}
	req := make([]map[string]types.AttributeValue, len(ks))
	out := make(map[string]bool, len(ks))
	for i, k := range ks {
		req[i] = key(idemPrefix+k, idemSK)
		out[k] = false
	}
	items, err := s.getItems(ctx, "check idempotency keys", req)
	if err != nil {
		return nil, err
	}
	now := s.now().Unix()
	for _, item := range items {
		if v, ok := item[attrPK].(*types.AttributeValueMemberS); ok && !expired(item, now) {
			out[strings.TrimPrefix(v.Value, idemPrefix)] = true
		}
	}
	return out, nil
}

// ConfigCurrentVersion returns the version of the current config document without reading the
// document, or apperr.NotFound when none is stored. Warm functions poll it to know when to
// reload and recompile.
func (s *Store) ConfigCurrentVersion(ctx context.Context) (int64, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(configPK, configCurrent),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#v"),
		ExpressionAttributeNames: map[string]string{"#v": "version"},
	})
	if err != nil {
		return 0, mapErr(err, "get config version")
	}
	if len(out.Item) == 0 {
		return 0, apperr.New(apperr.NotFound, "no config document is stored")
	}
	var it struct {
		Version int64 `dynamodbav:"version"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return 0, apperr.Wrap(apperr.Internal, err, "decode config version")
	}
	return it.Version, nil
}

// idemSK is the sort key of idempotency items (see Claim).
const idemSK = "IDEM"
