package sfevents

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/strictjson"
)

// Limits on single fields, mirrored by the JSON Schema.
const (
	maxChannels    = 50
	maxReasonRunes = 1000
	maxTextRunes   = 255
)

// kind is how a field's value is checked and converted.
type kind int

const (
	kOpaqueID     kind = iota // event and command ids
	kType                     // the event type
	kUserID                   // a User id (005...)
	kOrgID                    // an Organization id (00D...)
	kStatusID                 // a ServicePresenceStatus id (0N5...)
	kSalesforceID             // any record id
	kTime                     // an RFC 3339 time
	kDevName                  // an API (developer) name
	kChannels                 // an array of API names
	kCount                    // a number >= 0
	kResult                   // "applied" or "failed"
	kReason                   // free text, up to maxReasonRunes
	kText                     // a short free-text label, up to maxTextRunes
	kVersion                  // the schema version string
	kEvents                   // the events array, handled by the caller
	kCaseID                   // a Case id (500...)
	kOwnerID                  // a record owner: a User (005...) or a queue (00G...)
	kBool                     // true or false
)

// field is one member of an object in the contract. The tables below are the contract; the
// schema test compares them with the JSON Schema's "required" and "properties".
type field struct {
	name     string
	required bool
	kind     kind
}

var batchFields = []field{
	{"schemaVersion", true, kVersion},
	{"orgId", true, kOrgID},
	{"sentAt", true, kTime},
	{"events", true, kEvents},
}

var commonFields = []field{
	{"id", true, kOpaqueID},
	{"type", true, kType},
	{"userId", true, kUserID},
	{"time", true, kTime},
}

var typeFields = map[Type][]field{
	TypeStatusChanged: {
		{"statusId", true, kStatusID},
		{"statusDeveloperName", true, kDevName},
		{"channels", false, kChannels},
		{"commandId", false, kOpaqueID},
	},
	TypeLogout: {
		{"commandId", false, kOpaqueID},
	},
	TypeWorkAccepted: {
		{"workItemId", true, kSalesforceID},
		{"serviceChannel", true, kDevName},
	},
	TypeWorkloadChanged: {
		{"configuredCapacity", true, kCount},
		{"previousWorkload", true, kCount},
		{"newWorkload", true, kCount},
	},
	TypeCommandAck: {
		{"commandId", true, kOpaqueID},
		{"result", true, kResult},
		{"reason", false, kReason},
	},
}

// presenceEvents is the presence contract's event table.
var presenceEvents = contract[Type]{types: Types(), common: commonFields, typed: typeFields}

// Decode parses and validates one webhook request body against contract v1.
//
// Every problem is reported, together, as one apperr.Invalid error whose Problems carry JSON
// paths such as "$.events[3].userId": malformed JSON, unknown or duplicate keys, wrong types,
// missing fields (per event type), ids that are not Salesforce ids, times that are not RFC 3339,
// unknown types, event ids repeated within the batch, more than MaxEvents events, and an
// unsupported schemaVersion. At most MaxProblems problems are listed, then a count of the rest.
// Optional fields may be null, which means absent. Decode never panics, whatever the input.
//
// User, org and work item ids are returned in 18-character form (see CaseSafeID).
func Decode(body []byte) (Batch, error) {
	env, events, err := decodeEvents(body, "presence webhook batch", (*decoder).event,
		func(d *decoder, p string, e *Event, _ Event, j int) {
			d.add(p+".id", "duplicate event id %q, also at $.events[%d]", e.ID, j)
		})
	if err != nil {
		return Batch{}, err
	}
	return Batch{SchemaVersion: env.schemaVersion, OrgID: env.orgID, SentAt: env.sentAt, Events: events}, nil
}

// contract is the event table of one webhook contract: the fields every event has and, per
// type, the fields only events of that type have. The tables are the contract; the schema tests
// compare them with the JSON Schema's "required" and "properties".
type contract[T ~string] struct {
	// types lists the event types in the contract's order, for messages.
	types  []T
	common []field
	typed  map[T][]field
}

