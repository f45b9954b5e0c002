package engine

import (
	"context"
	"time"

	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/presence"
)

// AgentStore persists agent items (state, outbox, version).
type AgentStore interface {
	// GetAgent returns apperr.NotFound when the agent has no item.
	GetAgent(ctx context.Context, connectUserID string) (dynamo.AgentRecord, error)
	// PutAgent writes rec as version rec.Version+1, failing with apperr.Conflict when the stored
	// version is not rec.Version.
	PutAgent(ctx context.Context, rec dynamo.AgentRecord) (int64, error)
}

// LinkStore caches identity links.
type LinkStore interface {
	// GetLink returns apperr.NotFound when nothing live is cached.
	GetLink(ctx context.Context, side dynamo.LinkSide, id, field string) (dynamo.Link, error)
	PutLink(ctx context.Context, l dynamo.Link) error
}

// IndexStore holds the sweep's indexes: pending acknowledgement deadlines and agents with
// undelivered commands.
type IndexStore interface {
	PutPending(ctx context.Context, r dynamo.PendingRef) error
	DuePending(ctx context.Context, now time.Time, limit int) ([]dynamo.PendingRef, error)
	DeletePending(ctx context.Context, r dynamo.PendingRef) error
	MarkOutbox(ctx context.Context, connectUserID string, since time.Time) error
	OutboxAgents(ctx context.Context, limit int) ([]string, error)
	ClearOutbox(ctx context.Context, connectUserID string) error
}

// Markers records processed event ids: Seen checks, Claim marks (after the work is done).
type Markers interface {
	Seen(ctx context.Context, key string) (bool, error)
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// AuditLog appends audit entries; an entry with the same subject, time and id overwrites.
type AuditLog interface {
	AppendAudit(ctx context.Context, e audit.Entry, retention time.Duration) error
}

// JournalWriter writes what agent items' journals list (audits, pending-index entries,
// idempotency markers), in batches and unconditionally.
type JournalWriter interface {
	WriteJournal(ctx context.Context, j dynamo.AgentJournal, retention, markerTTL time.Duration) error
}

// BatchReader reads many agents and markers in one call each, for a batch's prefetch.
type BatchReader interface {
	// GetAgents returns the live agent items of the ids, keyed by id; absent ones are left out.
	GetAgents(ctx context.Context, connectUserIDs []string) (map[string]dynamo.AgentRecord, error)
	// SeenKeys reports, for every key, whether it is claimed.
	SeenKeys(ctx context.Context, keys []string) (map[string]bool, error)
}

// Store is everything the engine persists, in one table.
type Store interface {
	AgentStore
	LinkStore
	IndexStore
	Markers
	AuditLog
	JournalWriter
	BatchReader
}

// ConfigStore reads the config document.
type ConfigStore interface {
	// GetConfig returns apperr.NotFound when no document was saved.
	GetConfig(ctx context.Context) (dynamo.VersionedConfig, error)
	// ConfigCurrentVersion returns the current version without the document.
	ConfigCurrentVersion(ctx context.Context) (int64, error)
}

var (
	_ Store       = (*dynamo.Store)(nil)
	_ ConfigStore = (*dynamo.Store)(nil)
)

// SalesforceUsers looks Salesforce users up by the identity field (a SOQL query on User). Both
// methods return apperr.NotFound when there is no such (active) user or the field is empty;
// other codes follow apperr: Unavailable and Internal are retried, Invalid is final. User ids
// are the 18-character form. field is "Username" or "FederationIdentifier", already validated;
// value comes from agent events and must be escaped in the SOQL string literal.
type SalesforceUsers interface {
	// UserIDByField returns the id of the user whose field equals value.
	UserIDByField(ctx context.Context, field, value string) (string, error)
	// FieldByUserID returns the value of field of the user with id userID.
	FieldByUserID(ctx context.Context, field, userID string) (string, error)
	// UserIDsByField is UserIDByField for up to MaxUserLookups values in one query: result i
	// is what UserIDByField(values[i]) returns (comparing without regard to case, as SOQL
	// does). The error is the query's, one a retry may fix; with it, no result is given.
	UserIDsByField(ctx context.Context, field string, values []string) ([]UserLookup, error)
}

// MaxUserLookups is how many values one UserIDsByField query takes: 200 usernames keep the
// SOQL far below Salesforce's 100,000-character limit.
const MaxUserLookups = 200

// UserLookup is one value's result in a batch lookup: what the single lookup returns.
type UserLookup struct {
	// Value is the id or username found.
	Value string
	// Err is the single lookup's error: apperr.NotFound, or apperr.Invalid for a value two
	// users share.
	Err error
}

// ConnectUsers looks Connect users up (DescribeUser and SearchUsers). NotFound and other codes
// as for SalesforceUsers.
type ConnectUsers interface {
	// UsernameByUserID returns the Username of Connect user id.
	UsernameByUserID(ctx context.Context, id string) (string, error)
	// UserIDByUsername returns the id of the Connect user with this Username.
	UserIDByUsername(ctx context.Context, username string) (string, error)
	// UsernamesByUserIDs is UsernameByUserID for many ids in as few calls as Connect allows:
	// result i is what UsernameByUserID(ids[i]) returns. The error is as for UserIDsByField.
	UsernamesByUserIDs(ctx context.Context, ids []string) ([]UserLookup, error)
}

// ConnectStatus sets an agent's Connect status (PutUserStatus). key is the command id: the
// rate-limited client's coalescing key and, where the API takes one, the client token. next
// sets the agent's next status (applied when the current contact ends) instead of the status.
// Errors follow apperr: Unavailable and Internal are retried, any other code drops the command
// with an audit.
type ConnectStatus interface {
	SetStatus(ctx context.Context, userID, statusName, key string, next bool) error
}

// PresencePublisher publishes presence commands as Omnibridge_Presence_Command__e platform
// events (see CommandEventFields), all of them in one sObject Collections call: the engine
// never passes more than MaxPublishBatch. It returns one error per command in input order (nil
// for published); a non-nil second result means the call itself failed, and commands without
// a per-command result count as failed with it.
type PresencePublisher interface {
	PublishPresenceCommands(ctx context.Context, cmds []presence.Command) ([]error, error)
}

// Configs returns the compiled config to decide with; *ConfigSource implements it.
type Configs interface {
	Current(ctx context.Context) (*Compiled, error)
}

var _ Configs = (*ConfigSource)(nil)
