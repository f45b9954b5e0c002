package sfsim

import (
	"strings"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// knownPrefixes are the real key prefixes of the objects Omnibridge touches; other types get
// generated prefixes, as custom objects do in a real org.
var knownPrefixes = map[string]string{
	"user":                  "005",
	"case":                  "500",
	"contact":               "003",
	"account":               "001",
	"group":                 "00G",
	"task":                  "00T",
	"servicepresencestatus": "0N5",
	"userservicepresence":   "0Hn",
	"authsession":           "0Ak",
}

// checksumAlphabet maps the 5-bit uppercase mask of each 5-character chunk to one suffix character.
const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// CaseSafeID returns the 18-character form of a 15-character Salesforce id: the id followed by
// three characters that encode which of its letters are upper case, so that the id survives
// case-insensitive systems. An 18-character id is returned unchanged; anything else as is.
func CaseSafeID(id string) string {
	if len(id) != 15 {
		return id
	}
	var suffix [3]byte
	for chunk := range 3 {
		mask := 0
		for j := range 5 {
			if c := id[chunk*5+j]; c >= 'A' && c <= 'Z' {
				mask |= 1 << j
			}
		}
		suffix[chunk] = checksumAlphabet[mask]
	}
	return id + string(suffix[:])
}

// normalizeID returns the case-sensitive 15-character form of a 15- or 18-character id. An 18-char
// id whose case was lost is repaired from its suffix, as Salesforce does.
func normalizeID(id string) (string, bool) {
	if !isIDShape(id) {
		return "", false
	}
	if len(id) == 15 {
		return id, true
	}
	b := []byte(id[:15])
	for chunk := range 3 {
		mask := strings.IndexByte(checksumAlphabet, upper(id[15+chunk]))
		if mask < 0 {
			return "", false
		}
		for j := range 5 {
			c := b[chunk*5+j]
			if mask&(1<<j) != 0 {
				b[chunk*5+j] = upper(c)
			} else if c >= 'A' && c <= 'Z' {
				b[chunk*5+j] = c + ('a' - 'A')
			}
		}
	}
	return string(b), true
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func isIDShape(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	return true
}

// encode62 writes n in base 62, zero-padded to width.
func encode62(n uint64, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	return string(b)
}

// newID returns the next 15-character id with the given key prefix. "xx" stands for the
// instance, as in Salesforce's documentation examples.
func (o *Org) newID(prefix string) string {
	o.nextID++
	return prefix + "xx" + encode62(o.nextID, 10)
}

// prefixFor returns the key prefix of an sObject type, generating one for unknown types:
// custom objects get a0x-style prefixes and platform events e0x-style ones.
func (o *Org) prefixFor(name string) string {
	if p, ok := knownPrefixes[strings.ToLower(name)]; ok {
		return p
	}
	o.generated++
	lead := "a"
	if strings.HasSuffix(strings.ToLower(name), "__e") {
		lead = "e"
	}
	return lead + encode62(uint64(o.generated), 2)
}
