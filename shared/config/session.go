package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Session configures session-driven availability: Salesforce login and logout events and the
// scheduled AuthSession poll switch users on and off on the availability targets. How often the
// poll runs is the schedule's business (template.yaml), not the document's.
//
// A document without a session section leaves the feature off. Parse keeps the section as
// written, so that a saved document does not pin today's defaults; consumers read it through
// WithDefaults or Document.EffectiveSession.
type Session struct {
	// Enabled turns the feature on; at least one target must then be enabled.
	Enabled bool `json:"enabled"`
	// SessionTypes filters AuthSession.SessionType; empty means DefaultSessionType.
	SessionTypes []string `json:"sessionTypes,omitempty"`
	// LoginTypes filters AuthSession.LoginType; empty means DefaultLoginType.
	LoginTypes []string `json:"loginTypes,omitempty"`
	// RelevantUsers selects the users the feature manages; empty means every active user.
	RelevantUsers RelevantUsers `json:"relevantUsers,omitzero"`
	// ManualOverride is what happens to a user who switched themselves off while still logged
	// in: ManualOverrideRespect (the default) or ManualOverrideReassert.
	ManualOverride string `json:"manualOverride,omitempty"`
	// Reasons are the texts sent with each toggle and audited with it.
	Reasons SessionReasons `json:"reasons,omitzero"`
	// Targets are where availability is set.
	Targets SessionTargets `json:"targets"`
}

// RelevantUsers filters the User records whose sessions are watched. The conditions present are
// ANDed; the values of one list are ORed.
type RelevantUsers struct {
	// Profiles are Profile.Name values.
	Profiles []string `json:"profiles,omitempty"`
	// PermissionSets are PermissionSet.Name values (API names, not labels); a user qualifies
	// when assigned any of them.
	PermissionSets []string `json:"permissionSets,omitempty"`
	// Fields are User field conditions, such as Department equals "Support".
	Fields []FieldCondition `json:"fields,omitempty"`
}

// FieldCondition is a User field that must equal a literal.
type FieldCondition struct {
	// Field is the User field's API name, such as Department, Region__c or Manager.Department.
	Field string `json:"field"`
	// Equals is the value to match. A Literal keeps the text of a JSON string, number or
	// boolean alike, so the poll quotes it in SOQL according to the field's type as described
	// by the org.
	Equals *Literal `json:"equals"`
}

// SessionReasons are the reasons sent to the targets; empty ones take the defaults.
type SessionReasons struct {
	// LoggedIn goes with switching a user on: DefaultReasonLoggedIn.
	LoggedIn string `json:"loggedIn,omitempty"`
	// LoggedOut goes with switching off on a logout event: DefaultReasonLoggedOut.
	LoggedOut string `json:"loggedOut,omitempty"`
	// NoSession goes with switching off when the poll finds no valid session:
	// DefaultReasonNoSession.
	NoSession string `json:"noSession,omitempty"`
}

// SessionTargets are the availability targets; any combination may be enabled.
type SessionTargets struct {
	// Distribution is a distribution package's availability toggle, set through an invocable
	// Apex action.
	Distribution DistributionTarget `json:"distribution,omitzero"`
	// OmniChannel sets the user's Omni-Channel presence.
	OmniChannel OmniChannelTarget `json:"omniChannel,omitzero"`
	// Connect sets the linked Amazon Connect agent's status on logout.
	Connect ConnectTarget `json:"connect,omitzero"`
}

// DistributionTarget calls an invocable Apex action with one input per user (up to 200 inputs a
// call): the user id, the online flag and the reason, under the configured input names.
type DistributionTarget struct {
	Enabled bool `json:"enabled"`
	// Action is the invocable action's API name, such as Omnibridge_ToggleUsers or
	// ns__ToggleUsers.
	Action string `json:"action,omitempty"`
	// UserIDField is the input that takes the user id: DefaultUserIDField when empty.
	UserIDField string `json:"userIdField,omitempty"`
	// OnlineField is the input that takes the online flag: DefaultOnlineField when empty.
	OnlineField string `json:"onlineField,omitempty"`
	// ReasonField is the input that takes the reason: DefaultReasonField when empty.
	ReasonField string `json:"reasonField,omitempty"`
}

