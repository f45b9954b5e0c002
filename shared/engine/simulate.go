package engine

import (
	"context"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/presence"
)

// SimulateInput is a dry run's question: what would the engine decide for this event?
type SimulateInput struct {
	// Event is the event to decide.
	Event presence.Event
	// State, when set, is the agent state to decide on; otherwise the stored state of the agent
	// named by ConnectUserID (or, through a cached link, SalesforceUserID) is used, or an empty
	// one.
	State *presence.AgentState
	// ConnectUserID names the agent; when State is set it fills the state's id if empty.
	ConnectUserID string
	// SalesforceUserID names the agent by Salesforce user, likewise.
	SalesforceUserID string
	// Now is the decision time; zero means the engine's clock.
	Now time.Time
}

// Simulation is a dry run's answer.
type Simulation struct {
	// Decision is what presence.Decide returned: the commands that would be sent, the next
	// state and the audit record with its rule trace.
	Decision presence.Decision
	// ConfigVersion is the config version decided with.
	ConfigVersion int64
	// StateSource says where the state came from: "given", "stored" or "empty".
	StateSource string
}

// Simulator answers dry runs from the table alone: it needs neither Salesforce nor Connect, so
// the admin API can offer POST /simulate without credentials for either. Safe for concurrent use.
type Simulator struct {
	store   Store
	configs Configs
	links   *resolver
	now     func() time.Time
}

// NewSimulator returns a Simulator over the table and the config source, both required; o.Now
// and o.LinkMemoryTTL apply, the other options are unused.
func NewSimulator(store Store, configs Configs, o Options) *Simulator {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LinkMemoryTTL <= 0 {
		o.LinkMemoryTTL = DefaultLinkMemoryTTL
	}
	return &Simulator{store: store, configs: configs, now: o.Now,
		links: &resolver{store: store, memTTL: o.LinkMemoryTTL, now: o.Now}}
}

// Simulate decides an event as Simulator.Simulate does, with the engine's table and config.
func (e *Engine) Simulate(ctx context.Context, in SimulateInput) (Simulation, error) {
	s := Simulator{store: e.store, configs: e.configs, links: e.links, now: e.now}
	return s.Simulate(ctx, in)
}

// Simulate decides an event without side effects, for the admin API's POST /simulate: nothing
// is written, sent or audited, and identity links are read from the cache only (an agent whose
// link is not cached decides as unlinked).
func (s *Simulator) Simulate(ctx context.Context, in SimulateInput) (Simulation, error) {
	cfg, err := s.configs.Current(ctx)
	if err != nil {
		return Simulation{}, err
	}
	now := in.Now
	if now.IsZero() {
		now = s.now()
	}
	sim := Simulation{ConfigVersion: cfg.Version}
	var st presence.AgentState
	cid, sfid := in.ConnectUserID, in.SalesforceUserID
	switch {
	case in.State != nil:
		st, sim.StateSource = *in.State, "given"
	default:
		field := cfg.identityField()
		if cid == "" && sfid != "" {
			if l, ok, err := s.links.peek(ctx, dynamo.LinkFromSalesforce, sfid, field); err != nil {
				return Simulation{}, err
			} else if ok && l.Found {
				cid = l.ConnectUserID
			}
		}
		if cid != "" && sfid == "" {
			if l, ok, err := s.links.peek(ctx, dynamo.LinkFromConnect, cid, field); err != nil {
				return Simulation{}, err
			} else if ok && l.Found {
				sfid = l.SalesforceUserID
			}
		}
		sim.StateSource = "empty"
		if cid != "" {
			rec, err := s.store.GetAgent(ctx, cid)
			switch {
			case err == nil:
				st, sim.StateSource = rec.State, "stored"
			case !apperr.Is(err, apperr.NotFound):
				return Simulation{}, err
			}
		}
	}
	if st.ConnectUserID == "" {
		st.ConnectUserID = cid
	}
	if st.SalesforceUserID == "" {
		st.SalesforceUserID = sfid
	}
	sim.Decision = presence.Decide(st, in.Event, cfg.Set, cfg.Settings, now)
	return sim, nil
}
