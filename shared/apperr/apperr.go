// Package apperr defines Omnibridge's one application error type.
//
// Adapters translate the errors of their dependency (DynamoDB, Salesforce, Connect) into an
// *Error with a Code, so callers branch on codes and never on SDK types. Only the message of an
// error is meant for users; the wrapped cause stays internal and is never rendered to a client.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an application error. Codes are stable strings: they appear in JSON error bodies.
type Code string

// The application's error codes.
const (
	// Internal is an unexpected failure; users see only "internal error".
	Internal Code = "internal"
	// Invalid means the input was rejected; Problems says where.
	Invalid Code = "invalid"
	// NotFound means the requested item does not exist.
	NotFound Code = "not_found"
	// Conflict means a concurrent writer won (an optimistic-lock or condition failure).
	Conflict Code = "conflict"
	// Unauthorized means the caller could not be authenticated.
	Unauthorized Code = "unauthorized"
	// Unavailable means a dependency is throttling or down; the operation may be retried.
	Unavailable Code = "unavailable"
)

// Problem names one thing wrong with an input and where it is, as a JSON path such as
// "$.rules[2].criteria[0].comparator".
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Error is an application error: a code, a user-safe message, optional problems and an internal cause.
type Error struct {
	Code     Code
	Message  string
	Problems []Problem
	Err      error
}

// Error renders the code and message, and the cause for operators' logs.
func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with a code and message that keeps err as its internal cause.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// Invalidf returns an Invalid error carrying every problem found.
func Invalidf(problems []Problem, format string, args ...any) *Error {
	return &Error{Code: Invalid, Message: fmt.Sprintf(format, args...), Problems: problems}
}

// CodeOf returns the code of the first *Error in err's chain, Internal for any other non-nil
// error, and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// Retryable reports whether a retry may succeed where err failed: the cause was unavailable
// (a dependency down or throttling) or unknown (internal). Every other code is final.
func Retryable(err error) bool {
	code := CodeOf(err)
	return code == Unavailable || code == Internal
}

// MessageOf returns the user-safe message of err: the message of its *Error, or "internal error".
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "internal error"
}

// ProblemsOf returns the problems carried by err, if any.
func ProblemsOf(err error) []Problem {
	var e *Error
	if errors.As(err, &e) {
		return e.Problems
	}
	return nil
}
