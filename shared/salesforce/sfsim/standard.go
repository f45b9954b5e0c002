package sfsim

import (
	"fmt"
	"strings"
	"time"
)

// standardBehaviour is what a standard object does on every write, beyond storing fields: the
// fields Salesforce requires, the ones it computes (read-only through the API), and the
// computation.
type standardBehaviour struct {
	required []string
	computed []string
	// derive fills computed fields and defaults in f, the record's fields after the write;
	// created is set for inserts. It runs under the write lock.
	derive func(o *Org, f map[string]any, created bool, now time.Time)
}

var standardBehaviours = map[string]standardBehaviour{
	"case": {computed: []string{"CaseNumber", "IsClosed"}, derive: func(o *Org, f map[string]any, created bool, now time.Time) {
		if created {
			if n, _ := f["CaseNumber"].(string); n == "" {
				o.caseNumber++
				f["CaseNumber"] = fmt.Sprintf("%08d", o.caseNumber) // the default auto-number format
			}
			setDefault(f, "Status", "New")
			setDefault(f, "Priority", "Medium")
		}
		closed := f["Status"] == "Closed"
		f["IsClosed"] = closed
		if closed && f["ClosedDate"] == nil {
			f["ClosedDate"] = now
		}
	}},
	"contact": {required: []string{"LastName"}, computed: []string{"Name"}, derive: func(_ *Org, f map[string]any, _ bool, _ time.Time) {
		f["Name"] = fullName(f)
	}},
	"lead": {required: []string{"LastName", "Company"}, computed: []string{"Name"}, derive: func(_ *Org, f map[string]any, created bool, _ time.Time) {
		f["Name"] = fullName(f)
		if created {
			setDefault(f, "Status", "Open - Not Contacted")
			setDefault(f, "IsConverted", false)
		}
	}},
	"task": {computed: []string{"IsClosed"}, derive: func(_ *Org, f map[string]any, created bool, _ time.Time) {
		if created {
			setDefault(f, "Status", "Not Started")
			setDefault(f, "Priority", "Normal")
		}
		f["IsClosed"] = f["Status"] == "Completed"
	}},
	"casecomment":  {required: []string{"ParentId"}},
	"queuesobject": {required: []string{"QueueId", "SobjectType"}},
	"group":        {required: []string{"Name"}},
}

func setDefault(f map[string]any, name string, v any) {
	if cur, ok := f[name]; !ok || cur == nil || cur == "" {
		f[name] = v
	}
}

// fullName is the compound Name of a Contact or Lead.
func fullName(f map[string]any) string {
	first, _ := f["FirstName"].(string)
	last, _ := f["LastName"].(string)
	return strings.TrimSpace(first + " " + last)
}

// installStandardRules adds the required-field rules of the standard objects.
func (o *Org) installStandardRules() {
	for name, b := range standardBehaviours {
		if len(b.required) > 0 {
			o.RequireFields(standardObjects[name].name, b.required...)
		}
	}
}

// computedField reports whether field of type t is computed by Salesforce and so read-only.
func computedField(t *table, field string) bool {
	for _, c := range standardBehaviours[strings.ToLower(t.name)].computed {
		if strings.EqualFold(c, field) {
			return true
		}
	}
	return false
}

// derive applies the type's computed fields to f, a record's fields after a write.
func (o *Org) derive(t *table, f map[string]any, created bool, now time.Time) {
	if b := standardBehaviours[strings.ToLower(t.name)]; b.derive != nil {
		b.derive(o, f, created, now)
	}
}
