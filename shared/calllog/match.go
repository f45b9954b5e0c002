package calllog

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
)

// Candidate is a Salesforce record found with the caller's number.
type Candidate struct {
	// ID is the Contact or Lead id.
	ID string `json:"id"`
	// Type is "Contact" or "Lead".
	Type string `json:"type"`
	// AccountID is the Contact's Account, when it has one.
	AccountID string `json:"accountId,omitempty"`
	// LastModified is LastModifiedDate.
	LastModified time.Time `json:"lastModified,omitzero"`
}

// The matching outcomes.
const (
	// MatchFound: one record has the number, or the tie-break chose one of several.
	MatchFound = "matched"
	// MatchCreateContact: nobody has the number; a Contact is created.
	MatchCreateContact = "create-contact"
	// MatchCreateLead: nobody has the number; a Lead is created.
	MatchCreateLead = "create-lead"
	// MatchNone: the Case is created without a Contact (no match and onNoMatch none, or
	// several matches and tie-break none).
	MatchNone = "none"
)

// Match is the matching decision for one caller.
type Match struct {
	// Outcome is one of the Match constants.
	Outcome string `json:"outcome"`
	// Chosen is the record used when Outcome is MatchFound.
	Chosen *Candidate `json:"chosen,omitempty"`
	// Candidates are every record found, most recently modified first.
	Candidates []Candidate `json:"candidates,omitempty"`
	// Ambiguous is set when several records matched.
	Ambiguous bool `json:"ambiguous,omitempty"`
	// Via says how the records were found: "sosl" or "soql" (the fallback).
	Via string `json:"via,omitempty"`
	// Reason explains the decision for the audit log.
	Reason string `json:"reason"`
}

// Decide chooses among the records found with the caller's number, per the config's tieBreak
// and onNoMatch. Contacts are preferred over Leads; among several, the most recently modified
// wins under TieBreakMostRecentlyModified (ties broken by id, so the choice is stable), and
// none under TieBreakNone.
func Decide(found []Candidate, cfg config.CallLogging) Match {
	cfg = cfg.WithDefaults()
	cands := slices.Clone(found)
	slices.SortStableFunc(cands, func(a, b Candidate) int {
		if a.Type != b.Type {
			if a.Type == "Contact" {
				return -1
			}
			if b.Type == "Contact" {
				return 1
			}
		}
		if c := b.LastModified.Compare(a.LastModified); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	m := Match{Candidates: cands}
	if len(cands) == 0 {
		switch cfg.OnNoMatch {
		case config.OnNoMatchCreateLead:
			m.Outcome, m.Reason = MatchCreateLead, "no Contact or Lead has the number: a Lead is created"
		case config.OnNoMatchNone:
			m.Outcome, m.Reason = MatchNone, "no Contact has the number and onNoMatch is none: the Case has no Contact"
		default:
			m.Outcome, m.Reason = MatchCreateContact, "no Contact has the number: a Contact is created"
		}
		return m
	}
	top := cands[0]
	same := 0
	for _, c := range cands {
		if c.Type == top.Type {
			same++
		}
	}
	if same == 1 {
		m.Outcome, m.Chosen, m.Reason = MatchFound, &top, "one "+top.Type+" has the number"
		return m
	}
	m.Ambiguous = true
	if cfg.TieBreak == config.TieBreakNone {
		m.Outcome, m.Reason = MatchNone, strconv.Itoa(same)+" "+top.Type+"s have the number and tieBreak is none: the Case has no Contact"
		return m
	}
	m.Outcome, m.Chosen = MatchFound, &top
	m.Reason = strconv.Itoa(same) + " " + top.Type + "s have the number: the most recently modified was chosen"
	return m
}
