package dynamo

import (
	"context"
	"encoding/json"
	"iter"
	"slices"
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

// Session state items: pk "SESSION", sk "<Salesforce user id>" (18-character form).
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

// sessionBatchGetMax is BatchGetItem's limit of keys per request.
const sessionBatchGetMax = 100

// sessionBatchGetAttempts bounds the requests for one chunk of keys while DynamoDB keeps
// returning some of them unprocessed (it does so under throttling).
const sessionBatchGetAttempts = 7

// SessionRecord is one user's stored session state and its optimistic version.
type SessionRecord struct {
	// State is what session.Decide reads and returns.
	State session.State
	// Version is the stored version; 0 means the item does not exist yet.
	Version int64
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
	rec := SessionRecord{Version: it.Version}
	if err := json.Unmarshal([]byte(it.State), &rec.State); err != nil {
		return SessionRecord{State: session.State{UserID: it.SK}, Version: it.Version}, false,
			apperr.Wrap(apperr.Internal, err, "stored session of user %s is corrupt", it.SK)
	}
	rec.State.UserID = it.SK
	return rec, true, nil
}

// GetSession reads the session state of a Salesforce user (18-character id). It returns
// apperr.NotFound when there is none (or it has expired).
func (s *Store) GetSession(ctx context.Context, userID string) (SessionRecord, error) {
	if userID == "" {
		return SessionRecord{}, apperr.New(apperr.Invalid, "user id is empty")
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(sessionPK, userID),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return SessionRecord{}, mapErr(err, "get session")
	}
	rec, ok, err := decodeSession(out.Item, s.now().Unix())
	if err == nil && !ok {
		err = apperr.New(apperr.NotFound, "user %s has no stored session state", userID)
	}
	return rec, err
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
// at a time. Expired items are skipped. A failed page ends the stream with its error; an item
// that cannot be decoded yields its error and the stream goes on, so one corrupt item does not
// stop a poll run. Reads are eventually consistent: a state a moment old only makes the caller's
// conditional PutSession fail and reload.
func (s *Store) Sessions(ctx context.Context) iter.Seq2[SessionRecord, error] {
	return func(yield func(SessionRecord, error) bool) {
		expr, err := expression.NewBuilder().
			WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(sessionPK))).Build()
		if err != nil {
			yield(SessionRecord{}, apperr.Wrap(apperr.Internal, err, "build query"))
			return
		}
		now := s.now().Unix()
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
				yield(SessionRecord{}, mapErr(err, "query sessions"))
				return
			}
			for _, item := range res.Items {
				rec, ok, err := decodeSession(item, now)
				if (ok || err != nil) && !yield(rec, err) {
					return
				}
			}
			if len(res.LastEvaluatedKey) == 0 {
				return
			}
			start = res.LastEvaluatedKey
		}
	}
}

// batchGetAPI is the part of the DynamoDB client GetSessions uses beyond API; *dynamodb.Client
// has it. Over an API without it (a test double), GetSessions reads item by item.
type batchGetAPI interface {
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

var _ batchGetAPI = (*dynamodb.Client)(nil)

// GetSessions reads the stored session states of the given users, keyed by user id; users
// without a live item are absent from the map. Repeated ids are read once. It uses
// BatchGetItem, 100 keys a request with consistent reads, and asks again, backing off, for keys
// DynamoDB returns unprocessed; it fails with apperr.Unavailable if some stay unprocessed.
func (s *Store) GetSessions(ctx context.Context, userIDs []string) (map[string]SessionRecord, error) {
	ids := slices.Clone(userIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > 0 && ids[0] == "" {
		return nil, apperr.New(apperr.Invalid, "user id is empty")
	}
	out := make(map[string]SessionRecord, len(ids))
	bg, ok := s.db.(batchGetAPI)
	if !ok {
		for _, id := range ids {
			rec, err := s.GetSession(ctx, id)
			if apperr.Is(err, apperr.NotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out[id] = rec
		}
		return out, nil
	}
	for chunk := range slices.Chunk(ids, sessionBatchGetMax) {
		keys := make([]map[string]types.AttributeValue, 0, len(chunk))
		for _, id := range chunk {
			keys = append(keys, key(sessionPK, id))
		}
		if err := s.batchGetSessions(ctx, bg, keys, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) batchGetSessions(ctx context.Context, bg batchGetAPI, keys []map[string]types.AttributeValue, out map[string]SessionRecord) error {
	now := s.now().Unix()
	wait := 20 * time.Millisecond
	for attempt := 1; len(keys) > 0; attempt++ {
		if attempt > 1 {
			if attempt > sessionBatchGetAttempts {
				return apperr.New(apperr.Unavailable, "%d session items still unprocessed after %d requests", len(keys), attempt-1)
			}
			select {
			case <-ctx.Done():
				return apperr.Wrap(apperr.Unavailable, ctx.Err(), "%d session items unprocessed: %v", len(keys), ctx.Err())
			case <-time.After(wait):
			}
			wait = min(2*wait, time.Second)
		}
		res, err := bg.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}},
		})
		if err != nil {
			return mapErr(err, "batch get sessions")
		}
		for _, item := range res.Responses[s.table] {
			rec, ok, err := decodeSession(item, now)
			if err != nil {
				return err
			}
			if ok {
				out[rec.State.UserID] = rec
			}
		}
		keys = res.UnprocessedKeys[s.table].Keys
	}
	return nil
}
