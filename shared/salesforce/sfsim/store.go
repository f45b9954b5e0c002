package sfsim

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// table is one sObject type: its schema (field names as first seen, looked up
// case-insensitively, as Salesforce does) and its records in insertion order.
type table struct {
	name   string
	prefix string
	fields map[string]string // lower-case name → canonical name
	order  []string          // canonical names, in the order first seen
	strict bool              // DefineObject: API writes may not add fields
	recs   []*record
}

type record struct {
	id  string // 15-character id
	t   *table
	seq int
	f   map[string]any // canonical field name → string, float64, bool, time.Time or nil; replaced, never mutated, once stored
}

// get reads a field by any spelling of its name.
func (r *record) get(name string) any {
	if c, ok := r.t.fields[strings.ToLower(name)]; ok {
		return r.f[c]
	}
	return nil
}

func (t *table) addField(name string) string {
	if c, ok := t.fields[strings.ToLower(name)]; ok {
		return c
	}
	t.fields[strings.ToLower(name)] = name
	t.order = append(t.order, name)
	return name
}

func (t *table) isEvent() bool { return strings.HasSuffix(strings.ToLower(t.name), "__e") }

// systemFields exist on every object and cannot be written through the API.
var systemFields = []string{"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"}

// validName reports whether s is a plausible API name: a letter, then letters, digits and
// underscores, at most 80 characters. (Hand-written: it runs for every field of every insert.)
func validName(s string) bool {
	if len(s) == 0 || len(s) > 80 || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

// table returns the table for an sObject type, creating it when create is set. Known standard
// types exist from the start, as they do in a real org. It may store a table: call it under the
// write lock.
func (o *Org) table(name string, create bool) *table {
	key := strings.ToLower(name)
	if t, ok := o.types[key]; ok {
		return t
	}
	_, known := standardObjects[key]
	if (!create && !known) || !validName(name) {
		return nil
	}
	t := o.newTable(name)
	o.types[key] = t
	return t
}

// readTable returns the table a query reads, under the read lock: a standard type nothing has
// been written to yet reads as an empty table with its standard fields, and is not stored.
func (o *Org) readTable(name string) *table {
	key := strings.ToLower(name)
	if t, ok := o.types[key]; ok {
		return t
	}
	if _, known := standardObjects[key]; known {
		return o.newTable(name)
	}
	return nil
}

// newTable builds an empty table with the system fields and, for a standard type, its canonical
// name and standard fields.
func (o *Org) newTable(name string) *table {
	std, known := standardObjects[strings.ToLower(name)]
	t := &table{name: name, prefix: o.prefixFor(name), fields: map[string]string{}}
	if known { // canonical spelling of a standard object, whatever the caller typed
		t.name = std.name
	}
	for _, f := range systemFields {
		t.addField(f)
	}
	for _, f := range std.fields {
		t.addField(f)
	}
	return t
}

// DefineObject declares an sObject type and its fields. A declared type is strict: API writes that
// name other fields fail with INVALID_FIELD, which catches field-name typos in tests. Records
// inserted from Go may still add fields.
func (o *Org) DefineObject(sObject string, fields ...string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.table(sObject, true)
	if t == nil {
		return fmt.Errorf("sfsim: invalid sObject name %q", sObject)
	}
	for _, f := range fields {
		if !validName(f) {
			return fmt.Errorf("sfsim: invalid field name %q", f)
		}
		t.addField(f)
	}
	t.strict = true
	return nil
}

// ValidationRule checks a record about to be created or updated through the API (fields holds the
// merged values under their canonical names) and returns a non-nil *Error to reject it. Rules run
// while the org is locked and must not call the Org.
type ValidationRule func(fields map[string]any) *Error

// AddValidationRule adds a rule for sObject (platform events included). Records inserted from Go
// bypass rules, so seeds are never rejected.
func (o *Org) AddValidationRule(sObject string, rule ValidationRule) {
	o.mu.Lock()
	defer o.mu.Unlock()
	key := strings.ToLower(sObject)
	o.rules[key] = append(o.rules[key], rule)
}

// RequireFields adds a rule that rejects records of sObject lacking any of fields with
// REQUIRED_FIELD_MISSING, as a required field does in Salesforce.
func (o *Org) RequireFields(sObject string, fields ...string) {
	o.AddValidationRule(sObject, func(rec map[string]any) *Error {
		var missing []string
		for _, f := range fields {
			v, ok := lookupFold(rec, f)
			if s, isStr := v.(string); !ok || v == nil || (isStr && s == "") {
				missing = append(missing, f)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		return &Error{Code: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [" + strings.Join(missing, ", ") + "]", Fields: missing}
	})
}

func lookupFold(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// Insert adds a record from Go and returns its 18-character id. fields may set Id (15 or 18
// characters) and the system timestamps; values may be nil, string, bool, any integer or float
// type, json.Number or time.Time. Validation rules do not apply.
func (o *Org) Insert(sObject string, fields map[string]any) (string, error) {
	ids, err := o.InsertMany(sObject, []map[string]any{fields})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// InsertMany adds records of one sObject type from Go, as Insert does, and returns their
// 18-character ids in order. It takes the org's lock once, so seeding tens of thousands of
// records costs a fraction of a second. It is all or nothing: when a record is invalid, none is
// inserted and the error names the record's index.
func (o *Org) InsertMany(sObject string, records []map[string]any) ([]string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.table(sObject, true)
	if t == nil {
		return nil, fmt.Errorf("sfsim: invalid sObject name %q", sObject)
	}
	if t.isEvent() {
		return nil, fmt.Errorf("sfsim: %s is a platform event; publish it through the API", t.name)
	}
	writes := make([]*write, len(records))
	var explicit map[string]bool // explicit Ids in this batch, which prepare cannot see yet
	for i, fields := range records {
		w, e := o.prepare(t, nil, fields, true)
		if e == nil && w.id != "" {
			if explicit == nil {
				explicit = map[string]bool{}
			}
			if explicit[w.id] {
				e = &Error{Code: "INVALID_ID_FIELD", Message: fmt.Sprintf("duplicate Id %q", CaseSafeID(w.id)), Fields: []string{"Id"}}
			}
			explicit[w.id] = true
		}
		if e != nil {
			if len(records) == 1 {
				return nil, fmt.Errorf("sfsim: %s: %s", e.Code, e.Message)
			}
			return nil, fmt.Errorf("sfsim: %s[%d]: %s: %s", t.name, i, e.Code, e.Message)
		}
		writes[i] = w
	}
	ids := make([]string, len(writes))
	for i, w := range writes {
		if w.id == "" { // generated ids must not take an explicit id of a later record
			w.id = o.newID(t.prefix, explicit)
		}
		ids[i] = CaseSafeID(o.commit(w))
	}
	return ids, nil
}

// Update changes fields of the record with the given 15- or 18-character id from Go, as an
// admin or a user editing it would (LastModifiedDate moves; validation rules do not apply).
func (o *Org) Update(id string, fields map[string]any) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	id15, ok := normalizeID(id)
	rec := o.byID[id15]
	if !ok || rec == nil {
		return fmt.Errorf("sfsim: update: no record with id %q", id)
	}
	w, e := o.prepare(rec.t, rec, fields, true)
	if e != nil {
		return fmt.Errorf("sfsim: update %s: %s: %s", id, e.Code, e.Message)
	}
	o.commit(w)
	return nil
}

// Delete removes records by their 15- or 18-character ids from Go, as DELETE
// /sobjects/<Type>/<id> does through the API (an ended AuthSession, for instance). It is all or
// nothing: when an id matches no record, nothing is deleted.
func (o *Org) Delete(ids ...string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	doomed := make(map[*record]bool, len(ids))
	for _, id := range ids {
		id15, ok := normalizeID(id)
		r := o.byID[id15]
		if !ok || r == nil {
			return fmt.Errorf("sfsim: delete: no record with id %q", id)
		}
		doomed[r] = true
	}
	tables := map[*table]bool{}
	for r := range doomed {
		delete(o.byID, r.id)
		tables[r.t] = true
	}
	for t := range tables { // one pass per table, however many records go
		t.recs = slices.DeleteFunc(t.recs, func(r *record) bool { return doomed[r] })
	}
	return nil
}

// Record returns the type and a copy of the fields of the record with the given 15- or
// 18-character id. Values are as stored: string, float64, bool, time.Time (UTC) or nil.
func (o *Org) Record(id string) (sObject string, fields map[string]any, ok bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	id15, ok := normalizeID(id)
	if !ok {
		return "", nil, false
	}
	r, ok := o.byID[id15]
	if !ok {
		return "", nil, false
	}
	return r.t.name, maps.Clone(r.f), true
}

// Count returns the number of records of sObject.
func (o *Org) Count(sObject string) int {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if t := o.types[strings.ToLower(sObject)]; t != nil {
		return len(t.recs)
	}
	return 0
}

// Seed is the JSON seed-file format read by LoadSeed:
//
//	{
//	  "objects": {"Omnibridge_Presence_Command__e": ["UserId__c", "StatusId__c"]},
//	  "records": {
//	    "User": [{"Id": "005xx000001SwiUAAS", "Username": "agent@example.com", "IsActive": true}],
//	    "ServicePresenceStatus": [{"Id": "0N5xx0000004CSOAAA", "DeveloperName": "Available"}]
//	  }
//	}
//
// "objects" declares strict types as DefineObject does. "records" inserts records as Insert does,
// types in name order and records in array order; give explicit Ids to link records.
type Seed struct {
	Objects map[string][]string         `json:"objects"`
	Records map[string][]map[string]any `json:"records"`
}

// LoadSeed reads a Seed document and inserts its contents.
func (o *Org) LoadSeed(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var s Seed
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("sfsim: seed: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Objects)) {
		if err := o.DefineObject(name, s.Objects[name]...); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Records)) {
		for i, rec := range s.Records[name] {
			if _, err := o.Insert(name, rec); err != nil {
				return fmt.Errorf("sfsim: seed %s[%d]: %w", name, i, err)
			}
		}
	}
	return nil
}

// Event is one published platform event.
type Event struct {
	Type        string
	ID          string
	ReplayID    int64
	EventUUID   string
	PublishedAt time.Time
	Fields      map[string]any
}

// Events returns a copy of the event log, oldest first.
func (o *Org) Events() []Event {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := make([]Event, len(o.events))
	for i, e := range o.events {
		e.Fields = maps.Clone(e.Fields)
		out[i] = e
	}
	return out
}

// ClearEvents empties the event log; replay ids keep increasing.
func (o *Org) ClearEvents() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = o.events[:0:0]
}

// write is a validated create or update, ready to commit.
type write struct {
	t         *table
	rec       *record // nil for a create
	vals      map[string]any
	id        string   // explicit id of a trusted create
	newFields []string // fields the type does not have yet
}

// prepare validates fields for a create (rec nil) or update of t. trusted writes come from Go
// and may set Id and system fields, may add fields to strict types, and skip validation rules.
func (o *Org) prepare(t *table, rec *record, fields map[string]any, trusted bool) (*write, *Error) {
	w := &write{t: t, rec: rec, vals: make(map[string]any, len(fields))}
	var readOnly []string
	for k, v := range fields {
		if k == "attributes" {
			continue
		}
		if !validName(k) {
			return nil, &Error{Code: "INVALID_FIELD", Message: fmt.Sprintf("No such column '%s' on sobject of type %s", k, t.name), Fields: []string{k}}
		}
		canon, known := t.fields[strings.ToLower(k)]
		if !known {
			if t.strict && !trusted {
				return nil, &Error{Code: "INVALID_FIELD", Message: fmt.Sprintf("No such column '%s' on sobject of type %s", k, t.name), Fields: []string{k}}
			}
			canon = k
			w.newFields = append(w.newFields, k)
		}
		nv, err := normValue(v)
		if err != nil {
			return nil, &Error{Code: "INVALID_FIELD_FOR_INSERT_UPDATE", Message: fmt.Sprintf("Cannot deserialize value of field %s: %v", k, err), Fields: []string{canon}}
		}
		if !trusted && computedField(t, canon) {
			readOnly = append(readOnly, canon)
			continue
		}
		if slices.Contains(systemFields, canon) {
			switch {
			case canon == "Id" && rec != nil:
				continue // collections updates carry the Id in the record body
			case !trusted:
				readOnly = append(readOnly, canon)
				continue
			case canon == "Id":
				s, _ := nv.(string)
				id, ok := normalizeID(s)
				// A hand-written 18-character id with a wrong suffix would silently turn into
				// another id; reject it instead.
				if !ok || o.byID[id] != nil || (len(s) == 18 && CaseSafeID(s[:15]) != s) {
					return nil, &Error{Code: "INVALID_ID_FIELD", Message: fmt.Sprintf("invalid, duplicate or wrongly case-encoded Id %q", s), Fields: []string{"Id"}}
				}
				w.id = id
				continue
			default:
				if s, ok := nv.(string); ok {
					if tm, ok := parseDateTime(s); ok {
						nv = tm
					}
				}
			}
		}
		w.vals[canon] = nv
	}
	if len(readOnly) > 0 {
		slices.Sort(readOnly)
		return nil, &Error{Code: "INVALID_FIELD_FOR_INSERT_UPDATE", Message: "Unable to create/update fields: " + strings.Join(readOnly, ", ") +
			". Please check the security settings of this field and verify that it is read/write for your profile or permission set.", Fields: readOnly}
	}
	if !trusted {
		merged := w.vals
		if rec != nil {
			merged = maps.Clone(rec.f)
			maps.Copy(merged, w.vals)
		}
		for _, rule := range o.rules[strings.ToLower(t.name)] {
			if e := rule(maps.Clone(merged)); e != nil {
				if e.Fields == nil {
					e.Fields = []string{}
				}
				return nil, e
			}
		}
	}
	return w, nil
}

// commit applies a prepared write and returns the record's 15-character id. Platform events are
// appended to the event log instead of stored.
func (o *Org) commit(w *write) string {
	now := o.now().UTC().Truncate(time.Millisecond)
	for _, k := range w.newFields {
		// Two records of one InsertMany batch may spell a new field differently; store it
		// under the spelling the type adopted first.
		if c := w.t.addField(k); c != k {
			if _, clash := w.vals[c]; !clash {
				w.vals[c] = w.vals[k]
			}
			delete(w.vals, k)
		}
	}
	if w.t.isEvent() {
		id := o.newID(w.t.prefix, nil)
		uuid := newUUID()
		o.replaySeq++
		o.events = append(o.events, Event{Type: w.t.name, ID: CaseSafeID(id), ReplayID: o.replaySeq,
			EventUUID: uuid, PublishedAt: now, Fields: w.vals})
		return id
	}
	if w.rec != nil {
		// Copy on write: open query cursors keep the map they snapshotted.
		f := maps.Clone(w.rec.f)
		maps.Copy(f, w.vals)
		f["LastModifiedDate"], f["SystemModstamp"] = now, now
		o.derive(w.t, f, false, now)
		w.rec.f = f
		return w.rec.id
	}
	id := w.id
	if id == "" {
		id = o.newID(w.t.prefix, nil)
	}
	o.seq++
	rec := &record{id: id, t: w.t, seq: o.seq, f: w.vals}
	rec.f["Id"] = CaseSafeID(id)
	var stamp any = now // boxed once for the three fields
	for _, f := range systemFields[1:] {
		if _, set := rec.f[f]; !set {
			rec.f[f] = stamp
		}
	}
	o.derive(w.t, rec.f, true, now)
	w.t.recs = append(w.t.recs, rec)
	o.byID[id] = rec
	return id
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// deleteRecord removes a record from its table and the id index.
func (o *Org) deleteRecord(r *record) {
	delete(o.byID, r.id)
	r.t.recs = slices.DeleteFunc(r.t.recs, func(x *record) bool { return x == r })
}

// normValue converts a Go or JSON value to the simulator's value types.
func normValue(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool, float64:
		return v, nil
	case json.Number:
		return v.Float64()
	case int:
		return float64(v), nil
	case int8:
		return float64(v), nil
	case int16:
		return float64(v), nil
	case int32:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case uint:
		return float64(v), nil
	case uint8:
		return float64(v), nil
	case uint16:
		return float64(v), nil
	case uint32:
		return float64(v), nil
	case uint64:
		return float64(v), nil
	case float32:
		return float64(v), nil
	case time.Time:
		return v.UTC(), nil
	default:
		return nil, fmt.Errorf("unsupported value type %T", v)
	}
}

// Salesforce's dateTime wire format, and the literal forms SOQL and JSON input may use.
const sfTimeLayout = "2006-01-02T15:04:05.000-0700"

var dateTimeLayouts = []string{sfTimeLayout, time.RFC3339Nano, "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05.000Z07:00"}

func parseDateTime(s string) (time.Time, bool) {
	if len(s) < 20 || s[10] != 'T' {
		return time.Time{}, false
	}
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// jsonValue renders a stored value for a response.
func jsonValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format("2006-01-02T15:04:05.000+0000")
	}
	return v
}
