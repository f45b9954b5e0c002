package sfevents

import "strings"

// checksumAlphabet maps the 5-bit upper-case mask of each 5-character chunk of a Salesforce id
// to one character of the 18-character id's suffix.
const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// CaseSafeID returns the 18-character, case-insensitive form of a 15- or 18-character Salesforce
// id, the form the REST API returns. An 18-character id whose case was lost (for example by a
// spreadsheet) is repaired from its suffix, as Salesforce does. It reports false for anything
// that is not an id.
//
// The bridge keys agents by this form, so a console that reports a 15-character id and a query
// that returns the 18-character one name the same user.
func CaseSafeID(id string) (string, bool) {
	if !isIDShape(id) {
		return "", false
	}
	b := []byte(id[:15])
	if len(id) == 18 {
		for chunk := range 3 {
			mask := strings.IndexByte(checksumAlphabet, upper(id[15+chunk]))
			if mask < 0 {
				return "", false
			}
			for j := range 5 {
				c := &b[chunk*5+j]
				isUpper := mask&(1<<j) != 0
				switch {
				case isLetter(*c) && isUpper:
					*c = upper(*c)
				case isLetter(*c):
					*c = lower(*c)
				case isUpper:
					// A digit cannot be upper case: the suffix belongs to another id.
					return "", false
				}
			}
		}
	}
	return string(b) + suffix(b), true
}

// suffix computes the three checksum characters of a case-correct 15-character id.
func suffix(id []byte) string {
	var s [3]byte
	for chunk := range 3 {
		mask := 0
		for j := range 5 {
			if c := id[chunk*5+j]; c >= 'A' && c <= 'Z' {
				mask |= 1 << j
			}
		}
		s[chunk] = checksumAlphabet[mask]
	}
	return string(s[:])
}

// isIDShape reports whether s looks like a Salesforce id: 15 letters and digits, optionally
// followed by a 3-character suffix drawn from the checksum alphabet (in either case).
func isIDShape(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for i := range 15 {
		if !isLetter(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	for i := 15; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && (c < '0' || c > '5') {
			return false
		}
	}
	return true
}

// isOpaqueID reports whether s is acceptable as an event or command id: 1 to 128 characters,
// starting with a letter or digit, then letters, digits, '.', '_', ':' or '-'. UUIDs and the
// bridge's hex command ids fit; the restriction keeps ids safe as storage keys and log values.
func isOpaqueID(s string) bool {
	if len(s) == 0 || len(s) > 128 || (!isLetter(s[0]) && !isDigit(s[0])) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !isDigit(c) && c != '.' && c != '_' && c != ':' && c != '-' {
			return false
		}
	}
	return true
}

// isDeveloperName reports whether s has the shape of a Salesforce API name: a letter, then up to
// 79 letters, digits or underscores.
func isDeveloperName(s string) bool {
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

func isLetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c - 'A' + 'a'
	}
	return c
}
