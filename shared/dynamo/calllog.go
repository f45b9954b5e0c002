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
	"github.com/omnibridge/omnibridge/shared/calllog"
	"github.com/omnibridge/omnibridge/shared/eventtime"
)

// Call-log items: pk "CALL#<Connect contact id>", sk "STATE". One item per contact holds the
// merged state of its events and what call logging wrote to Salesforce for it, so a retry, a
// duplicate or a late event repeats nothing, and a transferred contact finds the Case of the
// contact it came from.
const (
	callPrefix  = "CALL#"
	callStateSK = "STATE"
)

// CallLogRetention is how long a contact's item outlives its last write: longer than any call
// and its after contact work, and than EventBridge's retries of a late event (24 hours), so
// the Case of a transferred call is still found.
const CallLogRetention = 14 * 24 * time.Hour

// CallLogRecord is one contact's stored call-log state and its optimistic version.
type CallLogRecord struct {
	// State is what calllog merges into and plans from.
	State calllog.State
	// Version is the stored version; 0 means the item does not exist yet.
	Version int64
}

// callLogItem is the stored form: the state as JSON text (its generic fields and nested
// records round-trip exactly), "at" the newest event time in sortable form for the
// newer-wins condition, and caseId repeated for people reading the table.
type callLogItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	TTL     int64  `dynamodbav:"ttl"`
	Version int64  `dynamodbav:"version"`
	At      string `dynamodbav:"at"`
	CaseID  string `dynamodbav:"caseId,omitempty"`
	State   string `dynamodbav:"state"`
}

// GetCallLog reads the call-log state of a Connect contact. It returns apperr.NotFound when
// there is none (or it has expired).
func (s *Store) GetCallLog(ctx context.Context, contactID string) (CallLogRecord, error) {
	if contactID == "" {
		return CallLogRecord{}, apperr.New(apperr.Invalid, "contact id is empty")
	}
	var rec CallLogRecord
	v, err := s.getVersionedJSON(ctx, callPrefix+contactID, callStateSK, "state", &rec.State, "call log of contact "+contactID)
	if err != nil {
		return CallLogRecord{}, err
	}
	rec.Version = v
	rec.State.ContactID = contactID
	return rec, nil
}

// PutCallLog writes st as the version after expectedVersion and returns the new version.
//
// The write is conditional: the stored version must still be expectedVersion (for 0: no live
// item), so of two concurrent writers one fails, and the stored newest event time must not be
// after st's (eventtime.Bound.NotOlder under b), so a state merged from fewer events never
// replaces one merged from more. Either failure is apperr.Conflict: the caller reloads, merges
// its event again and retries; the merge is commutative, so nothing is lost. The item expires
// CallLogRetention after this write.
func (s *Store) PutCallLog(ctx context.Context, st calllog.State, expectedVersion int64, b eventtime.Bound) (int64, error) {
	if st.ContactID == "" {
		return 0, apperr.New(apperr.Invalid, "contact id is empty")
	}
	if expectedVersion < 0 {
		return 0, apperr.New(apperr.Invalid, "expected version %d is negative", expectedVersion)
	}
	state, err := json.Marshal(st)
	if err != nil {
		return 0, apperr.Wrap(apperr.Internal, err, "encode call log state")
	}
	now := s.now()
	it := callLogItem{
		PK: callPrefix + st.ContactID, SK: callStateSK, TTL: now.Add(CallLogRetention).Unix(),
		Version: expectedVersion + 1, At: sortableTime(st.LastEventAt), CaseID: st.Sync.CaseID, State: string(state),
	}
	newer := notOlder("at", st.LastEventAt, b)
	if err := s.putVersioned(ctx, it, expectedVersion, now, &newer); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return 0, apperr.Wrap(apperr.Conflict, err, "call log of contact %s changed since version %d", st.ContactID, expectedVersion)
		}
		return 0, err
	}
	return expectedVersion + 1, nil
}

// Call chain items: pk "CALL#<root contact id>", sk "CHAIN". A call's contacts (the first and
// every transfer) share one Case; the chain item, keyed by the first contact, records it, and
// while it is being created, which contact creates it (a lease), so two legs whose events
// arrive in any order never create two Cases.
const callChainSK = "CHAIN"

// CallChain is the Case shared by the contacts of one call.
type CallChain struct {
	// Root is the call's first contact.
	Root string `dynamodbav:"root"`
	// CaseID is the call's Case, "" until created; WhoID and WhoType its Contact or Lead.
	CaseID  string `dynamodbav:"caseId,omitempty"`
	WhoID   string `dynamodbav:"whoId,omitempty"`
	WhoType string `dynamodbav:"whoType,omitempty"`
	// Number is the caller in E.164; Withheld says why there is none.
	Number   string `dynamodbav:"number,omitempty"`
	Withheld string `dynamodbav:"withheld,omitempty"`
	// Owner is the contact creating the Case, until OwnerUntil (Unix milliseconds).
	Owner      string `dynamodbav:"owner,omitempty"`
	OwnerUntil int64  `dynamodbav:"ownerUntil,omitempty"`
	// Version is the stored version; 0 for a chain not stored yet.
	Version int64 `dynamodbav:"version"`
}

type callChainItem struct {
	PK  string `dynamodbav:"pk"`
	SK  string `dynamodbav:"sk"`
	TTL int64  `dynamodbav:"ttl"`
	CallChain
}

// GetCallChain reads the chain of the call whose first contact is root; a chain not stored
// yet is returned with Version 0 and no error.
func (s *Store) GetCallChain(ctx context.Context, root string) (CallChain, error) {
	if root == "" {
		return CallChain{}, apperr.New(apperr.Invalid, "root contact id is empty")
	}
	item, err := s.liveItem(ctx, callPrefix+root, callChainSK, "get call chain")
	if err != nil {
		return CallChain{}, err
	}
	if item == nil {
		return CallChain{Root: root}, nil
	}
	var it callChainItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return CallChain{}, apperr.Wrap(apperr.Internal, err, "decode call chain item")
	}
	it.CallChain.Root = root
	return it.CallChain, nil
}

// PutCallChain writes c as the version after c.Version, on the condition that the stored
// version is still c.Version (none, or an expired item, for 0); a lost race is
// apperr.Conflict. It returns c at its new version. The item expires CallLogRetention after
// the write.
func (s *Store) PutCallChain(ctx context.Context, c CallChain) (CallChain, error) {
	if c.Root == "" {
		return CallChain{}, apperr.New(apperr.Invalid, "root contact id is empty")
	}
	now := s.now()
	expected := c.Version
	c.Version++
	item, err := attributevalue.MarshalMap(callChainItem{PK: callPrefix + c.Root, SK: callChainSK, TTL: now.Add(CallLogRetention).Unix(), CallChain: c})
	if err != nil {
		return CallChain{}, apperr.Wrap(apperr.Internal, err, "encode call chain item")
	}
	cond := expression.Name("version").Equal(expression.Value(expected))
	if expected == 0 {
		cond = expression.AttributeNotExists(expression.Name(attrPK)).
			Or(expression.Name(attrTTL).LessThanEqual(expression.Value(now.Unix())))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return CallChain{}, apperr.Wrap(apperr.Internal, err, "build condition")
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		err = mapErr(err, "put call chain")
		if apperr.Is(err, apperr.Conflict) {
			return CallChain{}, apperr.Wrap(apperr.Conflict, err, "call chain of %s changed since version %d", c.Root, expected)
		}
		return CallChain{}, err
	}
	return c, nil
}
