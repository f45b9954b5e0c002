package engine

import (
	"context"
	"time"

	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/presence"
)

// agentSubject and userSubject name audit subjects: an agent by Connect user id, or a
// Salesforce user that is linked to no agent.
func agentSubject(connectUserID string) string { return audit.Subject(audit.KindAgent, connectUserID) }
func userSubject(sfUserID string) string       { return audit.Subject(audit.KindUser, sfUserID) }

// auditEntry turns a presence audit into a log entry. The entry's time is the event's time
// (or at, for records with no event of their own) and its id is given, so the same decision
// written again, after a crash or a conflict retry, overwrites its entry instead of adding one.
func auditEntry(subject, id string, at time.Time, a presence.Audit, cmds []presence.Command, cfgVersion int64) audit.Entry {
	t := a.EventTime
	if t.IsZero() {
		t = at
	}
	if t.IsZero() {
		t = a.DecidedAt
	}
	d := map[string]any{
		"decidedAt":     a.DecidedAt.UTC().Format(time.RFC3339Nano),
		"configVersion": cfgVersion,
	}
	if a.EventKind != "" {
		d["eventKind"] = a.EventKind
	}
	if a.Origin != "" {
		d["origin"] = a.Origin
	}
	if a.ConnectUserID != "" {
		d["connectUserId"] = a.ConnectUserID
	}
	if a.SalesforceUserID != "" {
		d["salesforceUserId"] = a.SalesforceUserID
	}
	if a.ChainID != "" {
		d["chainId"] = a.ChainID
	}
	if a.CommandID != "" {
		d["commandId"] = a.CommandID
	}
	if len(a.Results) > 0 {
		d["results"] = a.Results
	}
	if len(cmds) > 0 {
		d["commands"] = cmds
	}
	if !a.Trace.IsZero() {
		d["trace"] = a.Trace
	}
	return audit.Entry{
		Subject: subject, Time: t, ID: id, EventID: a.EventID,
		Outcome: string(a.Outcome), Message: a.Explanation, Details: d,
	}
}

func (e *Engine) appendAudits(ctx context.Context, cfg *Compiled, entries ...audit.Entry) error {
	for _, en := range entries {
		if err := e.store.AppendAudit(ctx, en, cfg.retention()); err != nil {
			return err
		}
	}
	return nil
}
