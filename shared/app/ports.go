package app

import (
	"context"
	"slices"
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/salesforce"
)

// The engine's ports, implemented over the real clients. Each adapter is a thin translation:
// queries are built with the client's escaping helpers and errors keep the clients' apperr codes,
// which the engine uses to tell retryable failures from final ones.
var (
	_ engine.SalesforceUsers   = salesforceUsers{}
	_ engine.PresencePublisher = presencePublisher{}
	_ engine.ConnectUsers      = connectUsers{}
	_ engine.ConnectStatus     = connectStatus{}
)

// salesforceUsers looks users up with SOQL on User, active users only.
type salesforceUsers struct{ c *salesforce.Client }

// UserIDByField returns the id of the active user whose field equals value.
func (u salesforceUsers) UserIDByField(ctx context.Context, field, value string) (string, error) {
	if value == "" {
		return "", emptyValue(field)
	}
	soql, err := salesforce.Select("Id").From("User").
		Where(field+" = ?", value).Where("IsActive = true").Limit(2).Build()
	if err != nil {
		return "", err
	}
	var ids []string
	for rec, err := range u.c.Query(ctx, soql) {
		if err != nil {
			return "", err
		}
		if id, _ := rec["Id"].(string); id != "" {
			ids = append(ids, id)
		}
	}
	return oneUser(field, value, ids)
}

// UserIDsByField looks the values up with one query, field IN (...), and answers each as
// UserIDByField would. SOQL compares strings without regard to case, so the users found are
// matched back to the values the same way.
func (u salesforceUsers) UserIDsByField(ctx context.Context, field string, values []string) ([]engine.UserLookup, error) {
	var query []string
	for _, v := range values {
		if v != "" && !slices.Contains(query, v) {
			query = append(query, v)
		}
	}
	ids := map[string][]string{} // by lower-cased field value
	if len(query) > 0 {
		soql, err := salesforce.Select("Id", field).From("User").
			Where(field+" IN ?", query).Where("IsActive = true").Build()
		if err != nil {
			return nil, err
		}
		for rec, err := range u.c.Query(ctx, soql) {
			if err != nil {
				return nil, err
			}
			id, _ := rec["Id"].(string)
			v, _ := rec[field].(string)
			if id != "" {
				ids[strings.ToLower(v)] = append(ids[strings.ToLower(v)], id)
			}
		}
	}
	out := make([]engine.UserLookup, len(values))
	for i, v := range values {
		if v == "" {
			out[i].Err = emptyValue(field)
			continue
		}
		out[i].Value, out[i].Err = oneUser(field, v, ids[strings.ToLower(v)])
	}
	return out, nil
}

func emptyValue(field string) error {
	return apperr.New(apperr.NotFound, "no Salesforce user: empty %s", field)
}

// oneUser is the lookup of value: the one user found, or a final miss.
func oneUser(field, value string, ids []string) (string, error) {
	switch len(ids) {
	case 0:
		return "", apperr.New(apperr.NotFound, "no active Salesforce user with %s %q", field, value)
	case 1:
		return ids[0], nil
	}
	// Username is unique; FederationIdentifier is not, and guessing would link the wrong agent.
	// Invalid, not Conflict: a retry cannot fix it, so the agent is audited as unlinked.
	return "", apperr.New(apperr.Invalid, "more than one active Salesforce user has %s %q", field, value)
}

// FieldByUserID returns field of the active user userID.
func (u salesforceUsers) FieldByUserID(ctx context.Context, field, userID string) (string, error) {
	soql, err := salesforce.Select(field).From("User").
		Where("Id = ?", userID).Where("IsActive = true").Limit(1).Build()
	if err != nil {
		return "", err
	}
	for rec, err := range u.c.Query(ctx, soql) {
		if err != nil {
			return "", err
		}
		v, _ := rec[field].(string)
		if v == "" {
			return "", apperr.New(apperr.NotFound, "Salesforce user %s has no %s", userID, field)
		}
		return v, nil
	}
	return "", apperr.New(apperr.NotFound, "no active Salesforce user %s", userID)
}

// presencePublisher publishes presence commands as platform events, one collections call for up
// to 200 commands.
type presencePublisher struct{ c *salesforce.Client }

// PublishPresenceCommands publishes cmds and returns one error per command.
func (p presencePublisher) PublishPresenceCommands(ctx context.Context, cmds []presence.Command) ([]error, error) {
	events := make([]map[string]any, len(cmds))
	for i, c := range cmds {
		events[i] = engine.CommandEventFields(c)
	}
	results, err := p.c.PublishEvents(ctx, engine.PresenceCommandEvent, events)
	errs := make([]error, len(results))
	for i, r := range results {
		if !r.Success {
			errs[i] = publishError(r.Errors)
		}
	}
	return errs, err
}

// publishError turns a rejected event's errors into an apperr: Salesforce's "try again" codes
// (PLATFORM_EVENT_PUBLISHING_UNAVAILABLE, limits) are Unavailable, anything else is final.
func publishError(errs []salesforce.RecordError) error {
	if len(errs) == 0 {
		return apperr.New(apperr.Unavailable, "platform event not published (no reason given)")
	}
	e := errs[0]
	code := apperr.Invalid
	if strings.Contains(e.StatusCode, "UNAVAILABLE") || strings.Contains(e.StatusCode, "LIMIT_EXCEEDED") {
		code = apperr.Unavailable
	}
	return apperr.New(code, "platform event not published: %s: %s", e.StatusCode, e.Message)
}

// connectUsers looks Connect users up with DescribeUser and SearchUsers.
type connectUsers struct{ c *connect.Client }

// UsernameByUserID returns the Username of the Connect user id.
func (u connectUsers) UsernameByUserID(ctx context.Context, id string) (string, error) {
	usr, err := u.c.DescribeUser(ctx, id)
	if err != nil {
		return "", err
	}
	return usr.Username, nil
}

// UsernamesByUserIDs looks the ids up with SearchUsers, MaxUsersPerSearch at a time, instead of
// one DescribeUser call each; an id Connect does not know is NotFound, as with DescribeUser.
func (u connectUsers) UsernamesByUserIDs(ctx context.Context, ids []string) ([]engine.UserLookup, error) {
	users, err := u.c.UsersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]engine.UserLookup, len(ids))
	for i, id := range ids {
		if usr, ok := users[id]; ok {
			out[i].Value = usr.Username
		} else {
			out[i].Err = apperr.New(apperr.NotFound, "Connect user %q not found", id)
		}
	}
	return out, nil
}

// UserIDByUsername returns the id of the Connect user with username.
func (u connectUsers) UserIDByUsername(ctx context.Context, username string) (string, error) {
	usr, err := u.c.FindUserByUsername(ctx, username)
	if err != nil {
		return "", err
	}
	return usr.ID, nil
}

// connectStatus sets agent statuses through the rate-limited, coalescing client. Connect itself
// applies PutUserStatus as the agent's next status while a contact is in progress, so a deferred
// command ("next") is the same call as an immediate one.
type connectStatus struct{ c *connect.Client }

// SetStatus sets userID's status; a request replaced by a newer one for the same agent while it
// waited for the rate limiter counts as delivered, since the newer status is what the rules want.
func (s connectStatus) SetStatus(ctx context.Context, userID, statusName, key string, _ bool) error {
	_, err := s.c.SetStatusCoalesced(ctx, userID, statusName, key)
	return err
}
