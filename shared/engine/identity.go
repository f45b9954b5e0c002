package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

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
	l := dynamo.Link{From: dynamo.LinkFromConnect, Field: field, ConnectUserID: connectUserID, ResolvedAt: r.now()}
	l.Username = usernameHint
	if l.Username == "" {
		u, err := r.cn.UsernameByUserID(ctx, connectUserID)
		if miss, err := lookupMiss(err); err != nil {
			return dynamo.Link{}, err
		} else if miss != "" {
			return r.save(ctx, r.negative(l, "Connect user not found: "+miss))
		}
		l.Username = u
	}
	sfID, err := r.sf.UserIDByField(ctx, field, l.Username)
	return r.linkConnect(ctx, l, sfID, err)
}

// linkConnect completes the link of a Connect user whose username is known with the result of
// its Salesforce lookup.
func (r *resolver) linkConnect(ctx context.Context, l dynamo.Link, sfID string, err error) (dynamo.Link, error) {
	if miss, err := lookupMiss(err); err != nil {
		return dynamo.Link{}, err
	} else if miss != "" || sfID == "" {
		return r.save(ctx, r.negative(l, fmt.Sprintf("no Salesforce user with %s = %q", l.Field, l.Username)))
	}
	l.SalesforceUserID, l.Found, l.Expires = sfID, true, l.ResolvedAt.Add(r.ttl)
	return r.save(ctx, l)
}

// prefetchConcurrency bounds the link reads of prefetchConnect in flight at once.
const prefetchConcurrency = 16

// prefetchConnect resolves the links of many Connect users as fromConnect does, one by one, but
// with batch lookups: one Connect lookup for the users without a username hint and one
// Salesforce query per MaxUserLookups usernames, where fromConnect makes one of each per user.
// Every result is cached as fromConnect caches it, so fromConnect then finds it. A failure a
// retry may fix (a store read, a lookup call) is skipped here: fromConnect meets it again and
// reports it for the user's event.
func (r *resolver) prefetchConnect(ctx context.Context, field string, users []ConnectEvent) {
	// The links not cached yet, read concurrently as the events' own reads would be.
	unseen := make([]*dynamo.Link, len(users))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(prefetchConcurrency)
	for i, u := range users {
		g.Go(func() error {
			if _, ok, err := r.cached(gctx, dynamo.LinkFromConnect, u.ConnectUserID, field); !ok && err == nil {
				unseen[i] = &dynamo.Link{From: dynamo.LinkFromConnect, Field: field, ConnectUserID: u.ConnectUserID,
					Username: u.Username, ResolvedAt: r.now()}
			}
			return nil
		})
	}
	_ = g.Wait() // no goroutine returns an error
	var noName []string
	for _, l := range unseen {
		if l != nil && l.Username == "" {
			noName = append(noName, l.ConnectUserID)
		}
	}
	names := map[string]UserLookup{}
	if len(noName) > 0 {
		if res, err := r.cn.UsernamesByUserIDs(ctx, noName); err == nil && len(res) == len(noName) {
			for i, n := range res {
				names[noName[i]] = n
			}
		}
	}
	var named []*dynamo.Link
	for _, l := range unseen {
		if l == nil {
			continue
		}
		if l.Username == "" {
			n, ok := names[l.ConnectUserID]
			miss, err := lookupMiss(n.Err)
			switch {
			case !ok || err != nil:
				continue // fromConnect looks the user up again
			case miss != "":
				_, _ = r.save(ctx, r.negative(*l, "Connect user not found: "+miss))
				continue
			}
			l.Username = n.Value
		}
		named = append(named, l)
	}
	for chunk := range slices.Chunk(named, MaxUserLookups) {
		usernames := make([]string, len(chunk))
		for i, l := range chunk {
			usernames[i] = l.Username
		}
		ids, err := r.sf.UserIDsByField(ctx, field, usernames)
		if err != nil || len(ids) != len(chunk) {
			continue // fromConnect looks these users up again
		}
		for i, l := range chunk {
			// An error is a retryable miss, left to fromConnect like the others.
			_, _ = r.linkConnect(ctx, *l, ids[i].Value, ids[i].Err)
		}
	}
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

// PrefetchLinks resolves the identity links of a batch's agents together before their events
// are processed, so that ProcessConnect finds each link cached instead of looking it up alone:
// one Salesforce query per MaxUserLookups unseen agents rather than one each. Pass one
// ConnectEvent per agent, its first event (only ConnectUserID and the Username hint are read).
// It only saves calls: whatever fails here is left to ProcessConnect, which meets and reports it.
func (b *Batch) PrefetchLinks(ctx context.Context, agents []ConnectEvent) {
	cfg, err := b.config(ctx)
	if err != nil {
		return // ProcessConnect reports it
	}
	b.e.links.prefetchConnect(ctx, cfg.identityField(), agents)
}

// SalesforceUserOf returns the Salesforce user linked to the Connect user connectUserID under the
// current config's identity field, resolving and caching the link as agent events do; found is
// false when the agent has no Salesforce user. Case routing uses it to pop a case to the agent
// who accepted its task and to make that user the owner.
func (e *Engine) SalesforceUserOf(ctx context.Context, connectUserID string) (sfUserID string, found bool, err error) {
	cfg, err := e.configs.Current(ctx)
	if err != nil {
		return "", false, err
	}
	l, err := e.links.fromConnect(ctx, cfg.identityField(), connectUserID, "")
	if err != nil {
		return "", false, err
	}
	return l.SalesforceUserID, l.Found, nil
}
