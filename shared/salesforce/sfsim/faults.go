package sfsim

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// Fault is a failure the simulator can inject instead of serving a request.
type Fault string

// The injectable faults.
const (
	// FaultInvalidSession answers 401 INVALID_SESSION_ID, as for an expired token.
	FaultInvalidSession Fault = "invalid_session"
	// FaultRequestLimit answers 403 REQUEST_LIMIT_EXCEEDED.
	FaultRequestLimit Fault = "request_limit"
	// FaultTooManyRequests answers 429.
	FaultTooManyRequests Fault = "too_many_requests"
	// FaultServerError answers 500 UNKNOWN_EXCEPTION.
	FaultServerError Fault = "server_error"
	// FaultUnavailable answers 503 SERVER_UNAVAILABLE.
	FaultUnavailable Fault = "unavailable"
	// FaultConnReset hijacks the connection and resets it without answering.
	FaultConnReset Fault = "conn_reset"
)

// Rule injects latency and/or a fault into matching requests. Filters left empty match
// everything. Rules apply in the order added; their latencies add up and the first fault wins.
type Rule struct {
	// Method matches the HTTP method exactly.
	Method string
	// Path matches when it is a substring of the URL path, e.g. "/composite/sobjects".
	Path string
	// Kind matches the request kind.
	Kind Kind
	// After lets the first After matching requests through: the rule starts at call After+1.
	After int
	// Times limits how many requests the rule affects; 0 means no limit.
	Times int
	// Probability, when in (0,1), applies the rule to each matching request with that chance,
	// drawn from the org's seeded random source.
	Probability float64
	// Latency delays the response.
	Latency time.Duration
	// Fault is the failure to inject; empty injects only latency.
	Fault Fault
}

type faultRule struct {
	Rule
	seen, applied int
}

// AddRule adds a latency or fault rule.
func (o *Org) AddRule(r Rule) {
	o.faultMu.Lock()
	defer o.faultMu.Unlock()
	o.faults = append(o.faults, &faultRule{Rule: r})
}

// ClearRules removes every latency and fault rule.
func (o *Org) ClearRules() {
	o.faultMu.Lock()
	defer o.faultMu.Unlock()
	o.faults = nil
}

func (o *Org) matchFaults(method, path string, kind Kind) (time.Duration, Fault) {
	o.faultMu.Lock()
	defer o.faultMu.Unlock()
	var (
		latency time.Duration
		fault   Fault
	)
	for _, f := range o.faults {
		if (f.Method != "" && f.Method != method) || (f.Kind != "" && f.Kind != kind) ||
			(f.Path != "" && !strings.Contains(path, f.Path)) {
			continue
		}
		f.seen++
		if f.seen <= f.After || (f.Times > 0 && f.applied >= f.Times) {
			continue
		}
		if f.Probability > 0 && f.Probability < 1 && o.rng.Float64() >= f.Probability {
			continue
		}
		f.applied++
		latency += f.Latency
		if fault == "" {
			fault = f.Fault
		}
	}
	return latency, fault
}

func writeFault(w http.ResponseWriter, f Fault) {
	switch f {
	case FaultInvalidSession:
		writeErrors(w, http.StatusUnauthorized, Error{Code: "INVALID_SESSION_ID", Message: "Session expired or invalid"})
	case FaultRequestLimit:
		writeErrors(w, http.StatusForbidden, Error{Code: "REQUEST_LIMIT_EXCEEDED", Message: "TotalRequests Limit exceeded."})
	case FaultTooManyRequests:
		writeErrors(w, http.StatusTooManyRequests, Error{Code: "REQUEST_LIMIT_EXCEEDED", Message: "Too many requests."})
	case FaultServerError:
		writeErrors(w, http.StatusInternalServerError, Error{Code: "UNKNOWN_EXCEPTION", Message: "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)"})
	case FaultUnavailable:
		writeErrors(w, http.StatusServiceUnavailable, Error{Code: "SERVER_UNAVAILABLE", Message: "Server unavailable."})
	case FaultConnReset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			writeErrors(w, http.StatusInternalServerError, Error{Code: "UNKNOWN_EXCEPTION", Message: "connection reset not supported by this server"})
			return
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST instead of FIN
		}
		_ = conn.Close()
	default:
		writeErrors(w, http.StatusInternalServerError, Error{Code: "UNKNOWN_EXCEPTION", Message: "unknown fault " + string(f)})
	}
}
