package routingsync

import (
	"context"
	"errors"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/routing"
	"github.com/omnibridge/omnibridge/shared/sfevents"
)

// SimulatorStore is what the simulator reads (*dynamo.Store).
type SimulatorStore interface {
	GetRouting(ctx context.Context, caseID string) (dynamo.RoutingRecord, error)
	GetRoutingCatalog(ctx context.Context) (dynamo.RoutingCatalog, error)
}

var _ SimulatorStore = (*dynamo.Store)(nil)

// Simulator decides a case event without side effects, for POST /simulate: with the current
// config, the case's stored routing entry (or one given), and the queues and skills case routing
// last resolved (the routing catalog), so it needs neither Salesforce nor Connect.
type Simulator struct {
	store   SimulatorStore
	configs engine.Configs
}

// NewSimulator returns a simulator over the table and the config source.
func NewSimulator(store SimulatorStore, configs engine.Configs) *Simulator {
	return &Simulator{store: store, configs: configs}
}

// CaseSimulation is a simulated decision.
type CaseSimulation struct {
	// Action is route, stop or ignore; Reason, Queue, Key and StopFirst describe a route.
	Action    routing.Action       `json:"action"`
	Reason    string               `json:"reason,omitempty"`
	Queue     *config.RoutingQueue `json:"queue,omitempty"`
	Key       string               `json:"idempotencyKey,omitempty"`
	StopFirst bool                 `json:"stopFirst,omitempty"`
	Detail    string               `json:"detail"`
	// Skills are the skills a route would require; SkillsProblem says why they break the rules
	// (the case is then held, or routed without skills, per routing.invalidSkills).
	Skills        []string `json:"skills,omitempty"`
	SkillsProblem string   `json:"skillsProblem,omitempty"`
	// Task is the task a route would start.
	Task *routing.TaskSpec `json:"task,omitempty"`
	// EntrySource says where the routing entry came from: "stored", "request" or "none".
	EntrySource   string `json:"entrySource"`
	ConfigVersion int64  `json:"configVersion"`
}

// Simulate decides ev. entry, when set, replaces the stored routing entry.
func (s *Simulator) Simulate(ctx context.Context, ev sfevents.CaseEvent, entry *routing.Entry) (CaseSimulation, error) {
	cfg, err := s.configs.Current(ctx)
	if err != nil {
		return CaseSimulation{}, err
	}
	out := CaseSimulation{ConfigVersion: cfg.Version, EntrySource: "request"}
	if !cfg.Routing.Enabled {
		out.Action, out.Detail, out.EntrySource = routing.ActionIgnore, "case routing is not enabled (routing.enabled)", "none"
		return out, nil
	}
	cat, err := s.store.GetRoutingCatalog(ctx)
	if err != nil {
		return CaseSimulation{}, err
	}
	if entry == nil {
		out.EntrySource = "none"
		rec, err := s.store.GetRouting(ctx, ev.CaseID)
		switch {
		case err == nil:
			entry, out.EntrySource = &rec.Entry, "stored"
		case !apperr.Is(err, apperr.NotFound):
			return CaseSimulation{}, err
		}
	}
	queueOf := make(map[string]string, len(cat.QueueIDs))
	for name, id := range cat.QueueIDs {
		queueOf[id] = name
	}
	d := routing.DecideCase(ev, entry, cfg.Routing, func(id string) (string, bool) { n, ok := queueOf[id]; return n, ok })
	out.Action, out.Reason, out.Key, out.StopFirst, out.Detail = d.Action, d.Reason, d.Key, d.StopFirst, d.Detail
	if d.Action != routing.ActionRoute {
		return out, nil
	}
	q := d.Queue
	out.Queue = &q
	known := map[string]bool{}
	for _, v := range cat.Skills {
		known[v] = true
	}
	skills, err := routing.ParseSkills(ev.Skills, func(v string) bool { return known[v] })
	if cat.SkillsMissing && ev.Skills != "" {
		err = &routing.SkillsError{Reason: "Connect has no predefined attribute " + cfg.Routing.SkillAttribute + " (routing.skillAttribute)"}
	}
	var se *routing.SkillsError
	if errors.As(err, &se) {
		out.SkillsProblem = se.Reason
		if cfg.Routing.InvalidSkills != config.InvalidSkillsRouteWithout {
			out.Action, out.Detail = routing.ActionIgnore, "held: "+se.Reason
			return out, nil
		}
		skills = nil
	}
	out.Skills = skills
	spec, err := routing.BuildTask(routing.Case{ID: ev.CaseID, Number: ev.CaseNumber, Subject: ev.Subject, Priority: ev.Priority},
		d.Reason, q, skills, cfg.Routing, "")
	if err != nil {
		return CaseSimulation{}, apperr.Wrap(apperr.Internal, err, "build task")
	}
	out.Task = &spec
	return out, nil
}
