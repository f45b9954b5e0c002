package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// BatchWriteMax is BatchWriteItem's limit of write requests per call.
const BatchWriteMax = 25

// batchWriteAttempts bounds the calls for one chunk while DynamoDB keeps returning some of its
// items unprocessed (it does so under throttling, or when a call exceeds 16 MB).
const batchWriteAttempts = 8

// batchWriteParallel is how many chunks are written at once.
const batchWriteParallel = 4

// batchWriteAPI is the part of the DynamoDB client putItems uses beyond API; *dynamodb.Client has
// it. Over an API without it (a wrapper implementing only API), items are put one by one.
type batchWriteAPI interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

var _ batchWriteAPI = (*dynamodb.Client)(nil)

// putItems writes items unconditionally, as PutItem would one by one: BatchWriteMax per
// BatchWriteItem call, a few calls at once. Items DynamoDB returns unprocessed are sent again,
// backing off, until none is left; an item still unprocessed after batchWriteAttempts calls, or
// in a call that failed, makes putItems fail with an error counting every item not written.
//
// BatchWriteItem refuses two requests for one key in a call. Two items with one key are the
// same item written twice, so only the last is sent, as the last of sequential puts would win.
// That also leaves no key in two chunks, so chunks may be written in any order.
func (s *Store) putItems(ctx context.Context, op string, items []map[string]types.AttributeValue) error {
	return s.writeRequests(ctx, op, items, func(it map[string]types.AttributeValue) types.WriteRequest {
		return types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	})
}

// deleteItems deletes the items of keys unconditionally, as putItems writes: BatchWriteMax per
// call, unprocessed requests sent again. Repeated keys are deleted once; an absent item is no
// error.
func (s *Store) deleteItems(ctx context.Context, op string, keys []map[string]types.AttributeValue) error {
	return s.writeRequests(ctx, op, keys, func(k map[string]types.AttributeValue) types.WriteRequest {
		return types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
	})
}

// writeRequests sends one request per item or key (the last of any with the same key) in
// BatchWriteItem calls, or one by one over an API without BatchWriteItem.
func (s *Store) writeRequests(ctx context.Context, op string, items []map[string]types.AttributeValue, request func(map[string]types.AttributeValue) types.WriteRequest) error {
	items = lastPerKey(items)
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		reqs[i] = request(it)
	}
	bw, ok := s.db.(batchWriteAPI)
	if !ok {
		var errs []error
		for _, r := range reqs {
			var err error
			if r.PutRequest != nil {
				_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: r.PutRequest.Item})
			} else {
				_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: r.DeleteRequest.Key})
			}
			if err != nil {
				errs = append(errs, mapErr(err, op))
			}
		}
		if len(errs) > 0 {
			return apperr.Wrap(apperr.CodeOf(errs[0]), errors.Join(errs...), "%s: %d of %d items not written", op, len(errs), len(reqs))
		}
		return nil
	}
	var g errgroup.Group
	g.SetLimit(batchWriteParallel)
	failed := make([]int, (len(reqs)+BatchWriteMax-1)/BatchWriteMax)
	errs := make([]error, len(failed))
	for i := 0; i*BatchWriteMax < len(reqs); i++ {
		chunk := reqs[i*BatchWriteMax : min((i+1)*BatchWriteMax, len(reqs))]
		g.Go(func() error {
			failed[i], errs[i] = s.batchWrite(ctx, bw, op, chunk)
			return nil
		})
	}
	_ = g.Wait()
	n := 0
	for _, f := range failed {
		n += f
	}
	if err := errors.Join(errs...); err != nil {
		var first error
		for _, e := range errs {
			if e != nil {
				first = e
				break
			}
		}
		return apperr.Wrap(apperr.CodeOf(first), err, "%s: %d of %d items not written", op, n, len(reqs))
	}
	return nil
}