// OmniChannelTarget sets Omni-Channel presence. Offline is always sent on logout and when no
// session is left; on login the presence is set only when OnLoginStatus is given.
type OmniChannelTarget struct {
	Enabled bool `json:"enabled"`
	// OnLoginStatus is the ServicePresenceStatus DeveloperName set on login; optional.
	OnLoginStatus string `json:"onLoginStatus,omitempty"`
}

// ConnectTarget sets the linked Connect agent's status when the user logs out of Salesforce or
// no session is left. Login sets nothing in Connect.
type ConnectTarget struct {
	Enabled bool `json:"enabled"`
	// OnLogoutStatus is the Connect agent status to set, such as "Offline".
	OnLogoutStatus string `json:"onLogoutStatus,omitempty"`
	// WhileOnContact is "ignore", "defer" or "apply"; empty means Settings.WhileOnContact.
	WhileOnContact string `json:"whileOnContact,omitempty"`
}

// The manual-override policies, the values of Session.ManualOverride.
const (
	// ManualOverrideRespect leaves a user who switched themselves off while logged in off.
	ManualOverrideRespect = "respect"
	// ManualOverrideReassert switches such a user back on at the next poll that sees them
	// logged in: the behaviour of the older recipes, opt-in.
	ManualOverrideReassert = "reassert"
)

// The session defaults filled by Session.WithDefaults.
const (
	DefaultSessionType     = "UI"
	DefaultLoginType       = "Application"
	DefaultReasonLoggedIn  = "Logged in to Salesforce"
	DefaultReasonLoggedOut = "Logged out of Salesforce"
	DefaultReasonNoSession = "No active session"
	DefaultUserIDField     = "userId"
	DefaultOnlineField     = "online"
	DefaultReasonField     = "reason"
)

// MaxReasonLength bounds a reason: it lands in Salesforce Text(255) fields.
const MaxReasonLength = 255

// WithDefaults returns s with every empty option filled with its default. The Connect target's
// WhileOnContact stays empty when not given, meaning Settings.WhileOnContact; use
// Document.EffectiveSession to have it resolved too.
func (s Session) WithDefaults() Session {
	if len(s.SessionTypes) == 0 {
		s.SessionTypes = []string{DefaultSessionType}
	}
	if len(s.LoginTypes) == 0 {
		s.LoginTypes = []string{DefaultLoginType}
	}
	if s.ManualOverride == "" {
		s.ManualOverride = ManualOverrideRespect
	}
	r := &s.Reasons
	r.LoggedIn = cmp.Or(r.LoggedIn, DefaultReasonLoggedIn)
	r.LoggedOut = cmp.Or(r.LoggedOut, DefaultReasonLoggedOut)
	r.NoSession = cmp.Or(r.NoSession, DefaultReasonNoSession)
	d := &s.Targets.Distribution
	d.UserIDField = cmp.Or(d.UserIDField, DefaultUserIDField)
	d.OnlineField = cmp.Or(d.OnlineField, DefaultOnlineField)
	d.ReasonField = cmp.Or(d.ReasonField, DefaultReasonField)
	return s
}

// EffectiveSession returns the document's session section with every default filled, the Connect
// target's WhileOnContact included (from Settings). A document without a session section yields
// a disabled Session.
func (d Document) EffectiveSession() Session {
	var s Session
	if d.Session != nil {
		s = *d.Session
	}
	s = s.WithDefaults()
	if s.Targets.Connect.WhileOnContact == "" {
		s.Targets.Connect.WhileOnContact = d.Settings.withDefaults().WhileOnContact
	}
	return s
}

// AnyTarget reports whether at least one target is enabled.
func (t SessionTargets) AnyTarget() bool {
	return t.Distribution.Enabled || t.OmniChannel.Enabled || t.Connect.Enabled
}

// offlineStatusName is the Salesforce presence status that always exists (rules.Offline; package
// rules imports this one, so the name is repeated here and a test keeps the two equal).
const offlineStatusName = "Offline"

