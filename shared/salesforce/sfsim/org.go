// Package sfsim is an in-memory Salesforce org served over HTTP, for tests and local runs.
//
// An *Org is an http.Handler: start it with httptest.NewServer and point the unchanged
// shared/salesforce client at the server's URL as its login URL. The token endpoint answers with
// the server's own URL as instance_url, so every later call lands on the simulator too.
//
// It implements the parts of the REST API Omnibridge uses, with Salesforce's wire formats: the
// OAuth 2.0 JWT bearer and client credentials flows, a SOQL subset with relationship fields,
// semi-joins, anti-joins and nextRecordsUrl paging, SOSL phone search (FIND {...} IN PHONE
// FIELDS RETURNING ...), upsert by external id, sObject CRUD with the standard objects' required and computed fields
// (CaseNumber, IsClosed, Name), sObject Collections,
// composite, platform events (kept in an event log), invocable Apex actions and Apex REST (both
// implemented by Go handlers). It records every request, counts API calls, reports
// Sforce-Limit-Info, and injects latency and faults by rule, so retry and refresh logic can be
// tested through the real HTTP stack.
//
// All methods are safe for concurrent use.
package sfsim

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Config configures an Org. The zero value is usable but accepts no logins: set PublicKey
// (JWT bearer) or ClientSecret (client credentials) with ClientID.
type Config struct {
	// ClientID is the connected app's consumer key: the JWT "iss" and the client_credentials id.
	ClientID string
	// ClientSecret enables the client credentials flow when non-empty.
	ClientSecret string
	// ClientCredentialsUser is the Username of the User the client credentials token runs as.
	ClientCredentialsUser string
	// PublicKey enables the JWT bearer flow; assertions must be RS256-signed by its private key.
	PublicKey *rsa.PublicKey
	// Audiences are the accepted JWT "aud" values. Empty means https://login.salesforce.com,
	// https://test.salesforce.com and the simulator's own URL.
	Audiences []string
	// TokenLifetime is how long an access token is valid (default 2h).
	TokenLifetime time.Duration
	// PageSize is the number of query records per page (default 2000, as in Salesforce).
	PageSize int
	// APILimit is the daily API allocation reported in Sforce-Limit-Info (default 100000); calls
	// beyond it get 403 REQUEST_LIMIT_EXCEEDED.
	APILimit int
	// Seed seeds the random source of probabilistic fault rules, so failures are reproducible.
	Seed uint64
	// Now is the simulator's clock (default time.Now).
	Now func() time.Time
}

// Kind classifies requests for the call counters.
type Kind string

// The request kinds.
const (
	KindToken       Kind = "token"
	KindQuery       Kind = "query" // one query page: the first, or one nextRecordsUrl fetch
	KindSObject     Kind = "sobject"
	KindCollections Kind = "collections"
	KindComposite   Kind = "composite"
	KindSearch      Kind = "search" // one SOSL search
	KindAction      Kind = "action"
	KindApexREST    Kind = "apexrest"
	KindOther       Kind = "other"
)

// Request is one recorded HTTP request.
type Request struct {
	Time     time.Time
	Method   string
	Path     string
	RawQuery string
	Kind     Kind
	Body     []byte
}

// Error is one Salesforce error: the errorCode, message and fields of a REST error array, or the
// statusCode, message and fields of a per-record result.
type Error struct {
	Code    string
	Message string
	Fields  []string
}

// orgID is the simulated org's id.
const orgID = "00Dxx0000001gPL"

// Org is a simulated Salesforce org. Create it with New.
type Org struct {
	cfg Config

	mu         sync.RWMutex // the data: records, schema, events, handlers, cursors
	types      map[string]*table
	byID       map[string]*record
	nextID     uint64
	generated  int
	seq        int
	caseNumber int // the last CaseNumber given
	rules      map[string][]ValidationRule
	events     []Event
	replaySeq  int64
	actions    map[string]ActionHandler
	apex       *http.ServeMux
	cursors    map[string]*cursor
	cursorIDs  []string
	searchOff  bool

	authMu sync.Mutex
	tokens map[string]session

	statsMu  sync.Mutex
	requests []Request
	calls    map[Kind]int
	total    int
	apiUsed  int

	faultMu sync.Mutex
	faults  []*faultRule
	rng     *rand.Rand
}

