package rules

import (
	"math"
	"strconv"
)

// Number is an optional number: workloads and capacity are absent from events that don't carry
// them, and absent must not read as zero.
type Number struct {
	Value float64 `json:"value"`
	Valid bool    `json:"valid"`
}

// Num returns a present Number.
func Num(v float64) Number { return Number{Value: v, Valid: true} }

// Facts are the operand values of one event, built by the caller (package presence) and read by
// Evaluate. A state left "" or a Number left invalid is absent: every criterion that reads an
// absent operand is false, whatever its comparator, so "ne" never matches a value that isn't
// there.
type Facts struct {
	// Event is the kind of event; only rules with this source event are considered.
	Event EventKind `json:"event"`

	ConnectNewState  string `json:"connectNewState,omitempty"`
	ConnectOldState  string `json:"connectOldState,omitempty"`
	ConnectNewStatus string `json:"connectNewStatus,omitempty"`
	ConnectOldStatus string `json:"connectOldStatus,omitempty"`

	// SalesforceNewState is a presence status DeveloperName, or "Offline".
	SalesforceNewState string `json:"salesforceNewState,omitempty"`
	SalesforceChannel  string `json:"salesforceChannel,omitempty"`

	PreviousWorkload   Number `json:"previousWorkload"`
	NewWorkload        Number `json:"newWorkload"`
	ConfiguredCapacity Number `json:"configuredCapacity"`
}

// valueKind says what an operandValue holds.
type valueKind uint8

const (
	absent valueKind = iota
	stringValue
	numberValue
)

// operandValue is one operand's value during an evaluation: a string, a number, or absent.
type operandValue struct {
	kind valueKind
	str  string
	num  float64
}

// String renders the value for explanations.
func (v operandValue) String() string {
	switch v.kind {
	case stringValue:
		return strconv.Quote(v.str)
	case numberValue:
		return strconv.FormatFloat(v.num, 'f', -1, 64)
	}
	return "absent"
}

func str(s string) operandValue {
	if s == "" {
		return operandValue{}
	}
	return operandValue{kind: stringValue, str: s}
}

func num(n Number) operandValue {
	if !n.Valid || math.IsNaN(n.Value) || math.IsInf(n.Value, 0) {
		return operandValue{}
	}
	return operandValue{kind: numberValue, num: n.Value}
}

// pct is a workload as a percentage of capacity; absent when capacity is unknown or not positive,
// because a percentage of nothing has no meaning.
func pct(w, capacity Number) operandValue {
	if !w.Valid || !capacity.Valid || capacity.Value <= 0 {
		return operandValue{}
	}
	return num(Num(w.Value * 100 / capacity.Value))
}

// get returns the value of operand id in f.
func (f *Facts) get(id operandID) operandValue {
	switch id {
	case opConnectNewState:
		return str(f.ConnectNewState)
	case opConnectOldState:
		return str(f.ConnectOldState)
	case opConnectNewStatus:
		return str(f.ConnectNewStatus)
	case opConnectOldStatus:
		return str(f.ConnectOldStatus)
	case opSalesforceNewState:
		return str(f.SalesforceNewState)
	case opSalesforceChannel:
		return str(f.SalesforceChannel)
	case opPreviousWorkload:
		return num(f.PreviousWorkload)
	case opNewWorkload:
		return num(f.NewWorkload)
	case opPreviousWorkloadPct:
		return pct(f.PreviousWorkload, f.ConfiguredCapacity)
	case opNewWorkloadPct:
		return pct(f.NewWorkload, f.ConfiguredCapacity)
	case opConfiguredCapacity:
		return num(f.ConfiguredCapacity)
	}
	return operandValue{}
}

// values holds one evaluation's operand values, indexed by operandID. An evaluation reads the
// operands its event's rules use once (the list is made at compile time); each criterion then
// reads its sides by index, with no lookup and no conversion.
type values [len(operandTable)]operandValue

// load reads operands ids from f.
func (v *values) load(f *Facts, ids []operandID) {
	for _, id := range ids {
		v[id] = f.get(id)
	}
}

// compare applies c to two values (see cmpCode.holds).
func compare(c Comparator, a, b operandValue) bool { return c.code().holds(&a, &b) }

// cmpCode is a Comparator compiled to a number, so that evaluation picks no comparator by name.
type cmpCode uint8

const (
	cmpNever cmpCode = iota // an unknown comparator: never holds
	cmpEq
	cmpNe
	cmpGt
	cmpGe
	cmpLt
	cmpLe
)

func (c Comparator) code() cmpCode {
	switch c {
	case Eq:
		return cmpEq
	case Ne:
		return cmpNe
	case Gt:
		return cmpGt
	case Ge:
		return cmpGe
	case Lt:
		return cmpLt
	case Le:
		return cmpLe
	}
	return cmpNever
}

// holds applies c to two present values of the same kind. Validation guarantees the kinds
// agree and that ordering comparators only meet numbers; anything else, an absent value
// included, is false rather than a panic.
func (c cmpCode) holds(a, b *operandValue) bool {
	if a.kind == absent || a.kind != b.kind {
		return false
	}
	if a.kind == stringValue {
		switch c {
		case cmpEq:
			return a.str == b.str
		case cmpNe:
			return a.str != b.str
		}
		return false
	}
	switch c {
	case cmpEq:
		return a.num == b.num
	case cmpNe:
		return a.num != b.num
	case cmpGt:
		return a.num > b.num
	case cmpGe:
		return a.num >= b.num
	case cmpLt:
		return a.num < b.num
	case cmpLe:
		return a.num <= b.num
	}
	return false
}
