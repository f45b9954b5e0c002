package app

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/runtime"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/session"
	"github.com/omnibridge/omnibridge/shared/sessionsync"
	"github.com/omnibridge/omnibridge/shared/sfevents"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

// SessionService builds the session-driven availability service over the presence engine.
func SessionService(ctx context.Context, d *runtime.Deps) (*sessionsync.Service, error) {
	sf, eng, err := salesforceAndEngine(ctx, d)
	if err != nil {
		return nil, err
	}
	return sessionService(d, sf, eng)
}

func sessionService(d *runtime.Deps, sf *salesforce.Client, eng *engine.Engine) (*sessionsync.Service, error) {
	return sessionsync.New(sessionsync.Deps{
		Store: d.Store, Configs: engine.NewConfigSource(d.Store, ConfigRefresh),
		Org: sessionOrg{sf}, Presence: eng, Publisher: presencePublisher{sf},
	}, sessionsync.Options{Logger: d.Logger, Now: d.Now})
}

// PollHandler is the session-poll function's handler, run by an EventBridge schedule.
type PollHandler = func(ctx context.Context, ev events.EventBridgeEvent) (sessionsync.Report, error)

// SessionPoll returns the session-poll handler: one AuthSession poll and presence
// reconciliation per scheduled invocation.
func SessionPoll(ctx context.Context, d *runtime.Deps) (PollHandler, error) {
	svc, err := SessionService(ctx, d)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, _ events.EventBridgeEvent) (sessionsync.Report, error) {
		rep, err := svc.Poll(ctx)
		d.Logger.InfoContext(ctx, "session poll", "activeUsers", rep.ActiveUsers, "storedUsers", rep.StoredUsers,
			"toggledOn", rep.ToggledOn, "toggledOff", rep.ToggledOff, "leftOff", rep.LeftOff,
			"presenceEvents", rep.PresenceEvents, "toggleCalls", rep.Delivered.ToggleCalls,
			"failed", rep.Delivered.Failed, "error", err)
		return rep, err
	}, nil
}

// sessionProcessor adapts the service to the webhook.
type sessionProcessor struct{ svc *sessionsync.Service }

var _ webhook.SessionProcessor = sessionProcessor{}

// ProcessSession applies one login or logout event.
func (p sessionProcessor) ProcessSession(ctx context.Context, ev session.Event) (webhook.Result, error) {
	res, err := p.svc.ProcessSession(ctx, ev)
	return webhook.Result{Outcome: string(res.Outcome), Detail: res.Detail}, err
}

// sessionOrg implements sessionsync.Org with SOQL through the Salesforce client. Every value from
// the config is checked or escaped by the client's SOQL helpers.
type sessionOrg struct{ c *salesforce.Client }

var _ sessionsync.Org = sessionOrg{}

// sfTime decodes Salesforce REST datetimes ("2026-11-21T09:00:00.000+0000") and RFC 3339.
type sfTime struct{ time.Time }

func (t *sfTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil || s == "" {
		return err
	}
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("unrecognised Salesforce datetime %q", s)
}

// SessionPages streams AuthSession rows of relevant users.
func (o sessionOrg) SessionPages(ctx context.Context, s config.Session) iter.Seq2[[]sessionsync.SessionRow, error] {
	return func(yield func([]sessionsync.SessionRow, error) bool) {
		types, err := salesforce.QuoteList(s.SessionTypes)
		if err != nil {
			yield(nil, err)
			return
		}
		logins, err := salesforce.QuoteList(s.LoginTypes)
		if err != nil {
			yield(nil, err)
			return
		}
		users, err := relevantSemiJoins("UsersId", s.RelevantUsers)
		if err != nil {
			yield(nil, err)
			return
		}
		soql := "SELECT UsersId, LastModifiedDate, NumSecondsValid FROM AuthSession WHERE SessionType IN " + types +
			" AND LoginType IN " + logins + " AND " + users
		type row struct {
			UsersID         string `json:"UsersId"`
			LastModified    sfTime `json:"LastModifiedDate"`
			NumSecondsValid int    `json:"NumSecondsValid"`
		}
		for page, err := range salesforce.QueryPages[row](ctx, o.c, soql) {
			if err != nil {
				yield(nil, err)
				return
			}
			out := make([]sessionsync.SessionRow, len(page.Records))
			for i, r := range page.Records {
				out[i] = sessionsync.SessionRow{UserID: caseSafe(r.UsersID), LastModified: r.LastModified.Time, SecondsValid: r.NumSecondsValid}
			}
			if !yield(out, nil) {
				return
			}
		}
	}
}