// New returns an empty org.
func New(cfg Config) *Org {
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = 2 * time.Hour
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 2000
	}
	if cfg.APILimit <= 0 {
		cfg.APILimit = 100000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	o := &Org{
		cfg:     cfg,
		types:   map[string]*table{},
		byID:    map[string]*record{},
		rules:   map[string][]ValidationRule{},
		actions: map[string]ActionHandler{},
		apex:    http.NewServeMux(),
		cursors: map[string]*cursor{},
		tokens:  map[string]session{},
		calls:   map[Kind]int{},
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5f5f)),
	}
	o.installStandardRules()
	return o
}

func (o *Org) now() time.Time { return o.cfg.Now() }

// ServeHTTP records the request, applies latency and fault rules, and serves it.
func (o *Org) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, Error{Code: "JSON_PARSER_ERROR", Message: "cannot read request body"})
		return
	}
	kind := kindOf(r.URL.Path)
	o.record(r, kind, body)

	latency, fault := o.matchFaults(r.Method, r.URL.Path, kind)
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	overLimit := false
	if kind != KindToken {
		used := o.countAPI()
		overLimit = used > o.cfg.APILimit
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, o.cfg.APILimit))
	}
	if fault != "" {
		writeFault(w, fault)
		return
	}
	if kind == KindToken {
		o.serveToken(w, r, body)
		return
	}
	if overLimit {
		writeErrors(w, http.StatusForbidden, Error{Code: "REQUEST_LIMIT_EXCEEDED", Message: "TotalRequests Limit exceeded."})
		return
	}
	if !o.authenticate(r) {
		writeErrors(w, http.StatusUnauthorized, Error{Code: "INVALID_SESSION_ID", Message: "Session expired or invalid"})
		return
	}
	o.dispatch(w, r, body)
}

func kindOf(path string) Kind {
	switch {
	case path == "/services/oauth2/token":
		return KindToken
	case strings.HasPrefix(path, "/services/apexrest/"):
		return KindApexREST
	}
	_, rest, ok := cutVersion(path)
	if !ok {
		return KindOther
	}
	switch {
	case rest == "query" || strings.HasPrefix(rest, "query/"):
		return KindQuery
	case rest == "composite/sobjects":
		return KindCollections
	case rest == "composite":
		return KindComposite
	case rest == "search":
		return KindSearch
	case strings.HasPrefix(rest, "sobjects/"):
		return KindSObject
	case strings.HasPrefix(rest, "actions/"):
		return KindAction
	}
	return KindOther
}

var versionRE = regexp.MustCompile(`^v[0-9]{2,3}\.0$`)

// cutVersion splits "/services/data/v62.0/query/x" into "v62.0" and "query/x".
func cutVersion(path string) (version, rest string, ok bool) {
	p, ok := strings.CutPrefix(path, "/services/data/")
	if !ok {
		return "", "", false
	}
	version, rest, _ = strings.Cut(p, "/")
	if !versionRE.MatchString(version) {
		return "", "", false
	}
	return version, strings.Trim(rest, "/"), true
}