// connectSystemStates are the Connect states derived from contacts, which can never be set
// (rules.SystemStates; repeated for the same reason, and kept equal by the same test).
var connectSystemStates = []string{"Busy", "Pending", "PendingBusy", "CallingCustomer", "AfterCallWork", "Missed", "Error"}

var manualOverrides = []string{"", ManualOverrideRespect, ManualOverrideReassert}

// session checks the session section. Every option is checked whether or not the feature or a
// target is enabled, so enabling them later cannot break a saved document; what a target needs
// in order to work is required only once it is enabled.
func (v *validator) session(s Session, cat StatusCatalog) {
	const p = "$.session"
	if s.Enabled && !s.Targets.AnyTarget() {
		v.addf(p+".targets", "must enable at least one of distribution, omniChannel and connect while the session feature is enabled")
	}
	for i, t := range s.SessionTypes {
		v.id(fmt.Sprintf("%s.sessionTypes[%d]", p, i), t)
	}
	for i, t := range s.LoginTypes {
		v.id(fmt.Sprintf("%s.loginTypes[%d]", p, i), t)
	}
	ru := s.RelevantUsers
	for i, n := range ru.Profiles {
		v.id(fmt.Sprintf("%s.relevantUsers.profiles[%d]", p, i), n)
	}
	for i, n := range ru.PermissionSets {
		path := fmt.Sprintf("%s.relevantUsers.permissionSets[%d]", p, i)
		if v.required(path, n) && !isIdentifier(n) {
			v.addf(path, "%q is not a permission set API name (the Name field, not the label): letters, digits and single underscores, starting with a letter", n)
		}
	}
	for i, f := range ru.Fields {
		fp := fmt.Sprintf("%s.relevantUsers.fields[%d]", p, i)
		v.apiName(fp+".field", f.Field, true)
		if f.Equals == nil {
			v.addf(fp+".equals", "is required")
		}
	}
	v.oneOf(p+".manualOverride", s.ManualOverride, manualOverrides)
	v.reason(p+".reasons.loggedIn", s.Reasons.LoggedIn)
	v.reason(p+".reasons.loggedOut", s.Reasons.LoggedOut)
	v.reason(p+".reasons.noSession", s.Reasons.NoSession)

	dp := p + ".targets.distribution"
	d := s.Targets.Distribution
	if d.Action != "" || d.Enabled {
		v.apiName(dp+".action", d.Action, false)
	}
	// Input names default, so only given ones are checked, and then for distinctness with
	// their defaults filled.
	inputs := []struct{ key, name string }{
		{"userIdField", d.UserIDField}, {"onlineField", d.OnlineField}, {"reasonField", d.ReasonField},
	}
	filled := s.WithDefaults().Targets.Distribution
	effective := []string{filled.UserIDField, filled.OnlineField, filled.ReasonField}
	for i, in := range inputs {
		if in.name == "" {
			continue
		}
		if v.apiName(dp+"."+in.key, in.name, false) {
			for j := range i {
				if strings.EqualFold(effective[j], in.name) {
					v.addf(dp+"."+in.key, "%q is already the %s; each input needs its own name", in.name, inputs[j].key)
					break
				}
			}
		}
	}

	op := p + ".targets.omniChannel.onLoginStatus"
	if name := s.Targets.OmniChannel.OnLoginStatus; name != "" {
		st, ok := salesforceStatus(cat, name)
		switch {
		case name == offlineStatusName || ok && (st.IsOffline || st.ID == OfflineStatusID):
			v.addf(op, "must not be Offline: it is the status set on login (Offline is always set on logout); leave it out to leave presence alone on login")
		case !ok:
			v.addf(op, "%q is not a Salesforce presence status DeveloperName in $.statusCatalog.salesforce", name)
		}
	}

	cp := p + ".targets.connect"
	c := s.Targets.Connect
	switch name := c.OnLogoutStatus; {
	case name == "":
		if c.Enabled {
			v.addf(cp+".onLogoutStatus", "is required while the connect target is enabled")
		}
	case slices.Contains(connectSystemStates, name):
		v.addf(cp+".onLogoutStatus", "%q is a Connect system state, derived from the agent's contacts; it cannot be set", name)
	case !connectStatus(cat, name):
		v.addf(cp+".onLogoutStatus", "%q is not a Connect status in $.statusCatalog.connect", name)
	}
	if c.WhileOnContact != "" {
		v.oneOf(cp+".whileOnContact", c.WhileOnContact, contactPolicies)
	}
}

