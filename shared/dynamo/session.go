package dynamo

import (
	"context"
	"encoding/json"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/session"
)

// Session state items: pk "SESSION", sk "<Salesforce user id>" (18-character form) for a user's
// versioned item, and sk "<id>#first" for a first-sight item (see SessionRecord).
//
// Every user's item is in one partition because the scheduled AuthSession poll reads all of them
// on every run: a Query of one partition streams them in 1 MB pages (about 15 pages and 2,000
// read units, eventually consistent, for 50,000 items of ~300 bytes) and reads nothing else,
// where a Scan would read, and bill, every item of the table. The partition is not hot: items
// are written only on transitions (a login, a logout, a poll that finds a change), far below a
// partition's 1,000 writes a second even when a whole shift logs in at once, and without local
// secondary indexes a partition has no size limit. Should the write rate ever come near that,
// the key can be sharded ("SESSION#0".."SESSION#15" by a hash of the user id, queried in
// parallel) without changing the item.
const sessionPK = "SESSION"

// SessionRetention is how long an inactive user's item outlives its last write. Users who have
// left the org stop producing events, and their items expire instead of accumulating; an active
// user's item has no expiry, since the poll confirms it without writing.
const SessionRetention = 30 * 24 * time.Hour

// firstSightSuffix ends a first-sight item's sort key. '#' sorts below every character of a
// Salesforce id, so a user's first-sight item follows their versioned item in a Query, before
// any other user's.
const firstSightSuffix = "#first"

// SessionRecord is one user's stored session state and its optimistic version.
//
// A user has up to two items. The versioned item (sk "<id>") is written only by PutSession,
// conditional on its version and newer-wins. A first-sight item (sk "<id>#first") is written
// only by the session poll, in batches without conditions (PutFirstSights), for users it found
// with no versioned item: that is what lets a first poll of tens of thousands of users store
// them at BatchWriteItem's rate (BENCHMARKS.md §8.4). The versioned item, when there is one,
// always takes precedence, whatever the two items' times: a webhook decision stored while the
// poll was writing stands, and the poll, which checks for such writes after its own
// (VersionedSessions), queues that decision's availability again in case its delivery was
// overtaken. Any PutSession on a record read from a first-sight item (Version 0) creates the
// versioned item, which then supersedes it.
type SessionRecord struct {
	// State is what session.Decide reads and returns.
	State session.State
	// Version is the versioned item's version; 0 means it does not exist yet.
	Version int64
	// FirstSight is set when State comes from the user's first-sight item (Version is then 0).
	FirstSight bool
	// StaleFirstSight is set when a first-sight item is stored beside the versioned item that
	// supersedes it; DeleteFirstSights removes it.
	StaleFirstSight bool
}

// sessionItem is the stored form. The state is JSON text, like agent items: its nested times,
// pointers and retry list round-trip exactly, and new fields need no change here. "at" repeats
// State.At in sortable form for the newer-wins condition, "active" is for people reading the
// table, and ttl is set only on inactive items.
type sessionItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	TTL     int64  `dynamodbav:"ttl,omitempty"`
	Version int64  `dynamodbav:"version"`
	At      string `dynamodbav:"at"`
	Active  bool   `dynamodbav:"active"`
	State   string `dynamodbav:"state"`
}

// decodeSession reads a stored item; it is (nil error, false) for an expired one. A corrupt
// state still names its user (and version), so a caller streaming every state can skip it.
func decodeSession(item map[string]types.AttributeValue, now int64) (SessionRecord, bool, error) {
	if len(item) == 0 || expired(item, now) {
		return SessionRecord{}, false, nil
	}
	var it sessionItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return SessionRecord{}, false, apperr.Wrap(apperr.Internal, err, "decode session item")
	}
	userID, first := strings.CutSuffix(it.SK, firstSightSuffix)
	rec := SessionRecord{Version: it.Version, FirstSight: first}
	if first {
		rec.Version = 0
	}
	if err := json.Unmarshal([]byte(it.State), &rec.State); err != nil {
		rec.State = session.State{UserID: userID}
		return rec, false, apperr.Wrap(apperr.Internal, err, "stored session of user %s is corrupt", userID)
	}
	rec.State.UserID = userID
	return rec, true, nil
}

