package engine

import (
	"encoding/json"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// MarshalJSON writes the report with its errors as their user-safe messages: an error value has
// no JSON form of its own and would print as {}.
func (r FlushReport) MarshalJSON() ([]byte, error) {
	type plain FlushReport
	out := struct {
		plain
		Errors []string `json:"errors,omitempty"`
	}{plain: plain(r)}
	for _, err := range r.Errors {
		out.Errors = append(out.Errors, apperr.MessageOf(err))
	}
	return json.Marshal(out)
}

// MarshalJSON writes the failure with its error as its user-safe message.
func (f CommandFailure) MarshalJSON() ([]byte, error) {
	type plain CommandFailure
	out := struct {
		plain
		Error string `json:"error,omitempty"`
	}{plain: plain(f)}
	if f.Err != nil {
		out.Error = apperr.MessageOf(f.Err)
	}
	return json.Marshal(out)
}
