// Package routingsync is the shell around package routing: it applies case webhook events,
// follows the contact events of the tasks it created, and sweeps the backlog of open cases in
// monitored queues, turning routing's decisions into Amazon Connect tasks (StartTaskContact with
// a ClientToken derived from the cause), stopped tasks, case write-backs
// (Omnibridge_Routing_Status__c, Omnibridge_Connect_Contact_Id__c, OwnerId) and screen pops.
//
// Exactly once: an attempt is claimed in the case's routing entry (a conditional write) before
// its task is started, under the attempt's idempotency key; a retry of the same cause (a webhook
// redelivered after a 503, a Lambda retry, the sweep finding an attempt that never got its task)
// reuses the key, and Connect answers a repeated ClientToken with the task it already created.
// Two different causes for one case cannot both start tasks: the second finds the case live.
package routingsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/connect"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/routing"
	"github.com/omnibridge/omnibridge/shared/screenpop"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// The Case fields the bridge writes back (infra/salesforce objects/Case/fields).
const (
	FieldRoutingStatus    = "Omnibridge_Routing_Status__c"
	FieldConnectContactID = "Omnibridge_Connect_Contact_Id__c"
	FieldOwnerID          = "OwnerId"
)

// Store is the table (*dynamo.Store).
type Store interface {
	GetRouting(ctx context.Context, caseID string) (dynamo.RoutingRecord, error)
	PutRouting(ctx context.Context, e routing.Entry, expectedVersion int64) (int64, error)
	PutRoutingTask(ctx context.Context, contactID, caseID string) error
	RoutingTaskCase(ctx context.Context, contactID string) (string, error)
	GetSweepCursor(ctx context.Context) (dynamo.SweepCursor, error)
	PutSweepCursor(ctx context.Context, c dynamo.SweepCursor) error
	PutRoutingCatalog(ctx context.Context, c dynamo.RoutingCatalog) error
	Seen(ctx context.Context, key string) (bool, error)
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
	AppendAudit(ctx context.Context, e audit.Entry, retention time.Duration) error
}

var _ Store = (*dynamo.Store)(nil)

// Tasks is Amazon Connect (*connect.Client).
type Tasks interface {
	StartTask(ctx context.Context, t connect.Task) (string, error)
	StopContact(ctx context.Context, contactID string) error
	PredefinedAttributeValues(ctx context.Context, name string) ([]string, error)
}

var _ Tasks = (*connect.Client)(nil)

// CaseRow is one open case the backlog sweep found.
type CaseRow struct {
	ID          string
	Number      string
	Subject     string
	Priority    string
	OwnerID     string
	Skills      string
	CreatedDate time.Time
}

// Org is the Salesforce side (package app implements it over the Salesforce client).
type Org interface {
	// QueueIDs resolves queue DeveloperNames (case-sensitive) to Group ids; names without a
	// queue are absent from the result.
	QueueIDs(ctx context.Context, developerNames []string) (map[string]string, error)
	// UpdateCase writes fields on a case.
	UpdateCase(ctx context.Context, caseID string, fields map[string]any) error
	// UpdateCases writes fields on up to 200 cases in one call (sObject Collections), returning
	// one error per update (nil: saved); a non-nil second result means the call failed whole.
	UpdateCases(ctx context.Context, updates []CaseUpdate) ([]error, error)
	// OpenCases returns at most limit open cases owned by one of queueIDs, created after the
	// cursor (by CreatedDate, then Id), oldest first, with the skills field's value.
	OpenCases(ctx context.Context, queueIDs []string, skillsField string, after dynamo.SweepCursor, limit int) ([]CaseRow, error)
	// PublishScreenPop publishes one Omnibridge_Screen_Pop__e.
	PublishScreenPop(ctx context.Context, p screenpop.Pop) error
	// CaseURL is the case's record page, linked from the task.
	CaseURL(ctx context.Context, caseID string) (string, error)
}