// GetSession reads the session state of a Salesforce user (18-character id): their versioned
// item, or their first-sight item when they have no versioned one, in one consistent Query of
// both keys. It returns apperr.NotFound when there is neither (or both have expired).
func (s *Store) GetSession(ctx context.Context, userID string) (SessionRecord, error) {
	if userID == "" {
		return SessionRecord{}, apperr.New(apperr.Invalid, "user id is empty")
	}
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(sessionPK)).
		And(expression.Key(attrSK).Between(expression.Value(userID), expression.Value(userID+firstSightSuffix)))).Build()
	if err != nil {
		return SessionRecord{}, apperr.Wrap(apperr.Internal, err, "build query")
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return SessionRecord{}, mapErr(err, "get session")
	}
	var found *SessionRecord
	var foundErr error
	m := sessionMerge{}
	for _, item := range out.Items {
		if sk, _ := item[attrSK].(*types.AttributeValueMemberS); sk == nil || (sk.Value != userID && sk.Value != userID+firstSightSuffix) {
			continue // an id between the two keys; Salesforce ids have none
		}
		m.add(item, s.now().Unix(), func(r SessionRecord, err error) bool { found, foundErr = &r, err; return true })
	}
	m.flush(func(r SessionRecord, err error) bool { found, foundErr = &r, err; return true })
	if found == nil {
		return SessionRecord{}, apperr.New(apperr.NotFound, "user %s has no stored session state", userID)
	}
	return *found, foundErr
}

// PutSession writes st as the version after expectedVersion and returns the new version.
//
// The write is conditional on two things. The stored version must still be expectedVersion (for
// 0: no live item), so of two concurrent writers one fails. And the stored observation must not
// be newer than st.At, so an older event never overwrites a newer state, even one written by a
// writer that loaded the same version. Either failure is apperr.Conflict: the caller reloads,
// and deciding again on the reloaded state drops the older event. An equal At is allowed, so the
// outcome of deliveries can be recorded on the state that caused them.
//
// "Not newer" is eventtime.Bound.NotOlder under b, the bound session.Decide decided with: a
// stored observation dated beyond b (written before the bound was enforced) no longer counts,
// so it cannot refuse every later write.
//
// An inactive state expires SessionRetention after this write; an active one never does.
func (s *Store) PutSession(ctx context.Context, st session.State, expectedVersion int64, b eventtime.Bound) (int64, error) {
	if st.UserID == "" {
		return 0, apperr.New(apperr.Invalid, "user id is empty")
	}
	if expectedVersion < 0 {
		return 0, apperr.New(apperr.Invalid, "expected version %d is negative", expectedVersion)
	}
	state, err := json.Marshal(st)
	if err != nil {
		return 0, apperr.Wrap(apperr.Internal, err, "encode session state")
	}
	now := s.now()
	it := sessionItem{
		PK: sessionPK, SK: st.UserID, Version: expectedVersion + 1,
		At: sortableTime(st.At), Active: st.Active, State: string(state),
	}
	if !st.Active {
		it.TTL = now.Add(SessionRetention).Unix()
	}
	newer := notOlder("at", st.At, b)
	if err := s.putVersioned(ctx, it, expectedVersion, now, &newer); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return 0, apperr.Wrap(apperr.Conflict, err, "session of user %s changed since version %d or holds a newer observation than %s",
				st.UserID, expectedVersion, st.At.UTC().Format(time.RFC3339Nano))
		}
		return 0, err
	}
	return expectedVersion + 1, nil
}

// Sessions streams every stored session state, in user id order, one page (up to 1 MB) in memory
// at a time: a user's record is their versioned item, or their first-sight item when they have
// no versioned one (see SessionRecord). Expired items are skipped. A failed page ends the stream
// with its error; an item that cannot be decoded yields its error and the stream goes on, so one
// corrupt item does not stop a poll run. Reads are eventually consistent: a state a moment old
// only makes the caller's conditional PutSession fail and reload.
func (s *Store) Sessions(ctx context.Context) iter.Seq2[SessionRecord, error] {
	return func(yield func(SessionRecord, error) bool) {
		expr, err := expression.NewBuilder().
			WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(sessionPK))).Build()
		if err != nil {
			yield(SessionRecord{}, apperr.Wrap(apperr.Internal, err, "build query"))
			return
		}
		now := s.now().Unix()
		var m sessionMerge
		var start map[string]types.AttributeValue
		for {
			res, err := s.db.Query(ctx, &dynamodb.QueryInput{
				TableName:                 aws.String(s.table),
				KeyConditionExpression:    expr.KeyCondition(),
				ExpressionAttributeNames:  expr.Names(),
				ExpressionAttributeValues: expr.Values(),
				ExclusiveStartKey:         start,
			})
			if err != nil {
				if m.flush(yield) {
					yield(SessionRecord{}, mapErr(err, "query sessions"))
				}
				return
			}
			for _, item := range res.Items {
				if !m.add(item, now, yield) {
					return
				}
			}
			if len(res.LastEvaluatedKey) == 0 {
				m.flush(yield)
				return
			}
			start = res.LastEvaluatedKey
		}
	}
}

