package connectsim

import (
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Request is one API request the sim received.
type Request struct {
	// Op is the operation name ("PutUserStatus"), or "" for an unknown route.
	Op     string
	Method string
	Path   string
	Query  string
	Body   []byte
	// Status is the HTTP status answered; 0 when the connection was reset.
	Status int
	// ErrorType is the X-Amzn-ErrorType answered, "" on success.
	ErrorType string
	// Fault is the kind of injected fault that answered, if any.
	Fault FaultKind
	Time  time.Time
}

// FaultKind is a failure the sim can inject in place of handling a request.
type FaultKind string

// The injectable faults, with what the SDK receives.
const (
	// FaultUnauthorized answers 401 UnrecognizedClientException (bad credentials).
	FaultUnauthorized FaultKind = "unauthorized"
	// FaultAccessDenied answers 403 AccessDeniedException (missing IAM permission).
	FaultAccessDenied FaultKind = "access-denied"
	// FaultLimitExceeded answers 429 LimitExceededException, Connect's error for an exhausted
	// limit; the SDK counts it as throttling and retries it with backoff.
	FaultLimitExceeded FaultKind = "limit-exceeded"
	// FaultThrottling answers 429 ThrottlingException; the SDK retries it.
	FaultThrottling FaultKind = "throttling"
	// FaultTooManyRequests answers 429 TooManyRequestsException; the SDK retries it.
	FaultTooManyRequests FaultKind = "too-many-requests"
	// FaultInternal answers 500 InternalServiceException; the SDK retries it.
	FaultInternal FaultKind = "internal"
	// FaultUnavailable answers 503 ServiceUnavailableException; the SDK retries it.
	FaultUnavailable FaultKind = "unavailable"
	// FaultConnectionReset resets the TCP connection without answering; the SDK retries it.
	FaultConnectionReset FaultKind = "connection-reset"
	// FaultCustom answers Fault.Status with Fault.ErrorType and Fault.Message, for anything
	// else (for example 403 with a ServiceQuotaExceededException).
	FaultCustom FaultKind = "custom"
)

var faultResponses = map[FaultKind]apiError{
	FaultUnauthorized:    {http.StatusUnauthorized, "UnrecognizedClientException", "The security token included in the request is invalid."},
	FaultAccessDenied:    {http.StatusForbidden, "AccessDeniedException", "You do not have sufficient access to perform this action."},
	FaultLimitExceeded:   {http.StatusTooManyRequests, "LimitExceededException", "The allowed limit for the resource has been exceeded."},
	FaultThrottling:      {http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded"},
	FaultTooManyRequests: {http.StatusTooManyRequests, "TooManyRequestsException", "Too many requests"},
	FaultInternal:        {http.StatusInternalServerError, "InternalServiceException", "Request processing failed because of an error or failure with the service."},
	FaultUnavailable:     {http.StatusServiceUnavailable, "ServiceUnavailableException", "Service is unavailable"},
}

// Fault is a rule that makes matching requests fail. Rules are checked in the order added; the
// first that fires answers the request.
type Fault struct {
	// Op is the operation to fail ("PutUserStatus"); "" matches every operation.
	Op string
	// Kind is the failure to inject.
	Kind FaultKind
	// Times is how many requests the rule fails before it retires; 0 means no limit.
	Times int
	// Probability, between 0 and 1, makes the rule fire on that share of matching requests,
	// drawn from the source seeded by Options.FaultSeed; 0 means always.
	Probability float64
	// Status, ErrorType and Message define a FaultCustom answer.
	Status    int
	ErrorType string
	Message   string
}

type faultRule struct {
	Fault
	fired int
}

// AddFault adds a fault rule.
func (s *Sim) AddFault(f Fault) {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	s.faults = append(s.faults, &faultRule{Fault: f})
}

// ClearFaults removes every fault rule.
func (s *Sim) ClearFaults() {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	s.faults = nil
}

// SetLatency sets the delay added to every request from now on.
func (s *Sim) SetLatency(d time.Duration) {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	s.latency = d
}

// SetThrottle replaces the API token bucket (Rate 0 turns throttling off). Buckets start full.
func (s *Sim) SetThrottle(t Throttle) {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	s.throttle = t
	s.limiters = map[string]*rate.Limiter{}
}

// Requests returns every request received, in arrival order.
func (s *Sim) Requests() []Request {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls returns how many requests of operation op were received, including those answered with
// an injected fault or throttled.
func (s *Sim) Calls(op string) int {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	return s.counts[op]
}

// CallCounts returns the number of requests received per operation.
func (s *Sim) CallCounts() map[string]int {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	return maps.Clone(s.counts)
}

// ResetRequests forgets recorded requests and counts (not faults or state).
func (s *Sim) ResetRequests() {
	s.netMu.Lock()
	defer s.netMu.Unlock()
	s.requests = nil
	s.counts = map[string]int{}
}

// apiError is an error answer in Connect's REST-JSON shape.
type apiError struct {
	status  int
	typ     string
	message string
}

type handler func(s *Sim, p map[string]string, q url.Values, body []byte) (any, *apiError)

type route struct {
	method, op string
	segs       []string // "{Name}" segments are parameters
	h          handler
}

// routes are the operations served, with the SDK's method and path templates
// (awsRestjson1_serializeOp*.HandleSerialize in the SDK's serializers.go).
var routes = []route{
	{"GET", "ListAgentStatuses", split("/agent-status/{InstanceId}"), (*Sim).listAgentStatuses},
	{"PUT", "PutUserStatus", split("/users/{InstanceId}/{UserId}/status"), (*Sim).putUserStatus},
	{"POST", "GetCurrentUserData", split("/metrics/userdata/{InstanceId}"), (*Sim).getCurrentUserData},
	{"POST", "SearchUsers", split("/search-users"), (*Sim).searchUsers},
	{"GET", "DescribeUser", split("/users/{InstanceId}/{UserId}"), (*Sim).describeUser},
	{"PUT", "StartTaskContact", split("/contact/task"), (*Sim).startTaskContact},
	{"POST", "StopContact", split("/contact/stop"), (*Sim).stopContact},
	{"POST", "UpdateContactAttributes", split("/contact/attributes"), (*Sim).updateContactAttributes},
	{"GET", "DescribeContact", split("/contacts/{InstanceId}/{ContactId}"), (*Sim).describeContact},
	{"POST", "UpdateContactRoutingData", split("/contacts/{InstanceId}/{ContactId}/routing-data"), (*Sim).updateContactRoutingData},
	{"GET", "ListQueues", split("/queues-summary/{InstanceId}"), (*Sim).listQueues},
	{"GET", "DescribeQueue", split("/queues/{InstanceId}/{QueueId}"), (*Sim).describeQueue},
	{"GET", "ListContactFlows", split("/contact-flows-summary/{InstanceId}"), (*Sim).listContactFlows},
	{"GET", "ListPredefinedAttributes", split("/predefined-attributes/{InstanceId}"), (*Sim).listPredefinedAttributes},
	{"GET", "DescribePredefinedAttribute", split("/predefined-attributes/{InstanceId}/{Name}"), (*Sim).describePredefinedAttribute},
}

func split(path string) []string { return strings.Split(strings.Trim(path, "/"), "/") }

// match finds the route of r and its unescaped path parameters.
func match(r *http.Request) (*route, map[string]string) {
	segs := split(r.URL.EscapedPath())
	for i := range routes {
		rt := &routes[i]
		if rt.method != r.Method || len(rt.segs) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for j, want := range rt.segs {
			got, err := url.PathUnescape(segs[j])
			if err != nil {
				ok = false
				break
			}
			if strings.HasPrefix(want, "{") {
				if got == "" {
					ok = false
					break
				}
				params[strings.Trim(want, "{}")] = got
			} else if want != got {
				ok = false
				break
			}
		}
		if ok {
			return rt, params
		}
	}
	return nil, nil
}

// ServeHTTP answers one API request: it is recorded and counted, delayed by the configured
// latency, then answered by an injected fault, by the throttle, or by the operation.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body) // a short body fails JSON parsing below with a 400
	rt, params := match(r)
	op := ""
	if rt != nil {
		op = rt.op
	}

	s.netMu.Lock()
	idx := len(s.requests)
	s.requests = append(s.requests, Request{Op: op, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Time: s.now()})
	s.counts[op]++
	latency := s.latency
	fault := s.pickFault(op)
	throttled := rt != nil && fault == nil && !s.allow(op)
	s.netMu.Unlock()

	finish := func(status int, errType string) {
		s.netMu.Lock()
		if idx < len(s.requests) {
			s.requests[idx].Status, s.requests[idx].ErrorType = status, errType
			if fault != nil {
				s.requests[idx].Fault = fault.Kind
			}
		}
		s.netMu.Unlock()
	}

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			finish(0, "")
			return
		}
	}

	var resp any
	var aerr *apiError
	switch {
	case fault != nil && fault.Kind == FaultConnectionReset:
		if resetConnection(w) {
			finish(0, "")
			return
		}
		aerr = &apiError{http.StatusServiceUnavailable, "ServiceUnavailableException", "connection reset not possible on this transport"}
	case fault != nil && fault.Kind == FaultCustom:
		aerr = &apiError{fault.Status, fault.ErrorType, fault.Message}
	case fault != nil:
		e := faultResponses[fault.Kind]
		aerr = &e
	case rt == nil:
		aerr = &apiError{http.StatusNotFound, "UnknownOperationException", "No operation matches " + r.Method + " " + r.URL.Path}
	case throttled:
		aerr = &apiError{http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded"}
	default:
		resp, aerr = rt.h(s, params, r.URL.Query(), body)
	}

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", randomUUID())
	if aerr != nil {
		w.Header().Set("X-Amzn-ErrorType", aerr.typ)
		w.WriteHeader(aerr.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": aerr.message})
		finish(aerr.status, aerr.typ)
		return
	}
	if resp == nil {
		resp = struct{}{}
	}
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(resp)
	finish(http.StatusOK, "")
}

// pickFault returns the first rule that fires for op and consumes one of its Times. Callers
// hold netMu.
func (s *Sim) pickFault(op string) *faultRule {
	for _, f := range s.faults {
		if f.Op != "" && f.Op != op {
			continue
		}
		if f.Times > 0 && f.fired >= f.Times {
			continue
		}
		if f.Probability > 0 && f.Probability < 1 && s.rng.Float64() >= f.Probability {
			continue
		}
		f.fired++
		return f
	}
	return nil
}

// allow takes a token from the API bucket. Callers hold netMu.
func (s *Sim) allow(op string) bool {
	if s.throttle.Rate <= 0 {
		return true
	}
	key := ""
	if s.throttle.PerOperation {
		key = op
	}
	l := s.limiters[key]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.throttle.Rate), max(s.throttle.Burst, 1))
		s.limiters[key] = l
	}
	return l.Allow()
}

// resetConnection closes the client connection with a TCP RST and no response, the way a load
// balancer dropping a connection looks to the client. It reports false when the transport
// cannot be hijacked (HTTP/2).
func resetConnection(w http.ResponseWriter) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return false
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // linger 0 makes Close send RST instead of FIN
	}
	_ = conn.Close()
	return true
}