// envelope is the batch header every contract shares (batchFields).
type envelope struct {
	schemaVersion string
	orgID         string
	sentAt        time.Time
}

// decodeEvents checks the envelope shared by every contract and reads each element of the events
// array with event, given its index and JSON path. For an event whose id an earlier event of the
// batch has, it calls repeat with that first event and its index: repeat reports the problem or
// marks the event. It returns every problem found as one apperr.Invalid error that names the
// contract (what).
func decodeEvents[E interface{ eventID() string }](body []byte, what string,
	event func(d *decoder, i int, p string, raw json.RawMessage) E,
	repeat func(d *decoder, p string, e *E, first E, j int),
) (envelope, []E, error) {
	var events []E
	firstIndex := map[string]int{}
	d := &decoder{}
	env := d.batch(body, func(d *decoder, i int, p string, raw json.RawMessage) {
		e := event(d, i, p, raw)
		if id := e.eventID(); id != "" {
			if j, seen := firstIndex[id]; seen {
				repeat(d, p, &e, events[j], j)
			} else {
				firstIndex[id] = i
			}
		}
		events = append(events, e)
	})
	if len(d.problems) > 0 {
		if d.dropped > 0 {
			d.problems = append(d.problems, apperr.Problem{Path: "$", Message: fmt.Sprintf("%d more problem(s) not shown", d.dropped)})
		}
		first := d.problems[0]
		return envelope{}, nil, apperr.Invalidf(d.problems, "invalid %s: %d problem(s), first %s: %s",
			what, len(d.problems), first.Path, first.Message)
	}
	return env, events, nil
}

// decoder collects problems instead of stopping at the first, so one 400 response tells the
// Salesforce admin everything that is wrong with a batch.
type decoder struct {
	problems []apperr.Problem
	dropped  int
}

func (d *decoder) add(path, format string, args ...any) {
	if len(d.problems) >= MaxProblems {
		d.dropped++
		return
	}
	d.problems = append(d.problems, apperr.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) batch(body []byte, event func(d *decoder, i int, p string, raw json.RawMessage)) envelope {
	if !json.Valid(body) {
		d.add("$", "%s", syntaxMessage(body))
		return envelope{}
	}
	obj, ok := d.object("$", body, batchFields, nil)
	if !ok {
		return envelope{}
	}
	var env envelope
	if raw, ok := d.member(obj, "$", batchFields[0]); ok {
		env.schemaVersion = d.text("$.schemaVersion", raw)
		if env.schemaVersion != "" && env.schemaVersion != SchemaVersion {
			// Another version has other fields; checking it against v1 would only add noise.
			d.add("$.schemaVersion", "unsupported schema version %q (this endpoint accepts %q)", env.schemaVersion, SchemaVersion)
			return envelope{}
		}
	}
	if raw, ok := d.member(obj, "$", batchFields[1]); ok {
		env.orgID = d.value("$.orgId", kOrgID, raw).s
	}
	if raw, ok := d.member(obj, "$", batchFields[2]); ok {
		env.sentAt = d.value("$.sentAt", kTime, raw).t
	}
	if raw, ok := d.member(obj, "$", batchFields[3]); ok {
		d.events(raw, event)
	}
	return env
}

func (d *decoder) events(raw json.RawMessage, event func(d *decoder, i int, p string, raw json.RawMessage)) {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		d.add("$.events", "must be an array, not %s", strictjson.TypeName(raw))
		return
	}
	switch {
	case len(items) == 0:
		d.add("$.events", "must hold at least one event")
		return
	case len(items) > MaxEvents:
		d.add("$.events", "holds %d events; at most %d are allowed in one batch", len(items), MaxEvents)
		return
	}
	for i, item := range items {
		event(d, i, fmt.Sprintf("$.events[%d]", i), item)
	}
}

func (e Event) eventID() string { return e.ID }