// batchWrite writes one chunk and returns how many of its requests were not carried out, with
// why.
func (s *Store) batchWrite(ctx context.Context, bw batchWriteAPI, op string, reqs []types.WriteRequest) (int, error) {
	wait := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		res, err := bw.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{s.table: reqs},
		})
		if err != nil {
			return len(reqs), mapErr(err, op)
		}
		reqs = res.UnprocessedItems[s.table]
		if len(reqs) == 0 {
			return 0, nil
		}
		if attempt >= batchWriteAttempts {
			return len(reqs), apperr.New(apperr.Unavailable, "%s: %d items still unprocessed after %d calls", op, len(reqs), attempt)
		}
		select {
		case <-ctx.Done():
			return len(reqs), apperr.Wrap(apperr.Unavailable, ctx.Err(), "%s: %d items unprocessed: %v", op, len(reqs), ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// lastPerKey drops every item that a later item with the same pk and sk replaces, keeping the
// order of the rest.
func lastPerKey(items []map[string]types.AttributeValue) []map[string]types.AttributeValue {
	last := make(map[Key]int, len(items))
	for i, it := range items {
		last[keyOf(it)] = i
	}
	if len(last) == len(items) {
		return items
	}
	out := make([]map[string]types.AttributeValue, 0, len(last))
	for i, it := range items {
		if last[keyOf(it)] == i {
			out = append(out, it)
		}
	}
	return out
}

func keyOf(item map[string]types.AttributeValue) Key {
	var k Key
	if v, ok := item[attrPK].(*types.AttributeValueMemberS); ok {
		k.PK = v.Value
	}
	if v, ok := item[attrSK].(*types.AttributeValueMemberS); ok {
		k.SK = v.Value
	}
	return k
}

// batchGetMax is BatchGetItem's limit of keys per request.
const batchGetMax = 100

// getItems reads the items of keys with consistent reads, batchGetMax keys per BatchGetItem
// call and a few calls at once, asking again, backing off, for keys DynamoDB returns
// unprocessed; it fails with apperr.Unavailable if some stay unprocessed. Absent items are
// simply not returned. Over an API without BatchGetItem it reads item by item.
func (s *Store) getItems(ctx context.Context, op string, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	bg, ok := s.db.(batchGetAPI)
	if !ok {
		var out []map[string]types.AttributeValue
		for _, k := range keys {
			res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k, ConsistentRead: aws.Bool(true)})
			if err != nil {
				return nil, mapErr(err, op)
			}
			if len(res.Item) > 0 {
				out = append(out, res.Item)
			}
		}
		return out, nil
	}
	var g errgroup.Group
	g.SetLimit(batchWriteParallel)
	chunks := make([][]map[string]types.AttributeValue, (len(keys)+batchGetMax-1)/batchGetMax)
	for i := range chunks {
		chunk := keys[i*batchGetMax : min((i+1)*batchGetMax, len(keys))]
		g.Go(func() error {
			var err error
			chunks[i], err = s.batchGet(ctx, bg, op, chunk)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []map[string]types.AttributeValue
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

func (s *Store) batchGet(ctx context.Context, bg batchGetAPI, op string, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	wait := 20 * time.Millisecond
	for attempt := 1; len(keys) > 0; attempt++ {
		if attempt > 1 {
			if attempt > batchWriteAttempts {
				return nil, apperr.New(apperr.Unavailable, "%s: %d keys still unprocessed after %d calls", op, len(keys), attempt-1)
			}
			select {
			case <-ctx.Done():
				return nil, apperr.Wrap(apperr.Unavailable, ctx.Err(), "%s: %d keys unprocessed: %v", op, len(keys), ctx.Err())
			case <-time.After(wait):
			}
			wait = min(2*wait, time.Second)
		}
		res, err := bg.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}},
		})
		if err != nil {
			return nil, mapErr(err, op)
		}
		out = append(out, res.Responses[s.table]...)
		keys = res.UnprocessedKeys[s.table].Keys
	}
	return out, nil
}
