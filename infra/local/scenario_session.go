package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
	"github.com/omnibridge/omnibridge/shared/session"
	"github.com/omnibridge/omnibridge/shared/sessionsync"
	"github.com/omnibridge/omnibridge/shared/sfevents"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

// The session day: steps that play an agent's Salesforce session and Omni-Channel presence as
// the org records them, and the scheduled session poll.
//
//	{"at": "08:00:00", "session": {"login": {}}}                 AuthSession created, login event sent
//	                   "session": {"login": {"validSeconds": 28800}} (the same with an 8-hour timeout)
//	{"at": "10:00:00", "session": {"activity": {}}}              the session is refreshed
//	{"at": "12:00:00", "omni": {"status": "Away"}}               presence changes in the org only
//	{"at": "14:00:00", "session": {"browserClosed": {}}}         nothing is sent; the session expires
//	{"at": "16:05:00", "poll": true}                             the session-poll function runs
//	{"at": "17:00:00", "session": {"logout": {}}}                AuthSession deleted, logout event sent
//
// An Omni-Channel change that the console also pushes to the presence webhook is the salesforce
// step's statusChanged; it moves the org's presence rows too.

// defaultSessionValidSeconds is the NumSecondsValid of a login's AuthSession: Salesforce's
// default session timeout, two hours.
const defaultSessionValidSeconds = 7200

// maxSessionValidSeconds is Salesforce's longest session timeout, 24 hours.
const maxSessionValidSeconds = 24 * 60 * 60

// sessionStepAction is what the agent does with their Salesforce session; exactly one field is
// set.
type sessionStepAction struct {
	Login         *loginAction `json:"login"`
	Logout        *noOptions   `json:"logout"`
	BrowserClosed *noOptions   `json:"browserClosed"`
	Activity      *noOptions   `json:"activity"`
}

// loginAction is a login to Salesforce.
type loginAction struct {
	// ValidSeconds is the session's NumSecondsValid; defaultSessionValidSeconds when unset.
	ValidSeconds *int `json:"validSeconds"`
}

// validSeconds returns the session's validity in seconds.
func (l loginAction) validSeconds() int {
	if l.ValidSeconds == nil {
		return defaultSessionValidSeconds
	}
	return *l.ValidSeconds
}

// noOptions is an action that takes no fields: {}.
type noOptions struct{}

// omniStepAction is an Omni-Channel status change the org records (UserServicePresence) without
// the console pushing it to the presence webhook.
type omniStepAction struct {
	// Status is a ServicePresenceStatus DeveloperName, or Offline to end the presence.
	Status *string `json:"status"`
}

// describe renders a session action for the timeline's header line.
func (a *sessionStepAction) describe() string {
	switch {
	case a.Login != nil:
		return fmt.Sprintf("login (session valid %s)", validFor(a.Login.validSeconds()))
	case a.Logout != nil:
		return "logout"
	case a.BrowserClosed != nil:
		return "browser closed"
	case a.Activity != nil:
		return "activity"
	}
	return "?"
}

// validFor renders a session validity: 2 h, 90 min, 45 s.
func validFor(seconds int) string {
	switch {
	case seconds%3600 == 0:
		return fmt.Sprintf("%d h", seconds/3600)
	case seconds%60 == 0:
		return fmt.Sprintf("%d min", seconds/60)
	}
	return fmt.Sprintf("%d s", seconds)
}

// checkSessionAction checks a step's session action.
func checkSessionAction(a *sessionStepAction, path string, probs *scenarioProblems) bool {
	if !oneAction(setFields(a), a, path, probs) {
		return false
	}
	if l := a.Login; l != nil && l.ValidSeconds != nil && (*l.ValidSeconds <= 0 || *l.ValidSeconds > maxSessionValidSeconds) {
		probs.add(path+".login.validSeconds", "%d is not a session timeout (want 1 to %d seconds)", *l.ValidSeconds, maxSessionValidSeconds)
		return false
	}
	return true
}