// sessionMerge pairs a user's versioned item with the first-sight item that follows it in key
// order ("<id>" sorts just before "<id>#first", and both before any longer id), holding one
// decoded user back until the next item shows whether their first-sight item follows.
type sessionMerge struct {
	held    *SessionRecord
	heldErr error
}

// add takes the next item in key order and yields whatever it completes; false means the
// consumer stopped.
func (m *sessionMerge) add(item map[string]types.AttributeValue, now int64, yield func(SessionRecord, error) bool) bool {
	rec, ok, err := decodeSession(item, now)
	if !ok && err == nil {
		return true // expired
	}
	if m.held != nil && rec.State.UserID == m.held.State.UserID && rec.FirstSight {
		// Superseded by the versioned item; the poll deletes it (DeleteFirstSights).
		if m.heldErr == nil {
			m.held.StaleFirstSight = true
		}
		return true
	}
	if !m.flush(yield) {
		return false
	}
	m.held, m.heldErr = &rec, err
	return true
}

// flush yields the held user, if any.
func (m *sessionMerge) flush(yield func(SessionRecord, error) bool) bool {
	if m.held == nil {
		return true
	}
	rec, err := *m.held, m.heldErr
	m.held, m.heldErr = nil, nil
	return yield(rec, err)
}

// PutFirstSights stores poll decisions on users who have no versioned item, as first-sight items
// (sk "<id>#first"), unconditionally and 25 to a BatchWriteItem call. Only the session poll
// writes them, for users its read of the partition found without a versioned item; any
// versioned item, written by a webhook decision before or after, takes precedence over a
// first-sight item (see SessionRecord), so a concurrent writer is never overwritten. The caller
// checks for such a writer afterwards (VersionedSessions). An inactive state expires as
// PutSession's does.
func (s *Store) PutFirstSights(ctx context.Context, states []session.State) error {
	now := s.now()
	items := make([]map[string]types.AttributeValue, 0, len(states))
	for _, st := range states {
		if st.UserID == "" {
			return apperr.New(apperr.Invalid, "user id is empty")
		}
		state, err := json.Marshal(st)
		if err != nil {
			return apperr.Wrap(apperr.Internal, err, "encode session state of user %s", st.UserID)
		}
		it := sessionItem{PK: sessionPK, SK: st.UserID + firstSightSuffix, At: sortableTime(st.At), Active: st.Active, State: string(state)}
		if !st.Active {
			it.TTL = now.Add(SessionRetention).Unix()
		}
		item, err := attributevalue.MarshalMap(it)
		if err != nil {
			return apperr.Wrap(apperr.Internal, err, "encode first-sight item")
		}
		items = append(items, item)
	}
	return s.putItems(ctx, "put first-sight session states", items)
}

// DeleteFirstSights deletes the first-sight items of users whose versioned item superseded them
// (SessionRecord.StaleFirstSight), 25 to a BatchWriteItem call.
func (s *Store) DeleteFirstSights(ctx context.Context, userIDs []string) error {
	keys := make([]map[string]types.AttributeValue, 0, len(userIDs))
	for _, id := range userIDs {
		if id == "" {
			return apperr.New(apperr.Invalid, "user id is empty")
		}
		keys = append(keys, key(sessionPK, id+firstSightSuffix))
	}
	return s.deleteItems(ctx, "delete superseded first-sight session states", keys)
}

// batchGetAPI is the part of the DynamoDB client getItems uses beyond API; *dynamodb.Client
// has it. Over an API without it (a test double), getItems reads item by item.
type batchGetAPI interface {
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

var _ batchGetAPI = (*dynamodb.Client)(nil)

// VersionedSessions reads the versioned session items of the given users (first-sight items are
// not read), keyed by user id; users without a live versioned item are absent from the map.
// Repeated ids are read once. The reads are consistent, 100 keys a BatchGetItem call; keys
// DynamoDB returns unprocessed are asked again, backing off, and it fails with
// apperr.Unavailable if some stay unprocessed. The poll uses it after PutFirstSights, to find
// the users a webhook decision wrote meanwhile.
func (s *Store) VersionedSessions(ctx context.Context, userIDs []string) (map[string]SessionRecord, error) {
	ids := slices.Clone(userIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > 0 && ids[0] == "" {
		return nil, apperr.New(apperr.Invalid, "user id is empty")
	}
	out := make(map[string]SessionRecord, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = key(sessionPK, id)
	}
	items, err := s.getItems(ctx, "batch get sessions", keys)
	if err != nil {
		return nil, err
	}
	now := s.now().Unix()
	for _, item := range items {
		rec, ok, err := decodeSession(item, now)
		if err != nil {
			return nil, err
		}
		if ok {
			out[rec.State.UserID] = rec
		}
	}
	return out, nil
}
