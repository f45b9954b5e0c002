package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// Defaults for Options.
const (
	// DefaultIdempotencyTTL is how long a processed event id is remembered. Kinesis keeps
	// records for 24 hours by default, so a redelivery never outlives it.
	DefaultIdempotencyTTL = 24 * time.Hour
	// DefaultLinkTTL is how long a resolved identity link is trusted.
	DefaultLinkTTL = 24 * time.Hour
	// DefaultNegativeLinkTTL is how long "no such user" is trusted: short, so a user created
	// or fixed in either system is picked up soon.
	DefaultNegativeLinkTTL = 15 * time.Minute
	// DefaultLinkMemoryTTL bounds how long a warm container trusts a link without reading it.
	DefaultLinkMemoryTTL = time.Minute
	// DefaultConflictRetries bounds reload-and-decide rounds after a version conflict.
	DefaultConflictRetries = 5
	// DefaultFlushConcurrency bounds concurrent per-agent writes in Flush (as many as the agents
	// agentstream processes at once; BENCHMARKS §8.6).
	DefaultFlushConcurrency = 32
	// MaxPublishBatch is the most commands passed to one PublishPresenceCommands call: the sObject
	// Collections limit.
	MaxPublishBatch = 200
)

// Deps are the engine's collaborators.
type Deps struct {
	// Store is the table (*dynamo.Store).
	Store Store
	// Configs supplies the compiled config (*ConfigSource).
	Configs Configs
	// SalesforceUsers resolves identity links on the Salesforce side.
	SalesforceUsers SalesforceUsers
	// ConnectUsers resolves identity links on the Connect side.
	ConnectUsers ConnectUsers
	// ConnectStatus delivers Connect commands.
	ConnectStatus ConnectStatus
	// Publisher delivers Salesforce commands.
	Publisher PresencePublisher
}

// Options tune the engine; zero values take the defaults above.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives failures that do not change an outcome (a lost cache write); nil discards.
	Logger *slog.Logger
	// IdempotencyTTL is how long processed event ids are remembered (DefaultIdempotencyTTL).
	IdempotencyTTL time.Duration
	// LinkTTL is how long a resolved link is cached (DefaultLinkTTL).
	LinkTTL time.Duration
	// NegativeLinkTTL is how long "no such user" is cached (DefaultNegativeLinkTTL).
	NegativeLinkTTL time.Duration
	// LinkMemoryTTL bounds the in-container link cache (DefaultLinkMemoryTTL).
	LinkMemoryTTL time.Duration
	// ConflictRetries bounds reload-and-decide rounds (DefaultConflictRetries).
	ConflictRetries int
	// FlushConcurrency bounds concurrent agent writes in Flush (DefaultFlushConcurrency).
	FlushConcurrency int
	// PublishBatch caps commands per publish call; 0 or more than MaxPublishBatch means
	// MaxPublishBatch.
	PublishBatch int
}

// Engine is the imperative shell around presence.Decide: it de-duplicates events, resolves
// identities, loads and conditionally writes agent state, keeps commands in an outbox until
// delivered, audits every decision and sweeps unacknowledged commands. Safe for concurrent use.
type Engine struct {
	store     Store
	configs   Configs
	status    ConnectStatus
	publisher PresencePublisher
	links     *resolver
	opts      Options
	log       *slog.Logger
}

