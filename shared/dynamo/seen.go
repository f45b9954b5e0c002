package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
