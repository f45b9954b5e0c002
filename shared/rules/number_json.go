package rules

import (
	"bytes"
	"encoding/json"
	"errors"
)

// MarshalJSON writes a present Number as a plain JSON number and an absent one as null, so
// that API answers and simulate requests read as numbers, not as {"value", "valid"} pairs.
func (n Number) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(n.Value)
}

// UnmarshalJSON reads a JSON number (present) or null (absent). It also reads the
// {"value": 3, "valid": true} object that Numbers were stored as before, so stored agent
// states written by an earlier build still load.
func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*n = Number{}
		return nil
	case len(b) > 0 && b[0] == '{':
		var legacy struct {
			Value float64 `json:"value"`
			Valid bool    `json:"valid"`
		}
		if err := json.Unmarshal(b, &legacy); err != nil {
			return errNumber
		}
		*n = Number{Value: legacy.Value, Valid: legacy.Valid}
		return nil
	}
	var v float64
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) || json.Unmarshal(b, &v) != nil {
		return errNumber
	}
	*n = Num(v)
	return nil
}

var errNumber = errors.New("must be a number, or null when absent")