// New returns an engine over its dependencies; every one is required.
func New(d Deps, o Options) (*Engine, error) {
	switch {
	case d.Store == nil, d.Configs == nil, d.SalesforceUsers == nil, d.ConnectUsers == nil,
		d.ConnectStatus == nil, d.Publisher == nil:
		return nil, errors.New("engine: every dependency is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.IdempotencyTTL, DefaultIdempotencyTTL)
	def(&o.LinkTTL, DefaultLinkTTL)
	def(&o.NegativeLinkTTL, DefaultNegativeLinkTTL)
	def(&o.LinkMemoryTTL, DefaultLinkMemoryTTL)
	if o.ConflictRetries <= 0 {
		o.ConflictRetries = DefaultConflictRetries
	}
	if o.FlushConcurrency <= 0 {
		o.FlushConcurrency = DefaultFlushConcurrency
	}
	if o.PublishBatch <= 0 || o.PublishBatch > MaxPublishBatch {
		o.PublishBatch = MaxPublishBatch
	}
	return &Engine{
		store: d.Store, configs: d.Configs, status: d.ConnectStatus, publisher: d.Publisher, opts: o, log: o.Logger,
		links: &resolver{
			store: d.Store, sf: d.SalesforceUsers, cn: d.ConnectUsers,
			ttl: o.LinkTTL, negTTL: o.NegativeLinkTTL, memTTL: o.LinkMemoryTTL, now: o.Now,
		},
	}, nil
}

// Result is what the engine did with one event or acknowledgement.
type Result struct {
	// Outcome is the audit's outcome ("applied", "stale", "duplicate", "unlinked", ...).
	Outcome presence.Outcome
	// Detail is the audit's explanation.
	Detail string
	// Subject is the audit subject the decision was written under.
	Subject string
	// Commands are the commands the decision issued (delivered now or, for Salesforce, at Flush).
	Commands []presence.Command
}

// Retryable reports whether a retry may succeed where err failed: dependency outages
// (apperr.Unavailable), unexpected failures (apperr.Internal and uncoded errors), lost races
// (apperr.Conflict) and expired credentials (apperr.Unauthorized). Any other code is final.
func Retryable(err error) bool {
	switch apperr.CodeOf(err) {
	case apperr.Unavailable, apperr.Internal, apperr.Conflict, apperr.Unauthorized:
		return true
	}
	return false
}

// DeliveryError reports a command that could not be delivered; it stays in the agent's outbox
// and is retried (never decided again). It is retryable when its cause is.
type DeliveryError struct {
	// EventID is the event that caused the command.
	EventID string
	// CommandID names the command.
	CommandID string
	// Destination is the system it was for.
	Destination rules.Destination
	// Err is the cause.
	Err error
}

// Error describes the failed delivery.
func (e *DeliveryError) Error() string {
	return fmt.Sprintf("deliver command %s to %s (event %s): %v", e.CommandID, e.Destination.Label(), e.EventID, e.Err)
}

// Unwrap returns the cause.
func (e *DeliveryError) Unwrap() error { return e.Err }

// errBlocked refuses events of an agent after one of its events failed in the same batch.
func errBlocked(agent string, cause error) error {
	return apperr.Wrap(apperr.Unavailable, cause, "not attempted: an earlier event of agent %s failed in this batch", agent)
}

func (e *Engine) now() time.Time { return e.opts.Now() }

// RecordAudit appends an entry with the configured retention, for callers that audit what the
// engine never saw (a poison stream record).
func (e *Engine) RecordAudit(ctx context.Context, en audit.Entry) error {
	retention := 90 * 24 * time.Hour
	if cfg, err := e.configs.Current(ctx); err == nil {
		retention = cfg.retention()
	}
	return e.store.AppendAudit(ctx, en, retention)
}

// Bound is the clock-skew bound at now under the current config (settings.maxClockSkewSeconds),
// for intake checks made before an event reaches the engine, such as the webhook's 400.
func (e *Engine) Bound(ctx context.Context, now time.Time) (eventtime.Bound, error) {
	cfg, err := e.configs.Current(ctx)
	if err != nil {
		return eventtime.Bound{}, err
	}
	return cfg.Bound(now), nil
}

// ProcessSalesforce applies one Salesforce presence event in its own batch and delivers its
// commands before returning: the shape the webhook's processor needs.
func (e *Engine) ProcessSalesforce(ctx context.Context, sfUserID string, ev presence.Event) (Result, error) {
	b := e.NewBatch()
	res, err := b.ProcessSalesforce(ctx, sfUserID, ev)
	if ferr := b.flushFor(ctx, ev.ID); err == nil {
		err = ferr
	}
	return res, err
}

// Acknowledge applies one console acknowledgement in its own batch.
func (e *Engine) Acknowledge(ctx context.Context, ack Ack) (Result, error) {
	b := e.NewBatch()
	res, err := b.Acknowledge(ctx, ack)
	if ferr := b.flushFor(ctx, ack.EventID); err == nil {
		err = ferr
	}
	return res, err
}

// idemKey namespaces presence event ids in the idempotency store.
func idemKey(eventID string) string { return "presence/" + eventID }
