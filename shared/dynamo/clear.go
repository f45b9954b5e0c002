package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// ClearedState is what a deleted state item held, for the audit of its removal: the version and
// the state (and outbox) as the stored JSON text, verbatim, so an item whose state no longer
// decodes can be cleared and audited too.
type ClearedState struct {
	Version int64
	State   string
	Outbox  string
}

// DeleteAgent deletes a Connect user's agent item (the presence mirror and its outbox) and
// returns what it held. It returns apperr.NotFound when there was none, or only an expired one.
// The sweep's index entries for the agent are left: the sweep finds no item and drops them.
func (s *Store) DeleteAgent(ctx context.Context, connectUserID string) (ClearedState, error) {
	if connectUserID == "" {
		return ClearedState{}, apperr.New(apperr.Invalid, "agent id is empty")
	}
	return s.deleteState(ctx, agentPrefix+connectUserID, agentSK, "agent "+connectUserID+" has no stored state")
}

// DeleteSession deletes a Salesforce user's session state (18-character id), their versioned
// item and first-sight item both, and returns what the one in effect held (the versioned item
// when there was one); apperr.NotFound when there was neither. The next poll treats a
// logged-in user as first seen.
func (s *Store) DeleteSession(ctx context.Context, userID string) (ClearedState, error) {
	if userID == "" {
		return ClearedState{}, apperr.New(apperr.Invalid, "user id is empty")
	}
	missing := "user " + userID + " has no stored session state"
	versioned, err := s.deleteState(ctx, sessionPK, userID, missing)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return ClearedState{}, err
	}
	first, ferr := s.deleteState(ctx, sessionPK, userID+firstSightSuffix, missing)
	switch {
	case err == nil:
		if ferr != nil && !apperr.Is(ferr, apperr.NotFound) {
			return ClearedState{}, ferr
		}
		return versioned, nil
	default:
		return first, ferr
	}
}

func (s *Store) deleteState(ctx context.Context, pk, sk, missing string) (ClearedState, error) {
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(pk, sk), ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return ClearedState{}, mapErr(err, "delete state")
	}
	if len(out.Attributes) == 0 || expired(out.Attributes, s.now().Unix()) {
		return ClearedState{}, apperr.New(apperr.NotFound, "%s", missing)
	}
	var it struct {
		Version int64  `dynamodbav:"version"`
		State   string `dynamodbav:"state"`
		Outbox  string `dynamodbav:"outbox"`
	}
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		// Deleted all the same; the audit says what could be read.
		return ClearedState{}, nil
	}
	return ClearedState{Version: it.Version, State: it.State, Outbox: it.Outbox}, nil
}