// checkOmniAction checks a step's omni action; the status is checked against the seed later.
func checkOmniAction(a *omniStepAction, path string, probs *scenarioProblems) bool {
	if a.Status == nil || *a.Status == "" {
		probs.add(path+".status", "required: a ServicePresenceStatus DeveloperName, or Offline")
		return false
	}
	return true
}

// checkSessionOrder checks that a session step fits the agent's session so far (browser: "open",
// "closed" or none) and tracks it, with the console a login opens and a logout or a closed
// browser closes.
func checkSessionOrder(st scenarioStep, path string, browser map[string]string, closed map[string]bool, probs *scenarioProblems) {
	a := st.Session
	state := browser[st.Agent]
	need := func(field string) {
		switch state {
		case "closed":
			probs.add(path+".session."+field, "%s closed the browser in an earlier step; a login starts a new session", st.Agent)
		case "":
			probs.add(path+".session."+field, "%s has no Salesforce session (a login step starts one)", st.Agent)
		}
	}
	switch {
	case a.Login != nil:
		browser[st.Agent], closed[st.Agent] = "open", false
	case a.Logout != nil:
		need("logout")
		browser[st.Agent], closed[st.Agent] = "", true
	case a.BrowserClosed != nil:
		need("browserClosed")
		browser[st.Agent], closed[st.Agent] = "closed", true
	case a.Activity != nil:
		need("activity")
	}
}

// loadPresenceStatuses reads the org's ServicePresenceStatus records, whose ids the console's
// UserServicePresence rows carry.
func (r *scenarioRunner) loadPresenceStatuses(ctx context.Context, sf *salesforce.Client) error {
	soql, err := salesforce.Select("Id", "DeveloperName").From("ServicePresenceStatus").Build()
	if err != nil {
		return err
	}
	for rec, err := range sf.Query(ctx, soql) {
		if err != nil {
			return fmt.Errorf("read the org's ServicePresenceStatus records: %w", err)
		}
		id, _ := rec["Id"].(string)
		name, _ := rec["DeveloperName"].(string)
		if id != "" && name != "" {
			r.presenceStatusID[name] = id
		}
	}
	return nil
}

// sessionAction plays a session step: the org's AuthSession rows change as Salesforce would
// change them, and a login or logout is pushed through the session webhook.
func (r *scenarioRunner) sessionAction(ctx context.Context, step scenarioStep) error {
	a := r.agents[step.Agent]
	org := r.st.sims.salesforce
	now := r.clock.Now()
	s := step.Session
	switch {
	case s.Login != nil:
		valid := s.Login.validSeconds()
		id, err := org.Insert("AuthSession", map[string]any{
			"UsersId": a.salesforceID, "SessionType": "UI", "LoginType": "Application", "UserType": "Standard",
			"SessionSecurityLevel": "STANDARD", "NumSecondsValid": valid, "IsCurrent": true,
			"CreatedDate": now, "LastModifiedDate": now,
		})
		if err != nil {
			return fmt.Errorf("create the AuthSession: %w", err)
		}
		a.sessions = append(a.sessions, id)
		a.consoleShut = false
		r.line("Salesforce", "%s logs in: AuthSession (UI, Application) valid %s, until %s unless refreshed; the Login Flow sends a login event",
			a.username, validFor(valid), clock(now.Add(time.Duration(valid)*time.Second)))
		return r.postSession(ctx, sfevents.SessionLogin, a)
	case s.Logout != nil:
		if err := org.Delete(a.sessions...); err != nil {
			return fmt.Errorf("delete the AuthSession rows: %w", err)
		}
		a.sessions = nil
		// Logging out of Salesforce logs the user out of Omni-Channel and closes the console.
		if err := r.setPresence(a, engine.OfflineStatus); err != nil {
			return err
		}
		a.consoleShut = true
		r.line("Salesforce", "%s logs out: AuthSession deleted, Omni-Channel presence ended, console closed; LogoutEventStream sends a logout event", a.username)
		return r.postSession(ctx, sfevents.SessionLogout, a)
	case s.BrowserClosed != nil:
		a.consoleShut = true
		r.line("Salesforce", "%s closes the browser: no logout event; the session is no longer refreshed and ends at %s; console closed",
			a.username, clock(r.sessionExpiry(a)))
		return nil
	case s.Activity != nil:
		for i, id := range a.sessions {
			nid, err := r.updateRecord(id, map[string]any{"LastModifiedDate": now})
			if err != nil {
				return fmt.Errorf("refresh the AuthSession: %w", err)
			}
			a.sessions[i] = nid
		}
		r.line("Salesforce", "%s is active: the session is refreshed, valid until %s", a.username, clock(r.sessionExpiry(a)))
		return nil
	}
	return nil
}

