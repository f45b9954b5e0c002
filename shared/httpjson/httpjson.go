// Package httpjson holds what every Omnibridge HTTP API shares: JSON responses, the one mapping
// from application error codes to HTTP statuses, and request-body reading with size and media
// type limits.
package httpjson

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Write sends v as a JSON response with the given status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names the error's code, a user-safe message and, for invalid input, each problem.
type ErrorDetail struct {
	Code     string            `json:"code"`
	Message  string            `json:"message"`
	Problems []apperr.Problem  `json:"problems,omitempty"`
	Warnings []apperr.Problem  `json:"warnings,omitempty"`
	Extra    map[string]string `json:"extra,omitempty"`
}

// Status maps an application error code to its HTTP status. It is the only such mapping.
func Status(code apperr.Code) int {
	switch code {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case UnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case PreconditionRequired:
		return http.StatusPreconditionRequired
	case MethodNotAllowed:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// HTTP-only error codes, for conditions that exist only at the HTTP edge.
const (
	TooLarge             apperr.Code = "too_large"
	UnsupportedMediaType apperr.Code = "unsupported_media_type"
	PreconditionRequired apperr.Code = "precondition_required"
	MethodNotAllowed     apperr.Code = "method_not_allowed"
)

// WriteError sends err as a JSON error response. Internal errors show only "internal error";
// unauthorized ones carry no detail.
func WriteError(w http.ResponseWriter, err error) {
	code := apperr.CodeOf(err)
	body := ErrorBody{Error: ErrorDetail{Code: string(code), Message: apperr.MessageOf(err), Problems: apperr.ProblemsOf(err)}}
	if code == apperr.Unauthorized {
		body.Error.Message = "unauthorized"
	}
	Write(w, Status(code), body)
}

// ReadBody reads a JSON request body of at most limit bytes. It fails with
// UnsupportedMediaType when the Content-Type is not JSON, TooLarge past the limit, and Invalid
// when the body is empty.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !isJSONSuffix(mt)) {
		return nil, apperr.New(UnsupportedMediaType, "Content-Type must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, apperr.New(TooLarge, "request body exceeds %d bytes", limit)
		}
		return nil, apperr.Wrap(apperr.Invalid, err, "request body could not be read")
	}
	if len(body) == 0 {
		return nil, apperr.Invalidf([]apperr.Problem{{Path: "$", Message: "body is empty"}}, "request body is empty")
	}
	return body, nil
}

// probeMethods are the methods Allowed tries; HEAD is served by every GET route.
var probeMethods = []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodPost, http.MethodPut}

// Allowed lists the methods mux serves at r's path, OPTIONS included, in alphabetical order; it is
// empty when no route has that path.
func Allowed(mux *http.ServeMux, r *http.Request) []string {
	var allowed []string
	for _, m := range probeMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) == 0 {
		return nil
	}
	allowed = append(allowed, http.MethodOptions)
	slices.Sort(allowed)
	return allowed
}

// Unrouted answers a request mux has no route for. On a path mux serves with other methods it
// sets the Allow header; OPTIONS is then answered 204 and Unrouted returns nil, and any other
// method gets a MethodNotAllowed error for the caller to write. A path with no route at all
// gets a NotFound error.
func Unrouted(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) error {
	allowed := Allowed(mux, r)
	if len(allowed) == 0 {
		return apperr.New(apperr.NotFound, "no route %s %s", r.Method, r.URL.Path)
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return apperr.New(MethodNotAllowed, "method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allowed, ", "))
}

func isJSONSuffix(mt string) bool {
	return len(mt) > 5 && mt[len(mt)-5:] == "+json"
}
