package routing

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxSkillsLength is SORS' limit on a case's skills value, all skills and separators together.
const MaxSkillsLength = 255

// maxSkillName is Connect's limit on a predefined attribute value.
const maxSkillName = 64

// SkillsError says why a skills value breaks the rules; its text goes to the case's routing
// status, so it is written for a Salesforce admin.
type SkillsError struct{ Reason string }

func (e *SkillsError) Error() string { return e.Reason }

// ParseSkills reads a case's skills value under SORS' rules: skill names separated by
// semicolons, none starting with a space, no "|", at most MaxSkillsLength characters in all.
// Each name must be one of Connect's (known reports whether it is); a name given twice counts
// once. An empty value means no skills. The error is a *SkillsError.
func ParseSkills(raw string, known func(string) bool) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	if n := utf8.RuneCountInString(raw); n > MaxSkillsLength {
		return nil, &SkillsError{fmt.Sprintf("skills must be at most %d characters, not %d", MaxSkillsLength, n)}
	}
	if strings.Contains(raw, "|") {
		return nil, &SkillsError{`skills must not contain "|"; separate them with ";"`}
	}
	var out []string
	seen := map[string]bool{}
	var unknown []string
	for i, s := range strings.Split(raw, ";") {
		switch {
		case s == "":
			return nil, &SkillsError{fmt.Sprintf("skill %d is empty (two semicolons in a row, or one at an end)", i+1)}
		case strings.HasPrefix(s, " ") || strings.HasPrefix(s, "\t"):
			return nil, &SkillsError{fmt.Sprintf("skill %q starts with a space", s)}
		case strings.TrimRight(s, " \t") != s:
			return nil, &SkillsError{fmt.Sprintf("skill %q ends with a space", s)}
		case utf8.RuneCountInString(s) > maxSkillName:
			return nil, &SkillsError{fmt.Sprintf("skill %q is longer than Connect's %d characters", s, maxSkillName)}
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		if !known(s) {
			unknown = append(unknown, s)
			continue
		}
		out = append(out, s)
	}
	if len(unknown) > 0 {
		return nil, &SkillsError{fmt.Sprintf("Connect has no skill %s (names match exactly, case included)", quoteList(unknown))}
	}
	return out, nil
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
