package routingsync

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/routing"
)

// SweepReport is what one backlog sweep did.
type SweepReport struct {
	// Scanned counts the open cases read from monitored queues.
	Scanned int `json:"scanned"`
	// Routed, Held and Failed count the cases routed, held for their skills, and refused by
	// Connect; Skipped the cases that have a task or need none.
	Routed  int `json:"routed"`
	Held    int `json:"held"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	// Errors counts cases left for the next run after a failure a retry may fix.
	Errors int `json:"errors"`
	// WriteBackCalls counts the Salesforce calls that wrote the cases' routing status (one per
	// page of up to 200 cases); WriteBackErrors the case statuses that could not be written (the
	// routing itself stands; the status shows again at the task's next change).
	WriteBackCalls  int `json:"writeBackCalls"`
	WriteBackErrors int `json:"writeBackErrors"`
	// Complete is true when the sweep reached the newest case, so the next run starts again
	// from the oldest; false when it stopped at routing.sweepBatch or its deadline, and the
	// next run resumes after the last case it read.
	Complete bool `json:"complete"`
	// FromStart is true when the sweep began at the oldest case (the previous one completed), so
	// a complete sweep from the start has seen the whole backlog.
	FromStart bool `json:"fromStart"`
	// Disabled is true when routing is not enabled; nothing was read.
	Disabled bool `json:"disabled,omitempty"`
	// MissingQueues lists configured queues Salesforce has no queue for.
	MissingQueues []string `json:"missingQueues,omitempty"`
}

// outcomeDeferred is a sweep item that needed a route after the run's budget was spent.
const outcomeDeferred = "deferred"

// sweepReserve is the time a sweep leaves before its context's deadline: it stops taking cases
// and saves its cursor, so a Lambda timeout never loses a page's progress.
const sweepReserve = 20 * time.Second

// Sweep routes the backlog: open cases in monitored queues that have no task and need one
// (routing.NeedsSweep), oldest first, at most routing.sweepBatch cases routed per run, resuming
// after the last case the previous run read. Every attempt's key derives from the case and its
// task count (routing.SweepKey), so two sweeps over the same backlog create one task per case,
// and a sweep that races a webhook for a new case loses to the case's live entry.
func (s *Service) Sweep(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	cfg, cat, err := s.current(ctx)
	if err != nil {
		return rep, err
	}
	r := cfg.Routing
	if !r.Enabled {
		rep.Disabled = true
		return rep, nil
	}
	var ids []string
	for _, q := range r.Queues {
		if id, ok := cat.queueIDs[q.SalesforceQueue]; ok {
			ids = append(ids, id)
		} else {
			rep.MissingQueues = append(rep.MissingQueues, q.SalesforceQueue)
		}
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		rep.Complete = true
		return rep, nil
	}
	cursor, err := s.d.Store.GetSweepCursor(ctx)
	if err != nil {
		return rep, err
	}
	rep.FromStart = cursor == (dynamo.SweepCursor{})
	budget := r.SweepBatch
	for budget > 0 && !s.nearDeadline(ctx) {
		rows, err := s.d.Org.OpenCases(ctx, ids, r.SkillsField, cursor, s.opts.SweepPage)
		if err != nil {
			return rep, err
		}
		if len(rows) == 0 {
			rep.Complete = true
			cursor = dynamo.SweepCursor{}
			break
		}
		n := s.sweepRows(ctx, cfg, cat, rows, &budget, &rep)
		if n == 0 {
			break // the budget or the deadline ran out before this page's first case
		}
		last := rows[n-1]
		cursor = dynamo.SweepCursor{CreatedDate: last.CreatedDate, CaseID: last.ID}
		if err := s.d.Store.PutSweepCursor(ctx, cursor); err != nil {
			return rep, err
		}
		if len(rows) < s.opts.SweepPage && n == len(rows) {
			rep.Complete = true
			cursor = dynamo.SweepCursor{}
			break
		}
	}
	if rep.Complete {
		if err := s.d.Store.PutSweepCursor(ctx, dynamo.SweepCursor{}); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (s *Service) nearDeadline(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < sweepReserve
}

// sweepRows routes the cases of one page that need it, SweepConcurrency at a time, until the
// budget of routes is spent, and returns how many rows it took (a prefix of rows: the cursor
// moves past exactly those).
func (s *Service) sweepRows(ctx context.Context, cfg *engine.Compiled, cat *catalog, rows []CaseRow, budget *int, rep *SweepReport) int {
	var mu sync.Mutex
	var updates []CaseUpdate
	collect := func(_ context.Context, caseID string, fields map[string]any) error {
		mu.Lock()
		defer mu.Unlock()
		updates = append(updates, CaseUpdate{CaseID: caseID, Fields: fields})
		return nil
	}
	defer func() { s.flushWriteBacks(ctx, updates, rep) }()
	spend := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if *budget <= 0 {
			return false
		}
		*budget--
		return true
	}
	// deferred marks rows that needed a route when the budget had run out (spent by rows running
	// at the same time): the cursor stops before the first of them, so the next run takes it.
	deferred := make([]bool, len(rows))
	sem := make(chan struct{}, s.opts.SweepConcurrency)
	var wg sync.WaitGroup
	taken := 0
	for i, row := range rows {
		mu.Lock()
		stop := *budget <= 0 || s.nearDeadline(ctx)
		mu.Unlock()
		if stop {
			break
		}
		taken++
		sem <- struct{}{}
		wg.Add(1)
		go func(i int, row CaseRow) {
			defer func() { <-sem; wg.Done() }()
			outcome, err := s.sweepCase(ctx, cfg, cat, row, collect, spend)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				rep.Errors++
				s.opts.Logger.WarnContext(ctx, "sweep: case left for the next run", "caseId", row.ID, "error", err)
			case outcome == outcomeDeferred:
				deferred[i] = true
			case outcome == OutcomeRouted:
				rep.Routed++
			case outcome == OutcomeHeld:
				rep.Held++
			case outcome == OutcomeFailed:
				rep.Failed++
			default:
				rep.Skipped++
			}
		}(i, row)
	}
	wg.Wait()
	for i := range taken {
		if deferred[i] {
			taken = i
			break
		}
	}
	rep.Scanned += taken
	return taken
}

// sweepCase routes one open case if it needs it; spend takes one route from the run's budget.
func (s *Service) sweepCase(ctx context.Context, cfg *engine.Compiled, cat *catalog, row CaseRow, wb writeBacker, spend func() bool) (string, error) {
	q, ok := cat.queueOf[row.OwnerID]
	if !ok {
		return OutcomeIgnored, nil
	}
	mapping, ok := cfg.Routing.Queue(q)
	if !ok {
		return OutcomeIgnored, nil
	}
	c := caseOf{Case: routing.Case{ID: row.ID, Number: row.Number, Subject: row.Subject, Priority: row.Priority}, Skills: row.Skills}
	for attempt := 0; ; attempt++ {
		rec, err := s.load(ctx, row.ID)
		if err != nil {
			return "", err
		}
		var entry *routing.Entry
		if rec.Version > 0 {
			entry = &rec.Entry
		}
		if !routing.NeedsSweep(entry, row.Skills) {
			return OutcomeIgnored, nil
		}
		key := routing.SweepKey(row.ID, entry)
		reason := routing.ReasonBacklog
		if entry != nil && entry.State == routing.StateRouting {
			key, reason = entry.AttemptKey, entry.Reason // finish the attempt that never got its task
		}
		if attempt == 0 && !spend() {
			return outcomeDeferred, nil
		}
		d := routing.Decision{Action: routing.ActionRoute, Reason: reason, Queue: mapping, Key: key, Detail: "backlog sweep: open case in queue " + q + " without a task"}
		res, err := s.route(ctx, cfg, cat, c, d, rec, "", wb)
		if apperr.Is(err, apperr.Conflict) && attempt < conflictRetries {
			continue
		}
		return res.Outcome, err
	}
}

// maxCaseUpdates is the most records one sObject Collections call updates.
const maxCaseUpdates = 200

// flushWriteBacks writes a page's case statuses in sObject Collections calls of up to 200.
func (s *Service) flushWriteBacks(ctx context.Context, updates []CaseUpdate, rep *SweepReport) {
	for len(updates) > 0 {
		n := min(len(updates), maxCaseUpdates)
		chunk := updates[:n]
		updates = updates[n:]
		rep.WriteBackCalls++
		errs, err := s.d.Org.UpdateCases(ctx, chunk)
		if err != nil {
			rep.WriteBackErrors += len(chunk)
			s.opts.Logger.WarnContext(ctx, "sweep: case statuses not written", "cases", len(chunk), "error", err)
			continue
		}
		for i, e := range errs {
			if e != nil {
				rep.WriteBackErrors++
				s.opts.Logger.WarnContext(ctx, "sweep: case status refused", "caseId", chunk[i].CaseID, "error", e)
			}
		}
	}
}
