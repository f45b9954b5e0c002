// Package session decides Salesforce users' availability from whether they are logged in to
// Salesforce: login and logout events pushed by the org, and the scheduled AuthSession poll.
// It acts only on transitions of a user's session state, so a user who switched themselves off
// while still logged in stays off, and a run spends writes only on users whose state changed.
//
// This package is domain code: no AWS, no net/http. The poll and the webhook feed it Events;
// Decide returns the new State, the availability Actions to carry out on the configured targets
// and an audit record with the reason.
package session

import "time"

// Kind is what an Event observed.
type Kind string

// The event kinds.
const (
	// KindLogin: the user logged in to Salesforce (Login Flow action, or LoginEventStream).
	KindLogin Kind = "login"
	// KindLogout: the user logged out of Salesforce (LogoutEventStream trigger).
	KindLogout Kind = "logout"
	// KindPollActive: the poll found at least one valid session for the user
	// (LastModifiedDate + NumSecondsValid > now).
	KindPollActive Kind = "pollActive"
	// KindPollInactive: the poll found no valid session for a user the bridge knows as active.
	KindPollInactive Kind = "pollInactive"
)

// Source says where an Event came from.
type Source string

// The event sources.
const (
	SourceWebhook Source = "webhook"
	SourcePoll    Source = "poll"
)

// Event is one observation of a user's session state.
type Event struct {
	// ID de-duplicates the event: EventUuid or EventIdentifier for webhook events; for poll
	// events, "poll/<run time>/<user id>".
	ID string `json:"id"`
	// Kind is what was observed.
	Kind Kind `json:"kind"`
	// UserID is the Salesforce user id, 18-character form.
	UserID string `json:"userId"`
	// At is when it happened: the event's EventDate, or the poll's start time. Newer wins.
	At time.Time `json:"at"`
	// Source is webhook or poll.
	Source Source `json:"source"`
	// SessionExpires is, for KindPollActive, the latest expiry among the user's sessions.
	SessionExpires time.Time `json:"sessionExpires,omitzero"`
	// Presence is, for poll events, the user's current Omni-Channel presence as the poll saw it
	// (UserServicePresence WHERE IsCurrentState = true); nil when not known.
	Presence *Presence `json:"presence,omitempty"`
}

// Presence is a user's current Omni-Channel presence as observed.
type Presence struct {
	// StatusDeveloperName is the ServicePresenceStatus DeveloperName, or "Offline" when the user
	// has no current presence row.
	StatusDeveloperName string `json:"statusDeveloperName"`
	// Available is true when the status has service channels (the user can take work).
	Available bool `json:"available"`
}

// State is what the bridge knows of one user's session and availability; it is stored per user
// and replaced only by a newer observation (At).
type State struct {
	// UserID is the Salesforce user id.
	UserID string `json:"userId"`
	// Active is true while the user has a Salesforce session.
	Active bool `json:"active"`
	// At is the time of the latest observation written: the one that set Active, or a later one
	// that confirmed it and changed something else (see Decision.Write). Newer wins.
	At time.Time `json:"at"`
	// Source is where that observation came from.
	Source Source `json:"source,omitempty"`
	// LastEventID is the id of the event whose observation was last written.
	LastEventID string `json:"lastEventId,omitempty"`
	// SessionExpires is the latest session expiry the poll saw.
	SessionExpires time.Time `json:"sessionExpires,omitzero"`
	// Available is what the bridge last told the targets: nil before the first toggle.
	Available *bool `json:"available,omitempty"`
	// ManualOff is true when the user switched themselves off while logged in; it is noted once
	// and respected until the session ends.
	ManualOff bool `json:"manualOff,omitempty"`
	// PresenceAvailable is whether the poll last saw the user available in Omni-Channel during
	// the current session: nil until the first poll that reports presence, and again after the
	// session ends. A manual switch-off is a change of it from true to false, so a user who has
	// not gone online yet (console not open, no login status configured) is not mistaken for one.
	PresenceAvailable *bool `json:"presenceAvailable,omitempty"`
	// Retry holds target deliveries that failed and are retried on the next run; a later
	// decision drops the ones it supersedes (see Decide).
	Retry []Action `json:"retry,omitempty"`
}

// Target names an availability target.
type Target string

// The availability targets.
const (
	// TargetDistribution calls the configured invocable action (a distribution package toggle).
	TargetDistribution Target = "distribution"
	// TargetOmniChannel sends a presence command to Omni-Channel.
	TargetOmniChannel Target = "omniChannel"
	// TargetConnect sets the linked Amazon Connect agent's status.
	TargetConnect Target = "connect"
)

// Action is one availability change to carry out on one target.
type Action struct {
	Target Target `json:"target"`
	UserID string `json:"userId"`
	// Online is the availability to set.
	Online bool `json:"online"`
	// Status is, for Omni-Channel and Connect, the status to set: a ServicePresenceStatus
	// DeveloperName or "Offline", or a Connect status name. Empty for the distribution toggle.
	Status string `json:"status,omitempty"`
	// Reason is the decision's reason, such as "Logged out of Salesforce".
	Reason string `json:"reason"`
	// CausedBy is the id of the event that caused the action: the idempotency key.
	CausedBy string `json:"causedBy"`
	// Attempts counts failed deliveries so far.
	Attempts int `json:"attempts,omitempty"`
}