// reason checks an optional reason: empty takes the default, but a blank or overlong one is a
// mistake.
func (v *validator) reason(path, s string) {
	switch {
	case s == "":
	case strings.TrimSpace(s) == "":
		v.addf(path, "must not be blank; leave it out for the default")
	case utf8.RuneCountInString(s) > MaxReasonLength:
		v.addf(path, "must be at most %d characters, not %d", MaxReasonLength, utf8.RuneCountInString(s))
	case badRune(s, false) != "":
		v.addf(path, "%s", badRune(s, false))
	}
}

// apiName checks that s is shaped like a Salesforce API name; dotted allows relationship paths
// such as Manager.Department or Region__r.Name. It reports whether s passed.
func (v *validator) apiName(path, s string, dotted bool) bool {
	if !v.required(path, s) {
		return false
	}
	if msg := apiNameProblem(s, dotted); msg != "" {
		v.addf(path, "%q is not an API name: %s", s, msg)
		return false
	}
	return true
}

// maxRelationshipDepth is SOQL's limit on relationship levels in a child-to-parent path.
const maxRelationshipDepth = 5

// apiNameProblem says what is wrong with s as an API name, or returns "". A name is built from
// identifiers (a letter, then letters, digits and single underscores, not ending in one):
//   - not dotted (action and input names): Name, ns__Name, Name__c or ns__Name__c;
//   - dotted (User fields): the last segment is a field, Name, Name__c or ns__Name__c, and every
//     segment before a dot a relationship, Name, Name__r or ns__Name__r.
func apiNameProblem(s string, dotted bool) string {
	const shape = "use letters, digits and single underscores, starting with a letter, optionally with a namespace prefix (ns__) and the __c suffix"
	if !dotted {
		if strings.Contains(s, ".") {
			return shape + "; relationship paths (dots) are not allowed here"
		}
		if !apiSegment(s, "c", true) {
			return shape
		}
		return ""
	}
	segs := strings.Split(s, ".")
	if len(segs)-1 > maxRelationshipDepth {
		return fmt.Sprintf("a relationship path has at most %d levels", maxRelationshipDepth)
	}
	for i, seg := range segs {
		if i < len(segs)-1 {
			if !apiSegment(seg, "r", false) {
				return shape + "; a relationship before a dot is a standard one such as Manager, or a custom one ending in __r such as Region__r"
			}
		} else if !apiSegment(seg, "c", false) {
			return shape
		}
	}
	return ""
}

// apiSegment reports whether seg is Name, Name__suffix or ns__Name__suffix; bareNamespace also
// allows ns__Name, which names an Apex class but never a field.
func apiSegment(seg, suffix string, bareNamespace bool) bool {
	parts := strings.Split(seg, "__")
	n := len(parts)
	hasSuffix := n > 1 && strings.EqualFold(parts[n-1], suffix)
	if hasSuffix {
		parts, n = parts[:n-1], n-1
	}
	if n > 2 || n == 2 && !hasSuffix && !bareNamespace {
		return false
	}
	for _, part := range parts {
		if !isIdentifier(part) {
			return false
		}
	}
	return true
}

// isIdentifier reports whether s is a letter followed by letters, digits and single underscores,
// not ending in an underscore.
func isIdentifier(s string) bool {
	if s == "" || !isLetter(s[0]) || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !('0' <= c && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func salesforceStatus(cat StatusCatalog, developerName string) (SalesforceStatus, bool) {
	for _, s := range cat.Salesforce {
		if s.DeveloperName == developerName {
			return s, true
		}
	}
	return SalesforceStatus{}, false
}

func connectStatus(cat StatusCatalog, name string) bool {
	return slices.ContainsFunc(cat.Connect, func(s ConnectStatus) bool { return s.Name == name })
}