func (d *decoder) event(i int, p string, raw json.RawMessage) Event {
	v, ok := presenceEvents.fields(d, p, raw)
	if !ok {
		return Event{Index: i}
	}
	return Event{
		Index: i, ID: v["id"].s, Type: Type(v["type"].s), UserID: v["userId"].s, Time: v["time"].t,
		StatusID: v["statusId"].s, StatusDeveloperName: v["statusDeveloperName"].s, Channels: v["channels"].list,
		CommandID:  v["commandId"].s,
		WorkItemID: v["workItemId"].s, ServiceChannel: v["serviceChannel"].s,
		ConfiguredCapacity: v["configuredCapacity"].f, PreviousWorkload: v["previousWorkload"].f, NewWorkload: v["newWorkload"].f,
		Result: AckResult(v["result"].s), Reason: v["reason"].s,
	}
}

// fields checks one event object against the contract and returns its present, checked values
// by field name. The type decides which other fields are allowed, so it is read first; a field
// that belongs to another type is reported as such, and when the type itself is unknown the
// type-specific fields cannot be judged and only the type is reported.
func (c contract[T]) fields(d *decoder, p string, raw json.RawMessage) (map[string]parsed, bool) {
	var t T
	typeKnown := false
	if obj, ok := members(raw); ok {
		if v, ok := lookup(obj, "type"); ok && isJSONString(v) {
			var s string
			if json.Unmarshal(v, &s) == nil {
				t = T(s)
				_, typeKnown = c.typed[t]
			}
		}
	}
	allowed := c.common
	if typeKnown {
		allowed = append(slices.Clone(c.common), c.typed[t]...)
	}
	other := func(key string) string {
		for _, ot := range c.types {
			if isAllowed(c.typed[ot], key) {
				if typeKnown {
					return fmt.Sprintf("not allowed on a %s event", t)
				}
				return "-"
			}
		}
		return ""
	}
	obj, ok := d.object(p, raw, allowed, other)
	if !ok {
		return nil, false
	}
	vals := make(map[string]parsed, len(allowed))
	for _, f := range allowed {
		v, ok := d.member(obj, p, f)
		if !ok {
			continue
		}
		val := d.value(p+"."+f.name, f.kind, v)
		if f.kind == kType && val.s != "" {
			if _, known := c.typed[T(val.s)]; !known {
				d.add(p+"."+f.name, "unknown type %s (want %s)", quote(val.s), c.typeList())
				continue
			}
		}
		vals[f.name] = val
	}
	return vals, true
}