// CaseUpdate is one case's write-back.
type CaseUpdate struct {
	CaseID string
	Fields map[string]any
}

// Identity resolves the Salesforce user of a Connect agent (*engine.Engine).
type Identity interface {
	SalesforceUserOf(ctx context.Context, connectUserID string) (string, bool, error)
}

var _ Identity = (*engine.Engine)(nil)

// Deps are the service's collaborators; all are required.
type Deps struct {
	Store    Store
	Configs  engine.Configs
	Tasks    Tasks
	Org      Org
	Identity Identity
}

// Options tune the service.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives failures that do not change an outcome; nil discards.
	Logger *slog.Logger
	// CatalogTTL is how long the queue ids and the skills list are cached; DefaultCatalogTTL
	// when zero.
	CatalogTTL time.Duration
	// SweepConcurrency is how many cases the sweep routes at once; DefaultSweepConcurrency when
	// zero. Connect's rate limit, applied by the Connect client, bounds the task starts anyway.
	SweepConcurrency int
	// SweepPage is how many cases one backlog query reads; DefaultSweepPage when zero.
	SweepPage int
}

// Defaults for Options.
const (
	DefaultCatalogTTL       = 5 * time.Minute
	DefaultSweepConcurrency = 8
	// DefaultSweepPage is how many cases one sweep query reads (SOQL returns up to 2,000 a page;
	// 200 keeps a page's routing short enough to checkpoint often).
	DefaultSweepPage = 200
	// conflictRetries bounds reload-and-decide rounds after a concurrent write.
	conflictRetries = 5
	// eventMarkTTL keeps processed webhook event ids past Salesforce's redelivery window.
	eventMarkTTL = 48 * time.Hour
)

// Outcomes of case events and sweep items, as reported to the webhook and audited.
const (
	OutcomeRouted    = "routed"
	OutcomeStopped   = "stopped"
	OutcomeIgnored   = "ignored"
	OutcomeHeld      = "held"
	OutcomeFailed    = "failed"
	OutcomeDuplicate = "duplicate"
	OutcomeDisabled  = "disabled"
)

// Result is what the service did with one case event.
type Result struct {
	Outcome string
	Detail  string
	// ContactID is the task a route created (or found).
	ContactID string
}

// Service routes cases. Safe for concurrent use.
type Service struct {
	d    Deps
	opts Options

	mu      sync.Mutex
	catalog catalog
}

// catalog caches what routing looks up in both systems, per config version.
type catalog struct {
	version  int64
	at       time.Time
	queueIDs map[string]string // DeveloperName → Group id
	queueOf  map[string]string // Group id → DeveloperName
	skills   map[string]bool
	skillErr error // the skills list's lookup failure, reported as a skills problem
}

