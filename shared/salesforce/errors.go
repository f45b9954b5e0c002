package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Salesforce error codes the client acts on.
const (
	// CodeInvalidSession is returned with HTTP 401 when the access token expired or was revoked.
	CodeInvalidSession = "INVALID_SESSION_ID"
	// CodeRequestLimitExceeded is returned with HTTP 403 when the org's API allocation is used up.
	CodeRequestLimitExceeded = "REQUEST_LIMIT_EXCEEDED"
	// CodeOperationEnqueued marks a successfully published platform event, inside "errors".
	CodeOperationEnqueued = "OPERATION_ENQUEUED"
)

// APIError is a failed Salesforce response: the HTTP status and the first entry of Salesforce's
// error array ([{"message","errorCode","fields"}]) or of an OAuth error ({"error","error_description"}).
// Client methods return it wrapped in an *apperr.Error; use errors.As to reach it.
type APIError struct {
	StatusCode int
	ErrorCode  string
	Message    string
	Fields     []string
}

// Error renders the status, code and message.
func (e *APIError) Error() string {
	s := fmt.Sprintf("salesforce: HTTP %d", e.StatusCode)
	if e.ErrorCode != "" {
		s += " " + e.ErrorCode
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if len(e.Fields) > 0 {
		s += " (fields: " + strings.Join(e.Fields, ", ") + ")"
	}
	return s
}

// RecordError is one entry of the "errors" array of a per-record result (collections, sObject
// create, platform events, invocable actions).
type RecordError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields,omitempty"`
}

// parseAPIError builds an APIError from any Salesforce error body. Messages pass through redact
// because a server (or proxy) echoing a request must not put a token into our error strings.
func parseAPIError(status int, body []byte, redact func(string) string) *APIError {
	e := &APIError{StatusCode: status}
	var arr []struct {
		Message   string   `json:"message"`
		ErrorCode string   `json:"errorCode"`
		Fields    []string `json:"fields"`
	}
	var oauth struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	switch {
	case json.Unmarshal(body, &arr) == nil && len(arr) > 0:
		e.ErrorCode, e.Message, e.Fields = arr[0].ErrorCode, arr[0].Message, arr[0].Fields
	case json.Unmarshal(body, &oauth) == nil && oauth.Error != "":
		e.ErrorCode, e.Message = oauth.Error, oauth.Description
	default:
		e.Message = http.StatusText(status)
	}
	e.ErrorCode = redact(e.ErrorCode)
	e.Message = redact(e.Message)
	for i, f := range e.Fields {
		e.Fields[i] = redact(f)
	}
	return e
}

// retryable reports whether the request may succeed later without any change.
func (e *APIError) retryable() bool {
	switch e.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusForbidden:
		return e.ErrorCode == CodeRequestLimitExceeded
	}
	return false
}

// wrap turns any failure of a Salesforce call into an *apperr.Error so callers branch on codes;
// the *APIError or transport error stays reachable as the cause.
func wrap(op string, err error) error {
	if _, ok := errors.AsType[*apperr.Error](err); ok {
		return err
	}
	var ae *APIError
	code := apperr.Internal
	switch {
	case errors.As(err, &ae):
		switch {
		case ae.retryable() || ae.StatusCode >= 500:
			code = apperr.Unavailable
		case ae.StatusCode == http.StatusNotFound:
			code = apperr.NotFound
		case ae.StatusCode == http.StatusBadRequest && op != "token":
			code = apperr.Invalid
		}
		return apperr.Wrap(code, err, "salesforce %s failed (%s)", op, ae.ErrorCode)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.As(err, new(*transportError)):
		code = apperr.Unavailable
	}
	return apperr.Wrap(code, err, "salesforce %s failed", op)
}

// transportError is a request that got no HTTP response. Its message names the method and path
// but not the query string, which may carry SOQL with personal data, and is redacted; the cause
// stays in the chain so errors.Is(err, context.DeadlineExceeded) works.
type transportError struct {
	msg string
	err error
}

func (e *transportError) Error() string { return e.msg }

func (e *transportError) Unwrap() error { return e.err }

// Patterns of secrets that must never surface in an error: Salesforce session ids
// (00D<org id>!<random>) and JWTs (our assertions).
var (
	sessionIDRE = regexp.MustCompile(`00D[0-9A-Za-z]{12,15}![0-9A-Za-z._\-]+`)
	jwtRE       = regexp.MustCompile(`eyJ[0-9A-Za-z_\-]+\.[0-9A-Za-z_\-]+\.[0-9A-Za-z_\-]*`)
)
