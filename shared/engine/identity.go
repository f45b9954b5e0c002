package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/dynamo"
)

// resolver links Connect and Salesforce users by username, through three layers: a short-lived
// in-memory cache (per warm container), the DynamoDB link items (both directions, positive
// for LinkTTL and negative for NegativeLinkTTL), and finally the two APIs. A user with no
// counterpart yields a negative link, not an error, so an unlinked agent is audited and never
// retried forever; only failures a retry can fix are returned.
type resolver struct {
	store  LinkStore
	sf     SalesforceUsers
	cn     ConnectUsers
	ttl    time.Duration
	negTTL time.Duration
	memTTL time.Duration
	now    func() time.Time

	mu  sync.Mutex
	mem map[string]memLink
}

type memLink struct {
	link    dynamo.Link
	expires time.Time
}

func memKey(side dynamo.LinkSide, id, field string) string {
	return string(side) + "|" + field + "|" + id
}

func (r *resolver) cached(ctx context.Context, side dynamo.LinkSide, id, field string) (dynamo.Link, bool, error) {
	k := memKey(side, id, field)
	now := r.now()
	r.mu.Lock()
	m, ok := r.mem[k]
	r.mu.Unlock()
	if ok && now.Before(m.expires) {
		return m.link, true, nil
	}
	l, err := r.store.GetLink(ctx, side, id, field)
	if apperr.Is(err, apperr.NotFound) {
		return dynamo.Link{}, false, nil
	}
	if err != nil {
		return dynamo.Link{}, false, err
	}
	r.remember(side, id, l)
	return l, true, nil
}

// peek returns a cached link without calling any API; Simulate uses it.
func (r *resolver) peek(ctx context.Context, side dynamo.LinkSide, id, field string) (dynamo.Link, bool, error) {
	return r.cached(ctx, side, id, field)
}

func (r *resolver) remember(side dynamo.LinkSide, id string, l dynamo.Link) {
	exp := r.now().Add(r.memTTL)
	if l.Expires.Before(exp) {
		exp = l.Expires
	}
	r.mu.Lock()
	if r.mem == nil {
		r.mem = map[string]memLink{}
	}
	r.mem[memKey(side, id, l.Field)] = memLink{link: l, expires: exp}
	r.mu.Unlock()
}

// fromConnect links a Connect user to a Salesforce user. usernameHint is the username the agent
// event's snapshot carries; without it the username comes from DescribeUser.
func (r *resolver) fromConnect(ctx context.Context, field, connectUserID, usernameHint string) (dynamo.Link, error) {
	if l, ok, err := r.cached(ctx, dynamo.LinkFromConnect, connectUserID, field); ok || err != nil {
		return l, err
	}
	now := r.now()
	l := dynamo.Link{From: dynamo.LinkFromConnect, Field: field, ConnectUserID: connectUserID, ResolvedAt: now}
	username := usernameHint
	if username == "" {
		u, err := r.cn.UsernameByUserID(ctx, connectUserID)
		if miss, err := lookupMiss(err); err != nil {
			return dynamo.Link{}, err
		} else if miss != "" {
			return r.save(ctx, r.negative(l, "Connect user not found: "+miss))
		}
		username = u
	}
	l.Username = username
	sfID, err := r.sf.UserIDByField(ctx, field, username)
	if miss, err := lookupMiss(err); err != nil {
		return dynamo.Link{}, err
	} else if miss != "" || sfID == "" {
		return r.save(ctx, r.negative(l, fmt.Sprintf("no Salesforce user with %s = %q", field, username)))
	}
	l.SalesforceUserID, l.Found, l.Expires = sfID, true, now.Add(r.ttl)
	return r.save(ctx, l)
}

// fromSalesforce links a Salesforce user to a Connect user.
func (r *resolver) fromSalesforce(ctx context.Context, field, sfUserID string) (dynamo.Link, error) {
	if l, ok, err := r.cached(ctx, dynamo.LinkFromSalesforce, sfUserID, field); ok || err != nil {
		return l, err
	}
	now := r.now()
	l := dynamo.Link{From: dynamo.LinkFromSalesforce, Field: field, SalesforceUserID: sfUserID, ResolvedAt: now}
	value, err := r.sf.FieldByUserID(ctx, field, sfUserID)
	if miss, err := lookupMiss(err); err != nil {
		return dynamo.Link{}, err
	} else if miss != "" || value == "" {
		return r.save(ctx, r.negative(l, fmt.Sprintf("Salesforce user has no %s", field)))
	}
	l.Username = value
	cid, err := r.cn.UserIDByUsername(ctx, value)
	if miss, err := lookupMiss(err); err != nil {
		return dynamo.Link{}, err
	} else if miss != "" || cid == "" {
		return r.save(ctx, r.negative(l, fmt.Sprintf("no Connect user with username %q", value)))
	}
	l.ConnectUserID, l.Found, l.Expires = cid, true, now.Add(r.ttl)
	return r.save(ctx, l)
}

func (r *resolver) negative(l dynamo.Link, reason string) dynamo.Link {
	l.Found, l.Reason, l.Expires = false, reason, l.ResolvedAt.Add(r.negTTL)
	return l
}

// save caches l. A failed cache write costs a lookup next time, so it is not an error.
func (r *resolver) save(ctx context.Context, l dynamo.Link) (dynamo.Link, error) {
	_ = r.store.PutLink(ctx, l)
	id := l.ConnectUserID
	if l.From == dynamo.LinkFromSalesforce {
		id = l.SalesforceUserID
	}
	r.remember(l.From, id, l)
	if l.Found {
		other, otherID := dynamo.LinkFromSalesforce, l.SalesforceUserID
		if l.From == dynamo.LinkFromSalesforce {
			other, otherID = dynamo.LinkFromConnect, l.ConnectUserID
		}
		r.remember(other, otherID, l)
	}
	return l, nil
}

// lookupMiss classifies a lookup error: a final "no such user" (NotFound, or an input the API
// refuses) is a miss, described; an error a retry may fix is returned.
func lookupMiss(err error) (string, error) {
	if err == nil {
		return "", nil
	}
	if Retryable(err) {
		return "", err
	}
	return apperr.MessageOf(err), nil
}
