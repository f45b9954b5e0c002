package engine

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/eventtime"
	"github.com/omnibridge/omnibridge/shared/rules"
)

// DefaultConfigRefresh is how often a warm container checks the stored config version.
const DefaultConfigRefresh = 10 * time.Second

// Compiled is one config version, compiled: the rule set and the settings to decide with.
// It is immutable and shared by every goroutine of the container.
type Compiled struct {
	// Version is the stored version; 0 when no document is stored (no rules, default settings).
	Version int64
	// Set is the compiled rule set.
	Set *rules.Set
	// Settings are the document's settings with zero values filled from config.Defaults.
	Settings config.Settings
	// Session is the session-driven availability section with its defaults filled; disabled
	// when the document has none.
	Session config.Session
	// Routing is the case routing section with its defaults filled; disabled when the document
	// has none.
	Routing config.Routing
	// CallLogging is the call logging section with its defaults filled; disabled when the
	// document has none.
	CallLogging config.CallLogging
	// Warnings are the non-blocking problems Compile found.
	Warnings []apperr.Problem
}

// Retention is how long audit entries are kept.
func (c *Compiled) Retention() time.Duration { return c.retention() }

// identityField returns the Salesforce User field links match on.
func (c *Compiled) identityField() string {
	if f := c.Settings.Identity.SalesforceField; f != "" {
		return f
	}
	return config.Defaults().Identity.SalesforceField
}

// Bound is the clock-skew bound event times are checked against at now:
// settings.maxClockSkewSeconds ahead of the bridge's clock.
func (c *Compiled) Bound(now time.Time) eventtime.Bound {
	return eventtime.New(now, c.Settings.MaxClockSkew())
}

func (c *Compiled) retention() time.Duration {
	return time.Duration(c.Settings.AuditRetentionDays) * 24 * time.Hour
}

// ConfigSource loads the config document and compiles it once per version, caching it for the
// life of the (warm) container. It re-checks the stored version at most once per refresh
// interval, with a projection read that does not fetch the document; only a new version is
// fetched and compiled. Safe for concurrent use.
type ConfigSource struct {
	store   ConfigStore
	refresh time.Duration
	now     func() time.Time

	mu        sync.Mutex
	cur       *Compiled
	checkedAt time.Time
	compiles  int
}

// NewConfigSource returns a source over store that checks the version at most every refresh
// (DefaultConfigRefresh in production; 0 checks on every call, which tests use).
func NewConfigSource(store ConfigStore, refresh time.Duration) *ConfigSource {
	return &ConfigSource{store: store, refresh: refresh, now: time.Now}
}

// WithClock makes the source read the time from now; tests use it to step over the refresh
// interval. It must be called before the source is shared.
func (c *ConfigSource) WithClock(now func() time.Time) *ConfigSource {
	c.now = now
	return c
}

// Compiles returns how many documents the source has compiled, for metrics and tests.
func (c *ConfigSource) Compiles() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.compiles
}

// Current returns the compiled current config. When the store cannot be read it keeps serving
// the version it has; a stored document that no longer compiles (the admin API refuses such
// documents, so this means a manual edit) is refused the same way.
func (c *ConfigSource) Current(ctx context.Context) (*Compiled, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.cur != nil && now.Sub(c.checkedAt) < c.refresh {
		return c.cur, nil
	}
	v, err := c.store.ConfigCurrentVersion(ctx)
	switch {
	case apperr.Is(err, apperr.NotFound):
		v = 0
	case err != nil:
		if c.cur != nil {
			return c.cur, nil
		}
		return nil, err
	}
	if c.cur != nil && c.cur.Version == v {
		c.checkedAt = now
		return c.cur, nil
	}
	doc := config.Document{SchemaVersion: config.SchemaVersion, Settings: config.Defaults()}
	if v > 0 {
		vc, err := c.store.GetConfig(ctx)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			if c.cur != nil {
				return c.cur, nil
			}
			return nil, err
		}
		if err == nil {
			doc, v = vc.Document, vc.Version
		}
	}
	// A document stored before a setting existed lacks it: it takes the default, as config.Parse
	// would give it, rather than failing the range check.
	doc.Settings = fillSettings(doc.Settings)
	set, problems := rules.Compile(doc)
	c.compiles++
	if len(problems) > 0 {
		if c.cur != nil {
			return c.cur, nil
		}
		msgs := make([]string, 0, len(problems))
		for _, p := range problems {
			msgs = append(msgs, p.Path+": "+p.Message)
		}
		return nil, apperr.New(apperr.Internal, "stored config version %d does not compile: %s", v, strings.Join(msgs, "; "))
	}
	c.cur = &Compiled{Version: v, Set: set, Settings: doc.Settings, Session: doc.EffectiveSession(),
		Routing: doc.EffectiveRouting(), CallLogging: doc.EffectiveCallLogging(), Warnings: set.Warnings()}
	c.checkedAt = now
	return c.cur, nil
}

// fillSettings fills zero settings with the defaults, as config.Parse does for documents it
// reads; a document written by other means may lack them.
func fillSettings(s config.Settings) config.Settings {
	d := config.Defaults()
	if s.WhileOnContact == "" {
		s.WhileOnContact = d.WhileOnContact
	}
	if s.EchoWindowSeconds <= 0 {
		s.EchoWindowSeconds = d.EchoWindowSeconds
	}
	if s.LoopGuard.MaxCrossings <= 0 {
		s.LoopGuard.MaxCrossings = d.LoopGuard.MaxCrossings
	}
	if s.LoopGuard.WindowSeconds <= 0 {
		s.LoopGuard.WindowSeconds = d.LoopGuard.WindowSeconds
	}
	if s.Identity.SalesforceField == "" {
		s.Identity.SalesforceField = d.Identity.SalesforceField
	}
	if s.CommandAckTimeoutSeconds <= 0 {
		s.CommandAckTimeoutSeconds = d.CommandAckTimeoutSeconds
	}
	if s.AuditRetentionDays <= 0 {
		s.AuditRetentionDays = d.AuditRetentionDays
	}
	if s.MaxClockSkewSeconds <= 0 {
		s.MaxClockSkewSeconds = d.MaxClockSkewSeconds
	}
	return s
}