// sessionExpiry returns when the agent's latest session ends: LastModifiedDate + NumSecondsValid.
func (r *scenarioRunner) sessionExpiry(a *scenarioAgent) time.Time {
	var latest time.Time
	for _, id := range a.sessions {
		_, f, ok := r.st.sims.salesforce.Record(id)
		if !ok {
			continue
		}
		modified, _ := f["LastModifiedDate"].(time.Time)
		valid, _ := f["NumSecondsValid"].(float64)
		if exp := modified.Add(time.Duration(valid) * time.Second); exp.After(latest) {
			latest = exp
		}
	}
	return latest
}

// clock renders a time of the scenario's day as the steps write it.
func clock(t time.Time) string { return t.UTC().Format(time.TimeOnly) }

// sessionEvent is one event of the session webhook contract (v1), as the org's Login Flow and
// LogoutEventStream trigger send it.
type sessionEvent struct {
	Type         string `json:"type"`
	EventID      string `json:"eventId"`
	UserID       string `json:"userId"`
	EventDate    string `json:"eventDate"`
	SessionLevel string `json:"sessionLevel,omitempty"`
	LoginType    string `json:"loginType,omitempty"`
}

// postSession sends one login or logout event of the agent, dated now, through the real
// salesforce-webhook handler's session route.
func (r *scenarioRunner) postSession(ctx context.Context, typ sfevents.SessionType, a *scenarioAgent) error {
	r.sessionSeq++
	ev := sessionEvent{
		Type: string(typ), EventID: fmt.Sprintf("session-%04d", r.sessionSeq), UserID: a.salesforceID,
		EventDate: r.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"), SessionLevel: "STANDARD",
	}
	if typ == sfevents.SessionLogin {
		ev.LoginType = "Application"
	}
	return r.postWebhook(ctx, webhook.SessionPath, []sessionEvent{ev})
}

// updateRecord changes fields of an sfsim record from Go, as an update through the API would
// (LastModifiedDate and SystemModstamp move to now unless given), keeping its id, which it
// returns. sfsim has no update from Go, so the record is deleted and inserted again.
func (r *scenarioRunner) updateRecord(id string, changes map[string]any) (string, error) {
	org := r.st.sims.salesforce
	typ, f, ok := org.Record(id)
	if !ok {
		return "", fmt.Errorf("no record %s", id)
	}
	now := r.clock.Now()
	f["LastModifiedDate"], f["SystemModstamp"] = now, now
	maps.Copy(f, changes)
	if err := org.Delete(id); err != nil {
		return "", err
	}
	return org.Insert(typ, f)
}