// New returns the service.
func New(d Deps, o Options) (*Service, error) {
	if d.Store == nil || d.Configs == nil || d.Tasks == nil || d.Org == nil || d.Identity == nil {
		return nil, errors.New("routingsync: every dependency is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CatalogTTL <= 0 {
		o.CatalogTTL = DefaultCatalogTTL
	}
	if o.SweepConcurrency <= 0 {
		o.SweepConcurrency = DefaultSweepConcurrency
	}
	if o.SweepPage <= 0 {
		o.SweepPage = DefaultSweepPage
	}
	return &Service{d: d, opts: o}, nil
}

// current returns the compiled config and the catalog for it.
func (s *Service) current(ctx context.Context) (*engine.Compiled, *catalog, error) {
	cfg, err := s.d.Configs.Current(ctx)
	if err != nil {
		return nil, nil, err
	}
	now := s.opts.Now()
	s.mu.Lock()
	c := s.catalog
	s.mu.Unlock()
	if c.queueIDs != nil && c.version == cfg.Version && now.Sub(c.at) < s.opts.CatalogTTL {
		return cfg, &c, nil
	}
	r := cfg.Routing
	names := make([]string, len(r.Queues))
	for i, q := range r.Queues {
		names[i] = q.SalesforceQueue
	}
	ids, err := s.d.Org.QueueIDs(ctx, names)
	if err != nil {
		return nil, nil, err
	}
	c = catalog{version: cfg.Version, at: now, queueIDs: ids, queueOf: make(map[string]string, len(ids)), skills: map[string]bool{}}
	for name, id := range ids {
		c.queueOf[id] = name
	}
	vals, err := s.d.Tasks.PredefinedAttributeValues(ctx, r.SkillAttribute)
	switch {
	case apperr.Is(err, apperr.NotFound):
		c.skillErr = &routing.SkillsError{Reason: fmt.Sprintf("Connect has no predefined attribute %q (routing.skillAttribute)", r.SkillAttribute)}
	case err != nil:
		return nil, nil, err
	}
	for _, v := range vals {
		c.skills[v] = true
	}
	s.mu.Lock()
	s.catalog = c
	s.mu.Unlock()
	stored := dynamo.RoutingCatalog{ConfigVersion: cfg.Version, QueueIDs: ids, Skills: vals, SkillsMissing: c.skillErr != nil, ResolvedAt: now}
	if err := s.d.Store.PutRoutingCatalog(ctx, stored); err != nil {
		s.opts.Logger.WarnContext(ctx, "routing catalog not stored for the simulator", "error", err)
	}
	return cfg, &c, nil
}

// queues is routing.Queues over the catalog.
func (c *catalog) queues(ownerID string) (string, bool) {
	name, ok := c.queueOf[ownerID]
	return name, ok
}

// parseSkills applies the skills rules with the catalog's skills.
func (c *catalog) parseSkills(raw string) ([]string, error) {
	if c.skillErr != nil && strings.TrimSpace(raw) != "" {
		return nil, c.skillErr
	}
	return routing.ParseSkills(raw, func(s string) bool { return c.skills[s] })
}

// caseOf is the case data an attempt needs.
type caseOf struct {
	routing.Case
	Skills string
}

// ProcessCase applies one case webhook event. It is idempotent by event id: a redelivered event
// answers "duplicate" and does nothing; an event whose processing failed part way is redone with
// the same idempotency key, so the task it may already have created is found, not doubled.
func (s *Service) ProcessCase(ctx context.Context, ev sfevents.CaseEvent) (Result, error) {
	cfg, cat, err := s.current(ctx)
	if err != nil {
		return Result{}, err
	}
	if !cfg.Routing.Enabled {
		return Result{Outcome: OutcomeDisabled, Detail: "case routing is not enabled (routing.enabled)"}, nil
	}
	mark := "case-event#" + ev.ID
	if seen, err := s.d.Store.Seen(ctx, mark); err != nil {
		return Result{}, err
	} else if seen {
		return Result{Outcome: OutcomeDuplicate, Detail: "event " + ev.ID + " was already processed"}, nil
	}
	c := caseOf{Case: routing.Case{ID: ev.CaseID, Number: ev.CaseNumber, Subject: ev.Subject, Priority: ev.Priority}, Skills: ev.Skills}
	var res Result
	for attempt := 0; ; attempt++ {
		rec, err := s.load(ctx, ev.CaseID)
		if err != nil {
			return Result{}, err
		}
		var entry *routing.Entry
		if rec.Version > 0 {
			entry = &rec.Entry
		}
		d := routing.DecideCase(ev, entry, cfg.Routing, cat.queues)
		if entry != nil && entry.AttemptKey == routing.EventKey(ev) && entry.State.Live() {
			// This event already claimed an attempt (an earlier delivery failed part way):
			// finish it with the same key.
			d = routing.Decision{Action: routing.ActionRoute, Reason: entry.Reason, Key: entry.AttemptKey, Detail: "resuming the attempt of an earlier delivery"}
			d.Queue, _ = cfg.Routing.Queue(entry.Queue)
		}
		res, err = s.apply(ctx, cfg, cat, c, d, rec, ev.ID)
		if apperr.Is(err, apperr.Conflict) && attempt < conflictRetries {
			continue
		}
		if err != nil {
			return res, err
		}
		break
	}
	if _, err := s.d.Store.Claim(ctx, mark, eventMarkTTL); err != nil {
		s.opts.Logger.WarnContext(ctx, "case event processed but not marked", "eventId", ev.ID, "error", err)
	}
	return res, nil
}

func (s *Service) load(ctx context.Context, caseID string) (dynamo.RoutingRecord, error) {
	rec, err := s.d.Store.GetRouting(ctx, caseID)
	if apperr.Is(err, apperr.NotFound) {
		return dynamo.RoutingRecord{Entry: routing.Entry{CaseID: caseID}}, nil
	}
	return rec, err
}

// apply carries out one decision on the case whose stored entry is rec.
func (s *Service) apply(ctx context.Context, cfg *engine.Compiled, cat *catalog, c caseOf, d routing.Decision, rec dynamo.RoutingRecord, eventID string) (Result, error) {
	switch d.Action {
	case routing.ActionRoute:
		return s.route(ctx, cfg, cat, c, d, rec, eventID, s.writeBack)
	case routing.ActionStop:
		return s.stop(ctx, cfg, rec, d.Detail, eventID)
	}
	res := Result{Outcome: OutcomeIgnored, Detail: d.Detail}
	s.audit(ctx, cfg, c.ID, eventID, res, nil)
	return res, nil
}

// route starts (or resumes) an attempt for the case: skills, claim, task, index, write-back.
// writeBacker writes routing fields on a case: Service.writeBack at once, or the sweep's batch.
type writeBacker func(ctx context.Context, caseID string, fields map[string]any) error

func (s *Service) route(ctx context.Context, cfg *engine.Compiled, cat *catalog, c caseOf, d routing.Decision, rec dynamo.RoutingRecord, eventID string, wb writeBacker) (Result, error) {
	e := rec.Entry
	now := s.opts.Now()
	resuming := e.AttemptKey == d.Key && e.State.Live()
	if resuming && e.ContactID != "" {
		// The task exists; only the write-back may be missing.
		res := Result{Outcome: OutcomeRouted, Detail: "task " + e.ContactID + " already created for this attempt", ContactID: e.ContactID}
		return res, wb(ctx, c.ID, map[string]any{FieldRoutingStatus: statusFor(e.State), FieldConnectContactID: e.ContactID})
	}
	skills, skillsErr := cat.parseSkills(c.Skills)
	var se *routing.SkillsError
	if skillsErr != nil && !errors.As(skillsErr, &se) {
		return Result{}, skillsErr
	}
	skillsNote := ""
	if se != nil {
		if cfg.Routing.InvalidSkills != config.InvalidSkillsRouteWithout {
			return s.hold(ctx, cfg, rec, c, d, se, eventID, wb)
		}
		skillsNote = "; routed without skills: " + se.Reason
	}
	if d.StopFirst && e.State == routing.StateRouting && e.ContactID == "" && !resuming {
		// As in stop: the live attempt's task may be starting; moving the case now would orphan it.
		return Result{}, apperr.New(apperr.Unavailable, "case %s has a routing attempt whose task is not known yet; retry", e.CaseID)
	}
	if d.StopFirst && e.State.Live() && e.ContactID != "" {
		if err := s.stopTask(ctx, e.ContactID); err != nil {
			return Result{}, err
		}
	}
	version := rec.Version
	if !resuming {
		e.CaseNumber, e.Subject, e.Priority = c.Number, c.Subject, c.Priority
		e.Reason, e.AttemptKey, e.Queue, e.Skills = d.Reason, d.Key, d.Queue.SalesforceQueue, c.Skills
		e.ContactID, e.AgentID, e.AgentUserID = "", "", ""
		e.Record(now, routing.StateRouting, d.Detail+skillsNote)
		v, err := s.d.Store.PutRouting(ctx, e, version)
		if err != nil {
			return Result{}, err
		}
		version = v
	}
	caseURL, err := s.d.Org.CaseURL(ctx, c.ID)
	if err != nil {
		return Result{}, err
	}
	spec, err := routing.BuildTask(c.Case, e.Reason, d.Queue, skills, cfg.Routing, caseURL)
	if err != nil {
		return Result{}, apperr.Wrap(apperr.Internal, err, "build task")
	}
	task := connect.Task{
		IdempotencyKey: e.AttemptKey, ContactFlowID: d.Queue.ContactFlowID, Name: spec.Name, Description: spec.Description,
		Attributes: spec.Attributes,
	}
	if spec.CaseURL != "" {
		task.References = map[string]connect.Reference{"Case": {Type: "URL", Value: spec.CaseURL}}
	}
	contactID, err := s.d.Tasks.StartTask(ctx, task)
	if err != nil {
		if apperr.Retryable(err) {
			return Result{}, err // the claimed attempt stays; a retry resumes it with the same key
		}
		e.Record(s.opts.Now(), routing.StateFailed, "Connect refused the task: "+apperr.MessageOf(err))
		if _, perr := s.d.Store.PutRouting(ctx, e, version); perr != nil {
			return Result{}, perr
		}
		res := Result{Outcome: OutcomeFailed, Detail: e.Detail}
		s.audit(ctx, cfg, c.ID, eventID, res, map[string]any{"queue": e.Queue, "reason": e.Reason})
		return res, wb(ctx, c.ID, map[string]any{FieldRoutingStatus: truncate("Failed: " + apperr.MessageOf(err))})
	}
	if err := s.d.Store.PutRoutingTask(ctx, contactID, c.ID); err != nil {
		return Result{}, err
	}
	e.ContactID = contactID
	e.Tasks++
	e.Record(s.opts.Now(), routing.StateRouted, fmt.Sprintf("task %s in Connect queue %s", contactID, d.Queue.ConnectQueueID))
	if _, err := s.d.Store.PutRouting(ctx, e, version); err != nil {
		// The task exists and its index names the case: the contact events still find it, and a
		// retry resumes this attempt (the same ClientToken returns the same task).
		return Result{}, err
	}
	res := Result{Outcome: OutcomeRouted, Detail: d.Detail + skillsNote, ContactID: contactID}
	s.audit(ctx, cfg, c.ID, eventID, res, map[string]any{"queue": e.Queue, "reason": e.Reason, "skills": skills, "contactId": contactID})
	return res, wb(ctx, c.ID, map[string]any{FieldRoutingStatus: "Routed", FieldConnectContactID: contactID})
}

// hold records that the case is not routed because of its skills.
func (s *Service) hold(ctx context.Context, cfg *engine.Compiled, rec dynamo.RoutingRecord, c caseOf, d routing.Decision, se *routing.SkillsError, eventID string, wb writeBacker) (Result, error) {
	e := rec.Entry
	e.CaseNumber, e.Subject, e.Priority = c.Number, c.Subject, c.Priority
	e.Reason, e.Queue, e.Skills, e.AttemptKey = d.Reason, d.Queue.SalesforceQueue, c.Skills, ""
	e.Record(s.opts.Now(), routing.StateHeld, se.Reason)
	if _, err := s.d.Store.PutRouting(ctx, e, rec.Version); err != nil {
		return Result{}, err
	}
	res := Result{Outcome: OutcomeHeld, Detail: "not routed: " + se.Reason}
	s.audit(ctx, cfg, c.ID, eventID, res, map[string]any{"skills": c.Skills})
	return res, wb(ctx, c.ID, map[string]any{FieldRoutingStatus: truncate("Skills invalid: " + se.Reason)})
}

// stop stops the case's live task.
func (s *Service) stop(ctx context.Context, cfg *engine.Compiled, rec dynamo.RoutingRecord, detail, eventID string) (Result, error) {
	e := rec.Entry
	if e.State == routing.StateRouting && e.ContactID == "" {
		// The attempt's task may be starting right now: marking the entry stopped would let the
		// attempt's retry start it after the reply. Fail retryably; the sender retries once the
		// attempt has its task, which is then stopped.
		return Result{}, apperr.New(apperr.Unavailable, "case %s has a routing attempt whose task is not known yet; retry", e.CaseID)
	}
	if e.ContactID != "" {
		if err := s.stopTask(ctx, e.ContactID); err != nil {
			return Result{}, err
		}
	}
	e.Record(s.opts.Now(), routing.StateStopped, detail)
	if _, err := s.d.Store.PutRouting(ctx, e, rec.Version); err != nil {
		return Result{}, err
	}
	res := Result{Outcome: OutcomeStopped, Detail: detail, ContactID: e.ContactID}
	s.audit(ctx, cfg, e.CaseID, eventID, res, map[string]any{"contactId": e.ContactID})
	return res, s.writeBack(ctx, e.CaseID, map[string]any{FieldRoutingStatus: "Stopped"})
}

// stopTask stops a task; one that has already ended counts as stopped.
func (s *Service) stopTask(ctx context.Context, contactID string) error {
	err := s.d.Tasks.StopContact(ctx, contactID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	return err
}

// writeBack writes routing fields on the case. A final failure (a field the integration user
// may not edit, a deleted case) is logged and audited by the caller's outcome, not retried: the
// routing itself succeeded. A retryable one fails the event so it is redone.
func (s *Service) writeBack(ctx context.Context, caseID string, fields map[string]any) error {
	err := s.d.Org.UpdateCase(ctx, caseID, fields)
	if err != nil && !apperr.Retryable(err) {
		s.opts.Logger.WarnContext(ctx, "case write-back refused", "caseId", caseID, "error", err)
		return nil
	}
	return err
}

func (s *Service) audit(ctx context.Context, cfg *engine.Compiled, caseID, eventID string, res Result, details map[string]any) {
	id := eventID
	if id == "" {
		id = fmt.Sprintf("%d", s.opts.Now().UnixNano())
	}
	e := audit.Entry{Subject: audit.Subject(audit.KindCase, caseID), Time: s.opts.Now(), ID: id, EventID: eventID,
		Outcome: res.Outcome, Message: res.Detail, Details: details}
	if err := s.d.Store.AppendAudit(ctx, e, cfg.Retention()); err != nil {
		s.opts.Logger.WarnContext(ctx, "routing audit not written", "caseId", caseID, "error", err)
	}
}

// statusFor is the routing status the case shows for a state.
func statusFor(st routing.State) string {
	switch st {
	case routing.StateConnected:
		return "Connected"
	case routing.StateCompleted:
		return "Completed"
	case routing.StateStopped:
		return "Stopped"
	case routing.StateFailed:
		return "Failed"
	}
	return "Routed"
}

// truncate keeps a status within its Text(255) field.
func truncate(s string) string {
	if r := []rune(s); len(r) > 255 {
		return string(r[:254]) + "…"
	}
	return s
}

// Case returns a case's routing entry (GET /routing/cases/{id}); apperr.NotFound when the case
// was never routed.
func (s *Service) Case(ctx context.Context, caseID string) (routing.Entry, error) {
	return Reader{store: s.d.Store}.Case(ctx, caseID)
}

// Reader reads routing entries for the admin API, which needs no Connect or Salesforce client.
type Reader struct {
	store interface {
		GetRouting(ctx context.Context, caseID string) (dynamo.RoutingRecord, error)
	}
}

// NewReader returns a Reader over the table.
func NewReader(store *dynamo.Store) Reader { return Reader{store: store} }

// Case returns a case's routing entry; apperr.NotFound when the case was never routed.
func (r Reader) Case(ctx context.Context, caseID string) (routing.Entry, error) {
	rec, err := r.store.GetRouting(ctx, caseID)
	return rec.Entry, err
}