// dispatch serves an authenticated API request; composite subrequests come through here too.
func (o *Org) dispatch(w http.ResponseWriter, r *http.Request, body []byte) {
	if strings.HasPrefix(r.URL.Path, "/services/apexrest/") {
		o.serveApexREST(w, r, body)
		return
	}
	ver, rest, ok := cutVersion(r.URL.Path)
	if !ok {
		writeNotFound(w)
		return
	}
	seg := strings.Split(rest, "/")
	method := r.Method
	switch {
	case seg[0] == "query" && len(seg) == 1 && method == http.MethodGet:
		o.serveQuery(w, r, ver)
	case seg[0] == "query" && len(seg) == 2 && method == http.MethodGet:
		o.serveQueryMore(w, ver, seg[1])
	case seg[0] == "sobjects" && len(seg) == 2 && method == http.MethodPost:
		o.serveCreate(w, seg[1], body)
	case seg[0] == "sobjects" && len(seg) == 3 && method == http.MethodGet:
		o.serveGet(w, r, ver, seg[1], seg[2])
	case seg[0] == "sobjects" && len(seg) == 3 && method == http.MethodPatch:
		o.serveUpdate(w, seg[1], seg[2], body)
	case seg[0] == "sobjects" && len(seg) == 4 && method == http.MethodPatch:
		o.serveUpsert(w, ver, seg[1], seg[2], seg[3], body)
	case seg[0] == "sobjects" && len(seg) == 3 && method == http.MethodDelete:
		o.serveDelete(w, seg[1], seg[2])
	case rest == "composite/sobjects" && (method == http.MethodPost || method == http.MethodPatch):
		o.serveCollections(w, method, body)
	case rest == "search" && method == http.MethodGet:
		o.serveSearch(w, r, ver)
	case rest == "composite" && method == http.MethodPost:
		o.serveComposite(w, r, body)
	case len(seg) == 4 && seg[0] == "actions" && seg[1] == "custom" && seg[2] == "apex" && method == http.MethodPost:
		o.serveAction(w, seg[3], body)
	case seg[0] == "query" || seg[0] == "sobjects" || seg[0] == "composite" || seg[0] == "actions":
		writeErrors(w, http.StatusMethodNotAllowed, Error{Code: "METHOD_NOT_ALLOWED", Message: fmt.Sprintf("HTTP Method '%s' not allowed", method)})
	default:
		writeNotFound(w)
	}
}

func (o *Org) record(r *http.Request, kind Kind, body []byte) {
	o.statsMu.Lock()
	defer o.statsMu.Unlock()
	o.requests = append(o.requests, Request{Time: o.now(), Method: r.Method, Path: r.URL.Path,
		RawQuery: r.URL.RawQuery, Kind: kind, Body: body})
	o.calls[kind]++
	o.total++
}

func (o *Org) countAPI() int {
	o.statsMu.Lock()
	defer o.statsMu.Unlock()
	o.apiUsed++
	return o.apiUsed
}

// Requests returns a copy of every request recorded since New or the last Reset, oldest first.
func (o *Org) Requests() []Request {
	o.statsMu.Lock()
	defer o.statsMu.Unlock()
	return append([]Request(nil), o.requests...)
}

// Calls returns the number of requests of kind received since New or the last Reset; the empty
// kind counts all requests.
func (o *Org) Calls(kind Kind) int {
	o.statsMu.Lock()
	defer o.statsMu.Unlock()
	if kind == "" {
		return o.total
	}
	return o.calls[kind]
}

// APIUsage returns the number of requests counted against the API allocation since New or the
// last Reset, the figure Sforce-Limit-Info reports: every request except OAuth token requests.
// A query costs one call per page: the first page and each nextRecordsUrl fetch.
func (o *Org) APIUsage() int {
	o.statsMu.Lock()
	defer o.statsMu.Unlock()
	return o.apiUsed
}

// Reset clears the request log, the call counters and the API usage. Data, tokens and rules stay.
func (o *Org) Reset() {
	o.statsMu.Lock()
	defer o.statsMu.Unlock()
	o.requests, o.calls, o.total, o.apiUsed = nil, map[Kind]int{}, 0, 0
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeErrors(w, http.StatusInternalServerError, Error{Code: "UNKNOWN_EXCEPTION", Message: "cannot encode response"})
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// restError is the REST error-array entry.
type restError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// writeErrors writes Salesforce's REST error array.
func writeErrors(w http.ResponseWriter, status int, errs ...Error) {
	out := make([]restError, len(errs))
	for i, e := range errs {
		out[i] = restError{Message: e.Message, ErrorCode: e.Code, Fields: e.Fields}
	}
	writeJSON(w, status, out)
}

func writeNotFound(w http.ResponseWriter) {
	writeErrors(w, http.StatusNotFound, Error{Code: "NOT_FOUND", Message: "The requested resource does not exist"})
}

// recordError is the per-record "errors" entry.
type recordError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

func toRecordErrors(errs ...Error) []recordError {
	out := make([]recordError, len(errs))
	for i, e := range errs {
		f := e.Fields
		if f == nil {
			f = []string{}
		}
		out[i] = recordError{StatusCode: e.Code, Message: e.Message, Fields: f}
	}
	return out
}
