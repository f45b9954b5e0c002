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
	"github.com/omnibridge/omnibridge/shared/config"
)

// VersionedConfig is a config document with its version and provenance.
type VersionedConfig struct {
	Document  config.Document
	Version   int64
	UpdatedAt time.Time
	UpdatedBy string
	// RollbackOf is the version this one restored, or 0 for an ordinary save.
	RollbackOf int64
}

// configItem is the stored form. The document is kept as its JSON text so it round-trips
// exactly and stays one attribute, well under DynamoDB's 400 KB item limit.
type configItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Version   int64  `dynamodbav:"version"`
	Document  string `dynamodbav:"doc"`
	UpdatedAt string `dynamodbav:"updatedAt"`
	UpdatedBy string `dynamodbav:"updatedBy"`
	// RollbackOf is the version this one restored (RestoreConfig), or 0.
	RollbackOf int64 `dynamodbav:"rollbackOf,omitempty"`
}

func (it configItem) decode() (VersionedConfig, error) {
	var v VersionedConfig
	if err := json.Unmarshal([]byte(it.Document), &v.Document); err != nil {
		return v, apperr.Wrap(apperr.Internal, err, "stored config version %d is corrupt", it.Version)
	}
	v.Version = it.Version
	v.UpdatedAt, _ = time.Parse(time.RFC3339Nano, it.UpdatedAt)
	v.UpdatedBy = it.UpdatedBy
	v.RollbackOf = it.RollbackOf
	return v, nil
}

// GetConfig returns the current document and its version, or apperr.NotFound when none was saved.
func (s *Store) GetConfig(ctx context.Context) (VersionedConfig, error) {
	it, err := s.getConfigItem(ctx, configCurrent)
	if err != nil {
		return VersionedConfig{}, err
	}
	return it.decode()
}

// ConfigVersion returns an earlier (or the current) version from the history, for rollback. A
// version never saved is apperr.NotFound, "version 99 does not exist".
func (s *Store) ConfigVersion(ctx context.Context, version int64) (VersionedConfig, error) {
	it, err := s.getConfigItem(ctx, configHistorySK(version))
	if apperr.Is(err, apperr.NotFound) {
		return VersionedConfig{}, apperr.New(apperr.NotFound, "version %d does not exist", version)
	}
	if err != nil {
		return VersionedConfig{}, err
	}
	return it.decode()
}

func (s *Store) getConfigItem(ctx context.Context, sk string) (configItem, error) {
	var it configItem
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(configPK, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return it, mapErr(err, "get config")
	}
	if len(out.Item) == 0 {
		return it, apperr.New(apperr.NotFound, "no config document is stored")
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return it, apperr.Wrap(apperr.Internal, err, "decode config item")
	}
	return it, nil
}

// PutConfig stores doc as the next version after expected and returns the new version. It fails
// with apperr.Conflict when the stored version is not expected (someone else wrote in between).
// Use expected 0 to create the first document.
//
// Every version is kept as a history item (sk "V#<version>"). The outgoing version is copied to
// history before the current item is replaced; that copy is idempotent, so a crash between the
// two writes leaves nothing to repair. TransactWriteItems would do it in one call, but the
// embedded servers do not all support it (DESIGN.md §4).
func (s *Store) PutConfig(ctx context.Context, doc config.Document, expected int64, by string) (int64, error) {
	return s.putConfig(ctx, doc, expected, by, 0)
}

// RestoreConfig stores doc, the document of the earlier version from, as the next version after
// expected, like PutConfig, and records the new version in the history as a rollback of from.
func (s *Store) RestoreConfig(ctx context.Context, doc config.Document, expected int64, by string, from int64) (int64, error) {
	return s.putConfig(ctx, doc, expected, by, from)
}

func (s *Store) putConfig(ctx context.Context, doc config.Document, expected int64, by string, rollbackOf int64) (int64, error) {
	body, err := json.Marshal(doc)
	if err != nil {
		return 0, apperr.Wrap(apperr.Invalid, err, "config document cannot be encoded")
	}
	if expected > 0 {
		cur, err := s.getConfigItem(ctx, configCurrent)
		if err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return 0, apperr.New(apperr.Conflict, "version %d is not current: no config is stored", expected)
			}
			return 0, err
		}
		if cur.Version != expected {
			return 0, apperr.New(apperr.Conflict, "version %d is not current (current is %d)", expected, cur.Version)
		}
		if err := s.putConfigItem(ctx, configItem{
			PK: configPK, SK: configHistorySK(cur.Version), Version: cur.Version,
			Document: cur.Document, UpdatedAt: cur.UpdatedAt, UpdatedBy: cur.UpdatedBy, RollbackOf: cur.RollbackOf,
		}, nil); err != nil {
			return 0, err
		}
	}
	next := configItem{
		PK: configPK, SK: configCurrent, Version: expected + 1, Document: string(body),
		UpdatedAt: s.now().UTC().Format(time.RFC3339Nano), UpdatedBy: by, RollbackOf: rollbackOf,
	}
	cond := expression.AttributeNotExists(expression.Name(attrPK))
	if expected > 0 {
		cond = expression.Name("version").Equal(expression.Value(expected))
	}
	if err := s.putConfigItem(ctx, next, &cond); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return 0, apperr.Wrap(apperr.Conflict, err, "version %d is not current: another change was saved first", expected)
		}
		return 0, err
	}
	// The newest version goes to history too, so history alone can list and restore every version.
	next.SK = configHistorySK(next.Version)
	if err := s.putConfigItem(ctx, next, nil); err != nil {
		return 0, err
	}
	return next.Version, nil
}

func (s *Store) putConfigItem(ctx context.Context, it configItem, cond *expression.ConditionBuilder) error {
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "encode config item")
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}
	if cond != nil {
		expr, err := expression.NewBuilder().WithCondition(*cond).Build()
		if err != nil {
			return apperr.Wrap(apperr.Internal, err, "build condition")
		}
		in.ConditionExpression = expr.Condition()
		in.ExpressionAttributeNames = expr.Names()
		in.ExpressionAttributeValues = expr.Values()
	}
	_, err = s.db.PutItem(ctx, in)
	return mapErr(err, "put config")
}

// ConfigVersionInfo describes one stored version, without its document.
type ConfigVersionInfo struct {
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updatedAt"`
	UpdatedBy string    `json:"updatedBy,omitempty"`
	// RollbackOf is the version this one restored, when it was a rollback.
	RollbackOf int64 `json:"rollbackOf,omitempty"`
}

// ConfigHistory lists up to limit stored versions, newest first.
func (s *Store) ConfigHistory(ctx context.Context, limit int) ([]ConfigVersionInfo, error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	keyCond := expression.Key(attrPK).Equal(expression.Value(configPK)).
		And(expression.Key(attrSK).BeginsWith("V#"))
	proj := expression.NamesList(expression.Name("version"), expression.Name("updatedAt"), expression.Name("updatedBy"), expression.Name("rollbackOf"))
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).WithProjection(proj).Build()
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, err, "build query")
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    expr.KeyCondition(),
		ProjectionExpression:      expr.Projection(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, mapErr(err, "query config history")
	}
	infos := make([]ConfigVersionInfo, 0, len(out.Items))
	for _, item := range out.Items {
		var it configItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, apperr.Wrap(apperr.Internal, err, "decode config history")
		}
		at, _ := time.Parse(time.RFC3339Nano, it.UpdatedAt)
		infos = append(infos, ConfigVersionInfo{Version: it.Version, UpdatedAt: at, UpdatedBy: it.UpdatedBy, RollbackOf: it.RollbackOf})
	}
	return infos, nil
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}