// typeList names the contract's types for a message: "a, b or c".
func (c contract[T]) typeList() string {
	names := make([]string, len(c.types))
	for i, t := range c.types {
		names[i] = string(t)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// object reads raw as a JSON object, reporting duplicate keys and keys not in allowed. For a key
// not allowed, other may supply a better message; "-" means "say nothing".
func (d *decoder) object(p string, raw json.RawMessage, allowed []field, other func(string) string) (map[string]json.RawMessage, bool) {
	ms, ok := members(raw)
	if !ok {
		d.add(p, "must be an object, not %s", strictjson.TypeName(raw))
		return nil, false
	}
	obj := make(map[string]json.RawMessage, len(ms))
	for _, m := range ms {
		kp := p + keyPath(m.key)
		if _, dup := obj[m.key]; dup {
			// encoding/json would keep the last copy silently; another reader might keep the first.
			d.add(kp, "duplicate key")
			continue
		}
		obj[m.key] = m.raw
		if isAllowed(allowed, m.key) {
			continue
		}
		msg := ""
		if other != nil {
			msg = other(m.key)
		}
		switch msg {
		case "-":
		case "":
			d.add(kp, "unknown field")
		default:
			d.add(kp, "%s", msg)
		}
	}
	return obj, true
}

// member returns the value of f, reporting it when required and absent or null. An optional
// null counts as absent.
func (d *decoder) member(obj map[string]json.RawMessage, p string, f field) (json.RawMessage, bool) {
	v, ok := obj[f.name]
	null := ok && bytes.Equal(bytes.TrimSpace(v), []byte("null"))
	switch {
	case !ok && f.required:
		d.add(p+"."+f.name, "required")
	case null && f.required:
		d.add(p+"."+f.name, "required; must not be null")
	}
	if !ok || null {
		return nil, false
	}
	return v, true
}

// parsed is a checked field value.
type parsed struct {
	s    string
	f    float64
	t    time.Time
	list []string
	b    bool
	set  bool // b was given
}

func (d *decoder) value(p string, k kind, raw json.RawMessage) parsed {
	switch k {
	case kCount:
		return parsed{f: d.count(p, raw)}
	case kChannels:
		return parsed{list: d.channels(p, raw)}
	case kEvents:
		return parsed{}
	case kBool:
		var b bool
		if strictjson.TypeName(raw) != "a boolean" || json.Unmarshal(raw, &b) != nil {
			d.add(p, "must be true or false, not %s", strictjson.TypeName(raw))
			return parsed{}
		}
		return parsed{b: b, set: true}
	}
	s := d.text(p, raw)
	if s == "" && isJSONString(raw) {
		d.add(p, "must not be empty")
		return parsed{}
	}
	if s == "" {
		return parsed{}
	}
	switch k {
	case kOpaqueID:
		if !isOpaqueID(s) {
			d.add(p, "must be 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit")
			return parsed{}
		}
	case kUserID:
		return parsed{s: d.sfid(p, s, "005", "a user id (005 followed by 12 or 15 letters and digits)")}
	case kOrgID:
		return parsed{s: d.sfid(p, s, "00D", "an organization id (00D followed by 12 or 15 letters and digits)")}
	case kStatusID:
		if d.sfid(p, s, "0N5", "a presence status id (0N5 followed by 12 or 15 letters and digits)") == "" {
			return parsed{}
		}
	case kSalesforceID:
		return parsed{s: d.sfid(p, s, "", "a Salesforce id (15 or 18 letters and digits)")}
	case kCaseID:
		return parsed{s: d.sfid(p, s, "500", "a case id (500 followed by 12 or 15 letters and digits)")}
	case kOwnerID:
		if strings.HasPrefix(s, "00G") {
			return parsed{s: d.sfid(p, s, "00G", "a user or queue id (005 or 00G followed by 12 or 15 letters and digits)")}
		}
		return parsed{s: d.sfid(p, s, "005", "a user or queue id (005 or 00G followed by 12 or 15 letters and digits)")}
	case kTime:
		return parsed{t: d.time(p, s)}
	case kDevName:
		if !isDeveloperName(s) {
			d.add(p, "must be an API name: a letter, then up to 79 letters, digits or underscores")
			return parsed{}
		}
	case kResult:
		if s != string(AckApplied) && s != string(AckFailed) {
			d.add(p, "must be %q or %q", AckApplied, AckFailed)
			return parsed{}
		}
	case kReason:
		if utf8.RuneCountInString(s) > maxReasonRunes {
			d.add(p, "must be at most %d characters", maxReasonRunes)
			return parsed{}
		}
	case kText:
		if utf8.RuneCountInString(s) > maxTextRunes {
			d.add(p, "must be at most %d characters", maxTextRunes)
			return parsed{}
		}
	}
	return parsed{s: s}
}

// text returns raw as a string, reporting other JSON types.
func (d *decoder) text(p string, raw json.RawMessage) string {
	var s string
	if !isJSONString(raw) || json.Unmarshal(raw, &s) != nil {
		d.add(p, "must be a string, not %s", strictjson.TypeName(raw))
		return ""
	}
	return s
}

// sfid checks a Salesforce id and its key prefix, returning its 18-character form.
func (d *decoder) sfid(p, s, prefix, want string) string {
	id, ok := CaseSafeID(s)
	if !ok || !strings.HasPrefix(s, prefix) {
		d.add(p, "must be %s, not %s", want, quote(s))
		return ""
	}
	return id
}

func (d *decoder) count(p string, raw json.RawMessage) float64 {
	var f float64
	if strictjson.TypeName(raw) != "a number" || json.Unmarshal(raw, &f) != nil {
		d.add(p, "must be a number of 0 or more, not %s", strictjson.TypeName(raw))
		return 0
	}
	if f < 0 {
		d.add(p, "must be 0 or more")
		return 0
	}
	return f
}

func (d *decoder) channels(p string, raw json.RawMessage) []string {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		d.add(p, "must be an array of service channel API names, not %s", strictjson.TypeName(raw))
		return nil
	}
	if len(items) > maxChannels {
		d.add(p, "holds %d channels; at most %d are allowed", len(items), maxChannels)
		return nil
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		ip := fmt.Sprintf("%s[%d]", p, i)
		s := d.text(ip, item)
		switch {
		case s == "" && isJSONString(item):
			d.add(ip, "must not be empty")
		case s != "" && !isDeveloperName(s):
			d.add(ip, "must be an API name: a letter, then up to 79 letters, digits or underscores")
		case s != "":
			out = append(out, s)
		}
	}
	return out
}

// time parses an RFC 3339 time. The shape is checked by hand first because time.Parse also
// accepts forms RFC 3339 does not (a comma before the fraction), which the schema rejects.
func (d *decoder) time(p, s string) time.Time {
	const want = "must be an RFC 3339 time with a time zone, such as 2026-11-21T08:59:58.120Z"
	if !isRFC3339(s) {
		d.add(p, "%s, not %s", want, quote(s))
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.add(p, "%s, not %s", want, quote(s))
		return time.Time{}
	}
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		d.add(p, "is out of range")
		return time.Time{}
	}
	return t
}