// PresencePages streams UserServicePresence rows of relevant users that began or ended since.
func (o sessionOrg) PresencePages(ctx context.Context, s config.Session, since time.Time) iter.Seq2[[]sessionsync.PresenceRow, error] {
	return func(yield func([]sessionsync.PresenceRow, error) bool) {
		users, err := relevantSemiJoins("UserId", s.RelevantUsers)
		if err != nil {
			yield(nil, err)
			return
		}
		recent, err := salesforce.Format("(StatusStartDate >= ? OR StatusEndDate >= ?)", since, since)
		if err != nil {
			yield(nil, err)
			return
		}
		soql := "SELECT Id, UserId, ServicePresenceStatusId, ServicePresenceStatus.DeveloperName, IsCurrentState, StatusStartDate, StatusEndDate" +
			" FROM UserServicePresence WHERE " + users + " AND " + recent
		type row struct {
			ID       string `json:"Id"`
			UserID   string `json:"UserId"`
			StatusID string `json:"ServicePresenceStatusId"`
			Status   *struct {
				DeveloperName string `json:"DeveloperName"`
			} `json:"ServicePresenceStatus"`
			Current bool   `json:"IsCurrentState"`
			Start   sfTime `json:"StatusStartDate"`
			End     sfTime `json:"StatusEndDate"`
		}
		for page, err := range salesforce.QueryPages[row](ctx, o.c, soql) {
			if err != nil {
				yield(nil, err)
				return
			}
			out := make([]sessionsync.PresenceRow, len(page.Records))
			for i, r := range page.Records {
				out[i] = sessionsync.PresenceRow{ID: r.ID, UserID: caseSafe(r.UserID), StatusID: r.StatusID,
					Current: r.Current, Start: r.Start.Time, End: r.End.Time}
				if r.Status != nil {
					out[i].DeveloperName = r.Status.DeveloperName
				}
			}
			if !yield(out, nil) {
				return
			}
		}
	}
}

// Relevant returns which of ids are active users matching the relevant-users filter.
func (o sessionOrg) Relevant(ctx context.Context, s config.Session, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > sessionsync.MaxToggleBatch {
		return nil, apperr.New(apperr.Invalid, "at most %d user ids per relevance check", sessionsync.MaxToggleBatch)
	}
	list, err := salesforce.QuoteList(ids)
	if err != nil {
		return nil, err
	}
	where, err := userConditions(s.RelevantUsers)
	if err != nil {
		return nil, err
	}
	soql := "SELECT Id FROM User WHERE Id IN " + list + " AND " + where
	if ps := s.RelevantUsers.PermissionSets; len(ps) > 0 {
		names, err := salesforce.QuoteList(ps)
		if err != nil {
			return nil, err
		}
		soql += " AND Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name IN " + names + ")"
	}
	for rec, err := range o.c.Query(ctx, soql) {
		if err != nil {
			return nil, err
		}
		if id, _ := rec["Id"].(string); id != "" {
			out[caseSafe(id)] = true
		}
	}
	return out, nil
}

// Toggle calls the distribution package's invocable action, one input per action.
func (o sessionOrg) Toggle(ctx context.Context, t config.DistributionTarget, actions []session.Action) ([]error, error) {
	inputs := make([]map[string]any, len(actions))
	for i, a := range actions {
		inputs[i] = map[string]any{t.UserIDField: a.UserID, t.OnlineField: a.Online, t.ReasonField: a.Reason}
	}
	results, err := o.c.InvokeAction(ctx, t.Action, inputs)
	errs := make([]error, len(actions))
	for i := range actions {
		switch {
		case i >= len(results):
			errs[i] = err
		case !results[i].IsSuccess:
			msg := "rejected without a reason"
			if len(results[i].Errors) > 0 {
				msg = results[i].Errors[0].StatusCode + ": " + results[i].Errors[0].Message
			}
			errs[i] = apperr.New(apperr.Unavailable, "%s rejected the input: %s", t.Action, msg)
		}
	}
	return errs, err
}

// relevantSemiJoins restricts field (a User id on the queried object) to the relevant users:
// one semi-join on User for the profile and field conditions, and one on
// PermissionSetAssignment when permission sets are named (SOQL does not nest semi-joins).
func relevantSemiJoins(field string, r config.RelevantUsers) (string, error) {
	where, err := userConditions(r)
	if err != nil {
		return "", err
	}
	out := field + " IN (SELECT Id FROM User WHERE " + where + ")"
	if len(r.PermissionSets) > 0 {
		names, err := salesforce.QuoteList(r.PermissionSets)
		if err != nil {
			return "", err
		}
		out += " AND " + field + " IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name IN " + names + ")"
	}
	return out, nil
}

// userConditions renders the User conditions of the filter, always including IsActive = true.
func userConditions(r config.RelevantUsers) (string, error) {
	conds := []string{"IsActive = true"}
	if len(r.Profiles) > 0 {
		names, err := salesforce.QuoteList(r.Profiles)
		if err != nil {
			return "", err
		}
		conds = append(conds, "Profile.Name IN "+names)
	}
	for i, f := range r.Fields {
		if err := salesforce.CheckField(f.Field); err != nil {
			return "", apperr.Invalidf([]apperr.Problem{{Path: fmt.Sprintf("$.session.relevantUsers.fields[%d].field", i), Message: err.Error()}}, "relevant users filter")
		}
		if f.Equals == nil {
			return "", apperr.Invalidf([]apperr.Problem{{Path: fmt.Sprintf("$.session.relevantUsers.fields[%d].equals", i), Message: "is required"}}, "relevant users filter")
		}
		conds = append(conds, f.Field+" = "+soqlValue(string(*f.Equals)))
	}
	return strings.Join(conds, " AND "), nil
}

var numberRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// soqlValue renders a config literal: true and false as booleans, decimal numbers unquoted,
// anything else as an escaped string. A text field holding digits only can't be matched this
// way (the config keeps the literal's text, not its JSON type).
func soqlValue(v string) string {
	switch {
	case v == "true" || v == "false":
		return v
	case numberRE.MatchString(v):
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return v
		}
	}
	return salesforce.Quote(v)
}

// caseSafe returns the 18-character form of a Salesforce id (the REST API returns 18 already).
func caseSafe(id string) string {
	if len(id) == 15 {
		if s, ok := sfevents.CaseSafeID(id); ok {
			return s
		}
	}
	return id
}
