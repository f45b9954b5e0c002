package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Identity link items: pk "LINK#C#<connect user id>" or "LINK#S#<salesforce user id>", sk
// "FIELD#<Salesforce field>". A resolved link is written in both directions, so a Salesforce
// event finds its agent item (keyed by the Connect user id) with one read. The Salesforce field
// is part of the key: changing settings.identity.salesforceField makes every cached link a miss
// instead of silently keeping links made with the other field.
const (
	linkPrefix = "LINK#"
	linkSKPre  = "FIELD#"
)

// LinkSide names the system whose user id a link is looked up by.
type LinkSide string

// The link sides.
const (
	// LinkFromConnect looks a link up by Connect user id.
	LinkFromConnect LinkSide = "C"
	// LinkFromSalesforce looks a link up by Salesforce user id.
	LinkFromSalesforce LinkSide = "S"
)

// Link is a cached identity resolution. A negative link (Found false) records that the lookup
// from one side found no user on the other, so an unlinked agent costs no API call per event;
// it is kept for a shorter time than a positive one.
type Link struct {
	// From is the side the lookup started from; it matters only for negative links, which are
	// stored on that side alone.
	From LinkSide `dynamodbav:"from"`
	// Field is the Salesforce User field matched: "Username" or "FederationIdentifier".
	Field string `dynamodbav:"field"`
	// ConnectUserID is the Connect user; set when looked up from Connect or found.
	ConnectUserID string `dynamodbav:"connectUserId,omitempty"`
	// SalesforceUserID is the Salesforce user; set when looked up from Salesforce or found.
	SalesforceUserID string `dynamodbav:"salesforceUserId,omitempty"`
	// Username is the value matched (the Connect username), when it was learned.
	Username string `dynamodbav:"username,omitempty"`
	// Found is false for a negative result.
	Found bool `dynamodbav:"found"`
	// Reason says why a negative link is negative.
	Reason string `dynamodbav:"reason,omitempty"`
	// ResolvedAt is when the APIs were asked.
	ResolvedAt time.Time `dynamodbav:"resolvedAt"`
	// Expires is when the link must be resolved again; it is the item's TTL.
	Expires time.Time `dynamodbav:"expires"`
}

type linkItem struct {
	PK  string `dynamodbav:"pk"`
	SK  string `dynamodbav:"sk"`
	TTL int64  `dynamodbav:"ttl"`
	Link
}

func linkKey(side LinkSide, id, field string) (string, string) {
	return linkPrefix + string(side) + "#" + id, linkSKPre + field
}

// GetLink returns the cached link of the user id on side for field, or apperr.NotFound when none
// is cached or it has expired.
func (s *Store) GetLink(ctx context.Context, side LinkSide, id, field string) (Link, error) {
	if id == "" || field == "" {
		return Link{}, apperr.New(apperr.Invalid, "link lookup needs an id and a field")
	}
	pk, sk := linkKey(side, id, field)
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(pk, sk)})
	if err != nil {
		return Link{}, mapErr(err, "get link")
	}
	if len(out.Item) == 0 || expired(out.Item, s.now().Unix()) {
		return Link{}, apperr.New(apperr.NotFound, "no cached link for %s user %s", side, id)
	}
	var it linkItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Link{}, apperr.Wrap(apperr.Internal, err, "decode link item")
	}
	return it.Link, nil
}

// PutLink caches l until l.Expires: a found link under both user ids, a negative one under the
// id it was looked up by. Overwriting is intended: the newest resolution wins.
func (s *Store) PutLink(ctx context.Context, l Link) error {
	if l.Field == "" || l.Expires.IsZero() {
		return apperr.New(apperr.Invalid, "link needs a field and an expiry")
	}
	var sides []LinkSide
	switch {
	case l.Found && l.ConnectUserID != "" && l.SalesforceUserID != "":
		sides = []LinkSide{LinkFromConnect, LinkFromSalesforce}
	case !l.Found && l.From == LinkFromConnect && l.ConnectUserID != "":
		sides = []LinkSide{LinkFromConnect}
	case !l.Found && l.From == LinkFromSalesforce && l.SalesforceUserID != "":
		sides = []LinkSide{LinkFromSalesforce}
	default:
		return apperr.New(apperr.Invalid, "link is missing the user id it is keyed by")
	}
	for _, side := range sides {
		id := l.ConnectUserID
		if side == LinkFromSalesforce {
			id = l.SalesforceUserID
		}
		pk, sk := linkKey(side, id, l.Field)
		item, err := attributevalue.MarshalMap(linkItem{PK: pk, SK: sk, TTL: l.Expires.Unix(), Link: l})
		if err != nil {
			return apperr.Wrap(apperr.Internal, err, "encode link item")
		}
		if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
			return mapErr(err, "put link")
		}
	}
	return nil
}