// setPresence records an Omni-Channel status change of the agent in the org, as Salesforce does:
// the current UserServicePresence row ends (IsCurrentState false, StatusEndDate now) and, unless
// the status is Offline, a new current row begins. The same status again changes nothing, and a
// status the org does not know has no row.
func (r *scenarioRunner) setPresence(a *scenarioAgent, status string) error {
	if a.salesforceID == "" || status == a.presenceStatus {
		return nil
	}
	statusID, known := r.presenceStatusID[status]
	if !known && status != engine.OfflineStatus {
		return nil
	}
	org := r.st.sims.salesforce
	now := r.clock.Now()
	if a.presenceRow != "" {
		_, f, _ := org.Record(a.presenceRow)
		start, _ := f["StatusStartDate"].(time.Time)
		if _, err := r.updateRecord(a.presenceRow, map[string]any{
			"IsCurrentState": false, "StatusEndDate": now, "StatusDuration": int(now.Sub(start) / time.Second),
		}); err != nil {
			return fmt.Errorf("end the UserServicePresence row: %w", err)
		}
		a.presenceRow = ""
	}
	a.presenceStatus = status
	if status == engine.OfflineStatus {
		return nil
	}
	id, err := org.Insert("UserServicePresence", map[string]any{
		"UserId": a.salesforceID, "OwnerId": a.salesforceID, "ServicePresenceStatusId": statusID,
		"IsCurrentState": true, "StatusStartDate": now, "StatusEndDate": nil,
	})
	if err != nil {
		return fmt.Errorf("insert the UserServicePresence row: %w", err)
	}
	a.presenceRow = id
	return nil
}

// omniAction changes the agent's Omni-Channel status in the org without the console's push:
// only the poll's reconciliation can notice it.
func (r *scenarioRunner) omniAction(step scenarioStep) error {
	a := r.agents[step.Agent]
	status := *step.Omni.Status
	was := a.presenceStatus
	if was == "" {
		was = engine.OfflineStatus
	}
	if was == status {
		r.line("console", "%s is already %s in Omni-Channel: nothing changes", a.username, status)
		return nil
	}
	if err := r.setPresence(a, status); err != nil {
		return err
	}
	r.line("console", "%s switches Omni-Channel from %s to %s: the org records it (UserServicePresence); no presence webhook is sent", a.username, was, status)
	return nil
}

// runPoll runs the session-poll handler, as its schedule would at the current time, and prints
// its report.
func (r *scenarioRunner) runPoll(ctx context.Context) error {
	now := r.clock.Now()
	rep, err := r.poll(ctx, events.EventBridgeEvent{
		Version: "0", ID: fmt.Sprintf("session-poll-%d", now.Unix()), DetailType: "Scheduled Event", Source: "aws.scheduler",
		Time: now, Region: r.st.sims.connect.Region(), Detail: json.RawMessage("{}"),
	})
	r.line("poll", "%s", pollSummary(rep))
	if err != nil {
		r.line("poll", "failed: %v", err)
	}
	return nil
}

// pollSummary renders a session poll's report on one line.
func pollSummary(rep sessionsync.Report) string {
	if rep.Disabled {
		return "session-driven availability is disabled in the config; nothing read"
	}
	d := rep.Delivered
	s := fmt.Sprintf("%d AuthSession row(s), %d user(s) with a valid session, %d stored; toggled on %d, off %d, left off %d; %d presence row(s) → %d presence event(s); %d toggle call(s)",
		rep.SessionRows, rep.ActiveUsers, rep.StoredUsers, rep.ToggledOn, rep.ToggledOff, rep.LeftOff, rep.PresenceRows, rep.PresenceEvents, d.ToggleCalls)
	if rep.NotRelevant > 0 {
		s += fmt.Sprintf(", %d user(s) no longer relevant", rep.NotRelevant)
	}
	if d.Failed > 0 {
		s += fmt.Sprintf(", %d delivery(ies) failed (kept for the next run)", d.Failed)
	}
	return s
}

// sessionDetails is the part of a session audit entry's details the timeline shows.
type sessionDetails struct {
	Kind    session.Kind     `json:"kind"`
	Reason  string           `json:"reason"`
	Actions []session.Action `json:"actions"`
}

// isSessionEntry reports whether an audit entry is session-driven availability's (sessionsync's:
// decisions, failed or requeued deliveries, users leaving the relevant set) rather than the
// presence engine's. Both write under user/<Salesforce user id>; the engine's entries always
// carry the config version they were decided with.
func isSessionEntry(e audit.Entry) bool {
	kind, _, _ := strings.Cut(e.Subject, "/")
	_, fromEngine := e.Details["configVersion"]
	return kind == audit.KindUser && !fromEngine
}