// isRFC3339 checks the shape YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), fraction 1 to 9
// digits: the JSON Schema's pattern for times.
func isRFC3339(s string) bool {
	const head = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(head)+1 {
		return false
	}
	for i := range len(head) {
		if head[i] == 'd' {
			if !isDigit(s[i]) {
				return false
			}
		} else if s[i] != head[i] {
			return false
		}
	}
	rest := s[len(head):]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
		if n == 1 || n > 10 {
			return false
		}
		rest = rest[n:]
	}
	if rest == "Z" {
		return true
	}
	return len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && isDigit(rest[1]) && isDigit(rest[2]) &&
		rest[3] == ':' && isDigit(rest[4]) && isDigit(rest[5])
}

// member is one key and value of a JSON object, in document order.
type member struct {
	key string
	raw json.RawMessage
}

// members reads raw as a JSON object keeping every key, duplicates included, which
// json.Unmarshal into a map would hide. raw must be valid JSON.
func members(raw json.RawMessage) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, ok := tok.(string)
		if !ok {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, member{key: key, raw: v})
	}
	return out, true
}

func lookup(ms []member, key string) (json.RawMessage, bool) {
	for _, m := range ms {
		if m.key == key {
			return m.raw, true
		}
	}
	return nil, false
}

func isAllowed(fields []field, key string) bool {
	for _, f := range fields {
		if f.name == key {
			return true
		}
	}
	return false
}

func isJSONString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

// keyPath renders an object key as a JSON path step: .name for plain names, ["..."] otherwise.
func keyPath(key string) string {
	plain := key != ""
	for i := 0; i < len(key) && plain; i++ {
		c := key[i]
		plain = isLetter(c) || c == '_' || (i > 0 && isDigit(c))
	}
	if plain && len(key) <= 64 {
		return "." + key
	}
	return "[" + quote(key) + "]"
}

// quote quotes s for a message, shortened so that a huge value cannot bloat the response.
func quote(s string) string {
	const limit = 64
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

// syntaxMessage explains why body is not JSON, with the byte offset when encoding/json has one.
func syntaxMessage(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return "body is empty; want a JSON object"
	}
	var v any
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	return "invalid JSON"
}
