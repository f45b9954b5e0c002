package sessionsync

import (
	"context"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/engine"
	"github.com/omnibridge/omnibridge/shared/session"
)

// SessionReader reads stored session states (*dynamo.Store).
type SessionReader interface {
	GetSession(ctx context.Context, userID string) (dynamo.SessionRecord, error)
}

// Simulator answers dry runs of session events from the table alone, for the admin API's
// POST /simulate: nothing is written, sent or audited, and relevance is not checked (that
// needs the org).
type Simulator struct {
	store   SessionReader
	configs engine.Configs
	now     func() time.Time
}

// NewSimulator returns a Simulator; now nil means time.Now.
func NewSimulator(store SessionReader, configs engine.Configs, now func() time.Time) *Simulator {
	if now == nil {
		now = time.Now
	}
	return &Simulator{store: store, configs: configs, now: now}
}

// Simulation is a session dry run's answer.
type Simulation struct {
	Decision      session.Decision `json:"decision"`
	ConfigVersion int64            `json:"configVersion"`
	// StateSource is "given", "stored" or "empty".
	StateSource string `json:"stateSource"`
}

// Simulate decides ev on state, or on the user's stored state when state is nil, at at (zero:
// now).
func (s *Simulator) Simulate(ctx context.Context, ev session.Event, state *session.State, at time.Time) (Simulation, error) {
	cfg, err := s.configs.Current(ctx)
	if err != nil {
		return Simulation{}, err
	}
	if at.IsZero() {
		at = s.now()
	}
	sim := Simulation{ConfigVersion: cfg.Version, StateSource: "empty"}
	st := session.State{UserID: ev.UserID}
	switch {
	case state != nil:
		st, sim.StateSource = *state, "given"
	case ev.UserID != "":
		rec, err := s.store.GetSession(ctx, ev.UserID)
		switch {
		case err == nil:
			st, sim.StateSource = rec.State, "stored"
		case !apperr.Is(err, apperr.NotFound):
			return Simulation{}, err
		}
	}
	sim.Decision = session.Decide(st, ev, cfg.Session, cfg.Bound(at))
	return sim, nil
}