// sessionRank orders audit entries of the same time: session decisions (0) first.
func sessionRank(e audit.Entry) int {
	if isSessionEntry(e) {
		return 0
	}
	return 1
}

// printSessionDecision prints a session decision: its outcome and reason, what was seen, and the
// action for each target.
func (r *scenarioRunner) printSessionDecision(e audit.Entry) {
	var d sessionDetails
	if raw, err := json.Marshal(e.Details); err == nil {
		_ = json.Unmarshal(raw, &d)
	}
	who := ""
	if kind, id, _ := strings.Cut(e.Subject, "/"); kind == audit.KindUser {
		if a := r.bySF[sfsim.CaseSafeID(id)]; a != nil {
			who = a.username + " "
		} else {
			who = "Salesforce user " + id + " "
		}
	}
	head := d.Reason
	if head == "" {
		head = firstSentence(e.Message)
	}
	r.line("session", "%s%s: %s", who, e.Outcome, head)
	explanation := e.Message
	if !r.opts.explain && len(d.Actions) > 0 {
		// The actions follow, one a line.
		for _, verb := range []string{"; switched on: ", "; switched off: ", "; switched back on (manualOverride=reassert): "} {
			if i := strings.Index(explanation, verb); i >= 0 {
				explanation = explanation[:i]
			}
		}
	}
	if explanation != head {
		r.more("%s", explanation)
	}
	for _, a := range d.Actions {
		what := a.Status
		if a.Target == session.TargetDistribution {
			what = map[bool]string{true: "online", false: "offline"}[a.Online]
		}
		r.more("→ %s %s", a.Target, what)
	}
}

// printToggles lists the inputs the distribution toggle (the invocable action) received since
// the last call.
func (r *scenarioRunner) printToggles() {
	rec := r.st.sims.toggles
	if rec == nil {
		return
	}
	t := r.st.sims.toggle
	ins := rec.Inputs()
	for _, in := range ins[min(r.seenToggles, len(ins)):] {
		id, _ := in[t.UserIDField].(string)
		who := id
		if a := r.bySF[sfsim.CaseSafeID(id)]; a != nil {
			who = a.username
		}
		state := fmt.Sprint(in[t.OnlineField])
		if on, ok := in[t.OnlineField].(bool); ok {
			state = map[bool]string{true: "online", false: "offline"}[on]
		}
		r.line("toggle", "%s: %s %s, reason %q", t.Action, who, state, in[t.ReasonField])
	}
	r.seenToggles = len(ins)
}

// sessionHeader describes the config's session section, for scenarios that use it.
func (r *scenarioRunner) sessionHeader() string {
	s := r.cfg.EffectiveSession()
	if !s.Enabled {
		return "session-driven availability disabled"
	}
	var targets []string
	if t := s.Targets.Distribution; t.Enabled {
		targets = append(targets, "distribution "+t.Action)
	}
	if t := s.Targets.OmniChannel; t.Enabled {
		on := "Offline on logout"
		if t.OnLoginStatus != "" {
			on = t.OnLoginStatus + " on login, " + on
		}
		targets = append(targets, "omniChannel ("+on+")")
	}
	if t := s.Targets.Connect; t.Enabled {
		targets = append(targets, "connect ("+t.OnLogoutStatus+" on logout)")
	}
	return fmt.Sprintf("session: %s; manual override %s; sessions %s/%s", strings.Join(targets, ", "), cmp.Or(s.ManualOverride, config.ManualOverrideRespect),
		strings.Join(s.SessionTypes, ","), strings.Join(s.LoginTypes, ","))
}

// usesSessions reports whether the scenario has session, omni or poll steps.
func (sc *scenario) usesSessions() bool {
	return slices.ContainsFunc(sc.Steps, func(st scenarioStep) bool { return st.Session != nil || st.Omni != nil || st.Poll })
}
