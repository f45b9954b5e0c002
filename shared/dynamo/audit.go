package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
)

// auditItem stores one entry under pk "AUDIT#<subject>" and sk "<fixed-width UTC time>#<id>", so
// a subject's entries sort by time and a time range is a key condition, not a filter.
type auditItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	TTL     int64  `dynamodbav:"ttl"`
	Subject string `dynamodbav:"subject"`
	Time    string `dynamodbav:"time"`
	ID      string `dynamodbav:"id"`
	EventID string `dynamodbav:"eventId,omitempty"`
	Outcome string `dynamodbav:"outcome"`
	Message string `dynamodbav:"message"`
	// Details is JSON text: arbitrary nested details round-trip exactly, with no empty-set pitfalls.
	Details string `dynamodbav:"details,omitempty"`
}

// AppendAudit writes an entry that expires after retention. Writing the same subject, time and id
// again overwrites the entry, so replayed events do not duplicate the audit.
func (s *Store) AppendAudit(ctx context.Context, e audit.Entry, retention time.Duration) error {
	item, err := s.auditItem(e, retention)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return mapErr(err, "append audit")
}

// AppendAudits writes entries as AppendAudit would one by one, BatchWriteMax per BatchWriteItem
// call, sending again what DynamoDB returns unprocessed. Entries that cannot be stored (no subject
// or id, details that cannot be encoded) are reported in one apperr.Invalid, with the path of
// each ("$[3].subject"), and the others are still written. Any other failure counts the entries
// not written; a retry writes them all again, harmlessly, since a rewrite overwrites.
func (s *Store) AppendAudits(ctx context.Context, entries []audit.Entry, retention time.Duration) error {
	items := make([]map[string]types.AttributeValue, 0, len(entries))
	var problems []apperr.Problem
	for i, e := range entries {
		item, err := s.auditItem(e, retention)
		if err != nil {
			field := "details"
			switch {
			case e.Subject == "":
				field = "subject"
			case e.ID == "":
				field = "id"
			}
			path := fmt.Sprintf("$[%d].%s", i, field)
			problems = append(problems, apperr.Problem{Path: path, Message: apperr.MessageOf(err)})
			continue
		}
		items = append(items, item)
	}
	if err := s.putItems(ctx, "append audits", items); err != nil {
		return err
	}
	if len(problems) > 0 {
		return apperr.Invalidf(problems, "%d of %d audit entries cannot be stored", len(problems), len(entries))
	}
	return nil
}

// auditItem is the stored form of an entry.
func (s *Store) auditItem(e audit.Entry, retention time.Duration) (map[string]types.AttributeValue, error) {
	if e.Subject == "" || e.ID == "" {
		return nil, apperr.New(apperr.Invalid, "audit entry needs a subject and an id")
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	// Kept for retention after the entry's time, and at least after it is written: an event
	// dated long ago (a far-past event time is accepted) must not be audited already expired.
	expires := e.Time
	if now := s.now(); now.After(expires) && now.Sub(expires) > retention {
		expires = now
	}
	it := auditItem{
		PK: auditPrefix + e.Subject, SK: sortableTime(e.Time) + "#" + e.ID,
		TTL: expires.Add(retention).Unix(), Subject: e.Subject, Time: e.Time.UTC().Format(time.RFC3339Nano),
		ID: e.ID, EventID: e.EventID, Outcome: e.Outcome, Message: e.Message,
	}
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return nil, apperr.Wrap(apperr.Invalid, err, "audit details cannot be encoded")
		}
		it.Details = string(b)
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, err, "encode audit item")
	}
	return item, nil
}

// QueryAudit returns a page of a subject's entries within the query's time range, newest first.
// Expired entries that DynamoDB has not deleted yet are left out.
func (s *Store) QueryAudit(ctx context.Context, q audit.Query) (audit.Page, error) {
	if q.Subject == "" {
		return audit.Page{}, apperr.New(apperr.Invalid, "audit query needs a subject")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = audit.DefaultLimit
	}
	if limit > audit.MaxLimit {
		limit = audit.MaxLimit
	}
	pk := auditPrefix + q.Subject
	lo, hi := "0", "9"
	if !q.Since.IsZero() {
		lo = sortableTime(q.Since)
	}
	if !q.Until.IsZero() {
		// "~" sorts after "#", so every id at exactly Until is included.
		hi = sortableTime(q.Until) + "~"
	}
	keyCond := expression.Key(attrPK).Equal(expression.Value(pk)).
		And(expression.Key(attrSK).Between(expression.Value(lo), expression.Value(hi)))
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return audit.Page{}, apperr.Wrap(apperr.Internal, err, "build query")
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	}
	if q.PageToken != "" {
		sk, err := decodePageToken(q.PageToken, q.Subject, lo, hi)
		if err != nil {
			return audit.Page{}, err
		}
		in.ExclusiveStartKey = key(pk, sk)
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return audit.Page{}, mapErr(err, "query audit")
	}
	now := s.now().Unix()
	page := audit.Page{Entries: make([]audit.Entry, 0, len(out.Items))}
	for _, item := range out.Items {
		var it auditItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return audit.Page{}, apperr.Wrap(apperr.Internal, err, "decode audit item")
		}
		if it.TTL > 0 && it.TTL <= now {
			continue
		}
		e := audit.Entry{Subject: it.Subject, ID: it.ID, EventID: it.EventID, Outcome: it.Outcome, Message: it.Message}
		e.Time, _ = time.Parse(time.RFC3339Nano, it.Time)
		if it.Details != "" {
			if err := json.Unmarshal([]byte(it.Details), &e.Details); err != nil {
				return audit.Page{}, apperr.Wrap(apperr.Internal, err, "decode audit details")
			}
		}
		page.Entries = append(page.Entries, e)
	}
	if sk, ok := out.LastEvaluatedKey[attrSK].(*types.AttributeValueMemberS); ok {
		page.NextPageToken = encodePageToken(q.Subject, sk.Value)
	}
	return page, nil
}

// pageToken is what an audit page token carries: the subject it belongs to, so that a token
// passed with another subject is refused rather than silently starting elsewhere, and the sort
// key to continue after.
type pageToken struct {
	Subject string `json:"s"`
	SK      string `json:"k"`
}

func encodePageToken(subject, sk string) string {
	b, _ := json.Marshal(pageToken{Subject: subject, SK: sk})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodePageToken returns the sort key of a token issued for subject, refusing a malformed
// token and a foreign one: another subject's, or one outside the query's [lo, hi] key range
// (DynamoDB would reject that start key with an error the operator cannot act on).
func decodePageToken(tok, subject, lo, hi string) (string, error) {
	bad := func(msg string) error {
		return apperr.Invalidf([]apperr.Problem{{Path: "pageToken", Message: msg}}, "bad page token")
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	var pt pageToken
	if err != nil || json.Unmarshal(b, &pt) != nil || !validAuditSK(pt.SK) {
		return "", bad("is malformed: pass nextPageToken from the previous page unchanged")
	}
	if pt.Subject != subject {
		return "", bad("belongs to another subject: pass it with the subject and time range of the query that returned it")
	}
	if pt.SK < lo || pt.SK > hi {
		return "", bad("lies outside this query's since/until range: pass it with the time range of the query that returned it")
	}
	return pt.SK, nil
}

// validAuditSK reports whether sk has the shape of an audit sort key: a sortableTime, "#", an id.
func validAuditSK(sk string) bool {
	n := len(sortableLayout)
	if len(sk) < n+2 || sk[n] != '#' {
		return false
	}
	_, err := time.Parse(sortableLayout, sk[:n])
	return err == nil
}
