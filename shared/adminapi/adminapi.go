// Package adminapi is the operator's HTTP API: health, the config document with optimistic
// concurrency (ETag / If-Match), its history, and the audit log. It is a plain net/http handler;
// the admin-api Lambda serves it through API Gateway with aws-lambda-go-api-proxy, and the local
// stack serves it directly.
package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/httpjson"
	"github.com/omnibridge/omnibridge/shared/strictjson"
)

// Store is what the admin API needs from storage.
type Store interface {
	Ping(ctx context.Context) error
	GetConfig(ctx context.Context) (dynamo.VersionedConfig, error)
	PutConfig(ctx context.Context, doc config.Document, expected int64, by string) (int64, error)
	RestoreConfig(ctx context.Context, doc config.Document, expected int64, by string, from int64) (int64, error)
	ConfigVersion(ctx context.Context, version int64) (dynamo.VersionedConfig, error)
	ConfigHistory(ctx context.Context, limit int) ([]dynamo.ConfigVersionInfo, error)
	QueryAudit(ctx context.Context, q audit.Query) (audit.Page, error)
}

var _ Store = (*dynamo.Store)(nil)

// Validator checks a structurally valid document's meaning. Problems reject the document;
// warnings are returned to the operator but do not block saving.
type Validator func(doc config.Document) (problems, warnings []apperr.Problem)

// Options configure the API.
type Options struct {
	// Validate adds semantic checks (rules, mappings, cycles) on top of config.Parse.
	Validate Validator
	// Commit is the build's source revision, reported by /health.
	Commit string
	// Logger receives one line per failed request.
	Logger *slog.Logger
	// Caller names the authenticated principal of a request, recorded with each config version.
	// The Lambda wiring reads it from API Gateway's IAM authorizer context; nil means "local".
	Caller func(*http.Request) string
	// Simulator answers POST /simulate; nil leaves the route out.
	Simulator Simulator
	// SessionSimulator answers POST /simulate for session events; nil refuses them.
	SessionSimulator SessionSimulator
	// CheckResources checks that what a document names in other systems exists (the Connect
	// queues, flows and skill attribute of case routing), after Validate passed; problems reject
	// the document with their paths, an error (a system unreachable) fails the request. nil skips
	// the check.
	CheckResources func(ctx context.Context, doc config.Document) ([]apperr.Problem, error)
	// Routing answers GET /routing/cases/{caseId}; nil leaves the route out.
	Routing RoutingReader
	// CaseSimulator answers POST /simulate for case events; nil refuses them.
	CaseSimulator CaseSimulator
	// States serves the DELETE routes that clear a stored agent or session state (state.go);
	// nil leaves them out.
	States StateStore
	// Calls serves GET /calls/{contactId} and the stored state of contact event simulations
	// (calls.go); nil leaves the route out.
	Calls CallStore
}

// MaxBodyBytes bounds request bodies.
const MaxBodyBytes = config.MaxDocumentBytes

// API serves the admin routes.
type API struct {
	store    Store
	opts     Options
	mux      *http.ServeMux
	patterns []string
}

// New returns the admin API over store.
func New(store Store, opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{store: store, opts: opts, mux: http.NewServeMux()}
	a.handle("GET /health", a.health)
	a.handle("GET /config", a.getConfig)
	a.handle("PUT /config", a.putConfig)
	a.handle("GET /config/history", a.history)
	a.handle("GET /config/versions/{version}", a.version)
	a.handle("POST /config/versions/{version}/restore", a.restore)
	a.handle("GET /audit", a.audit)
	if opts.Simulator != nil {
		a.handle("POST /simulate", a.simulate)
	}
	if opts.Routing != nil {
		a.handle("GET /routing/cases/{caseId}", a.routingCase)
	}
	if opts.States != nil {
		a.stateRoutes()
	}
	if opts.Calls != nil {
		a.callRoutes()
	}
	return a
}

// ServeHTTP routes a request. An unknown path gets a JSON 404; another method on a known path
// a JSON 405 with Allow, and OPTIONS a 204 with Allow.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := a.mux.Handler(r); pattern == "" {
		if err := httpjson.Unrouted(w, r, a.mux); err != nil {
			a.fail(w, r, err)
		}
		return
	}
	a.mux.ServeHTTP(w, r)
}

// Handle registers an extra route, such as POST /simulate from a later feature.
func (a *API) Handle(pattern string, h http.HandlerFunc) { a.handle(pattern, h) }

// handle registers a route and remembers its pattern for Patterns.
func (a *API) handle(pattern string, h http.HandlerFunc) {
	a.patterns = append(a.patterns, pattern)
	a.mux.HandleFunc(pattern, h)
}

// Patterns lists the routes the API serves ("GET /health", ...), in registration order; the
// deployment template must route each path to the function (a test compares them).
func (a *API) Patterns() []string { return slices.Clone(a.patterns) }

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	level := slog.LevelInfo
	if apperr.CodeOf(err) == apperr.Internal {
		level = slog.LevelError
	}
	a.opts.Logger.Log(r.Context(), level, "admin request failed", "method", r.Method, "path", r.URL.Path, "code", apperr.CodeOf(err), "err", err)
	httpjson.WriteError(w, err)
}

// HealthReport is the body of GET /health.
type HealthReport struct {
	Status        string `json:"status"`
	Table         string `json:"table"`
	TableError    string `json:"tableError,omitempty"`
	ConfigVersion int64  `json:"configVersion"`
	Commit        string `json:"commit"`
}

func (a *API) health(w http.ResponseWriter, r *http.Request) {
	rep := HealthReport{Status: "ok", Table: "reachable", Commit: a.opts.Commit}
	status := http.StatusOK
	if err := a.store.Ping(r.Context()); err != nil {
		a.opts.Logger.ErrorContext(r.Context(), "health: table unreachable", "err", err)
		rep.Status, rep.Table, rep.TableError = "unavailable", "unreachable", apperr.MessageOf(err)
		status = http.StatusServiceUnavailable
	} else if cur, err := a.store.GetConfig(r.Context()); err == nil {
		rep.ConfigVersion = cur.Version
	} else if !apperr.Is(err, apperr.NotFound) {
		rep.Status = "degraded"
	}
	httpjson.Write(w, status, rep)
}

// ConfigResponse is the body of GET and PUT /config, GET /config/versions/{n} and its restore.
// PUT /config takes it back as it came (see readConfigBody): everything but Document is
// read-only and ignored there.
type ConfigResponse struct {
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updatedAt"`
	UpdatedBy string    `json:"updatedBy,omitempty"`
	// RollbackOf is the version this one restored, when it was a rollback.
	RollbackOf int64            `json:"rollbackOf,omitempty"`
	Document   *config.Document `json:"document,omitempty"`
	Warnings   []apperr.Problem `json:"warnings,omitempty"`
}

// configEnvelope is a ConfigResponse as PUT /config reads it: the document, and the read-only
// fields accepted whatever they hold, so that the body of a GET can be edited and sent back.
type configEnvelope struct {
	Version    json.RawMessage `json:"version"`
	UpdatedAt  json.RawMessage `json:"updatedAt"`
	UpdatedBy  json.RawMessage `json:"updatedBy"`
	RollbackOf json.RawMessage `json:"rollbackOf"`
	Warnings   json.RawMessage `json:"warnings"`
	Document   json.RawMessage `json:"document"`
}

func (a *API) getConfig(w http.ResponseWriter, r *http.Request) {
	cur, err := a.store.GetConfig(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(cur.Version))
	httpjson.Write(w, http.StatusOK, configResponse(cur))
}

func configResponse(v dynamo.VersionedConfig) ConfigResponse {
	return ConfigResponse{Version: v.Version, UpdatedAt: v.UpdatedAt, UpdatedBy: v.UpdatedBy, RollbackOf: v.RollbackOf, Document: &v.Document}
}

// ifMatch reads the required If-Match header of a write.
func ifMatch(r *http.Request) (int64, error) {
	h := r.Header.Get("If-Match")
	if h == "" {
		return 0, apperr.New(httpjson.PreconditionRequired, `If-Match is required: send the ETag from GET /config, or "0" to create the first document`)
	}
	return parseETag(h)
}

// readConfigBody reads PUT /config's body: a bare document, or a GET /config (or
// /config/versions/{n}) response with its document edited. A body whose top level has a
// "document" member is the latter; its problems are reported under $.document.
func readConfigBody(body []byte) (config.Document, error) {
	tree, _, err := strictjson.Tree(body)
	obj, _ := tree.(map[string]any)
	if _, enveloped := obj["document"]; err != nil || !enveloped {
		return config.Parse(body)
	}
	var env configEnvelope
	if err := strictjson.Decode(body, &env, "config envelope"); err != nil {
		return config.Document{}, err
	}
	doc, err := config.Parse(env.Document)
	if err != nil {
		return doc, prefixProblems(err, "$.document")
	}
	return doc, nil
}

// check runs the semantic validator, then the resource check; problems reject doc, warnings are
// returned.
func (a *API) check(ctx context.Context, doc config.Document) ([]apperr.Problem, error) {
	var warnings []apperr.Problem
	if a.opts.Validate != nil {
		var problems []apperr.Problem
		problems, warnings = a.opts.Validate(doc)
		if len(problems) > 0 {
			return nil, apperr.Invalidf(problems, "document has %d problem(s)", len(problems))
		}
	}
	if a.opts.CheckResources != nil {
		problems, err := a.opts.CheckResources(ctx, doc)
		if err != nil {
			return nil, err
		}
		if len(problems) > 0 {
			return nil, apperr.Invalidf(problems, "document names %d resource(s) that do not exist", len(problems))
		}
	}
	return warnings, nil
}

func (a *API) putConfig(w http.ResponseWriter, r *http.Request) {
	expected, err := ifMatch(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	body, err := httpjson.ReadBody(w, r, MaxBodyBytes)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	doc, err := readConfigBody(body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	warnings, err := a.check(r.Context(), doc)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	by := a.caller(r)
	version, err := a.store.PutConfig(r.Context(), doc, expected, by)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.opts.Logger.InfoContext(r.Context(), "config saved", "version", version, "by", by, "warnings", len(warnings))
	w.Header().Set("ETag", etag(version))
	httpjson.Write(w, http.StatusOK, ConfigResponse{Version: version, UpdatedAt: time.Now().UTC(), UpdatedBy: by, Warnings: warnings})
}

func (a *API) history(w http.ResponseWriter, r *http.Request) {
	if problems := queryProblems(r.URL.Query(), []string{"limit"}); len(problems) > 0 {
		a.fail(w, r, apperr.Invalidf(problems, "bad history query"))
		return
	}
	limit, err := intParam(r, "limit", 20)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	versions, err := a.store.ConfigHistory(r.Context(), limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"versions": versions})
}

func (a *API) version(w http.ResponseWriter, r *http.Request) {
	old, err := a.storedVersion(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, configResponse(old))
}

// storedVersion reads the version named by the request path.
func (a *API) storedVersion(r *http.Request) (dynamo.VersionedConfig, error) {
	v, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || v < 1 {
		return dynamo.VersionedConfig{}, apperr.Invalidf([]apperr.Problem{{Path: "version", Message: "must be a positive whole number"}}, "bad version")
	}
	return a.store.ConfigVersion(r.Context(), v)
}

// restore saves an earlier version's document as the next version, recorded in the history as a
// rollback of it. The document is validated again: the rules of today apply to what is saved
// today.
func (a *API) restore(w http.ResponseWriter, r *http.Request) {
	expected, err := ifMatch(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	old, err := a.storedVersion(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	raw, err := json.Marshal(old.Document)
	if err != nil {
		a.fail(w, r, apperr.Wrap(apperr.Internal, err, "encode version %d", old.Version))
		return
	}
	doc, err := config.Parse(raw)
	if err != nil {
		a.fail(w, r, apperr.Invalidf(apperr.ProblemsOf(err), "version %d no longer passes validation; edit it and PUT it instead", old.Version))
		return
	}
	warnings, err := a.check(r.Context(), doc)
	if err != nil {
		a.fail(w, r, apperr.Invalidf(apperr.ProblemsOf(err), "version %d no longer passes validation; edit it and PUT it instead", old.Version))
		return
	}
	by := a.caller(r)
	version, err := a.store.RestoreConfig(r.Context(), doc, expected, by, old.Version)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.opts.Logger.InfoContext(r.Context(), "config restored", "version", version, "rollbackOf", old.Version, "by", by)
	w.Header().Set("ETag", etag(version))
	httpjson.Write(w, http.StatusOK, ConfigResponse{Version: version, UpdatedAt: time.Now().UTC(), UpdatedBy: by, RollbackOf: old.Version, Warnings: warnings})
}

// auditParams are the query parameters GET /audit takes.
var auditParams = []string{"subject", "since", "until", "limit", "pageToken"}

func (a *API) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	problems := queryProblems(q, auditParams)
	subject, err := audit.ParseSubject(q.Get("subject"))
	if err != nil {
		problems = append(problems, apperr.Problem{Path: "subject", Message: err.Error()})
	}
	since, err := timeParam(q.Get("since"))
	if err != nil {
		problems = append(problems, apperr.Problem{Path: "since", Message: apperr.MessageOf(err)})
	}
	until, err := timeParam(q.Get("until"))
	if err != nil {
		problems = append(problems, apperr.Problem{Path: "until", Message: apperr.MessageOf(err)})
	}
	if !since.IsZero() && !until.IsZero() && since.After(until) {
		problems = append(problems, apperr.Problem{Path: "since", Message: fmt.Sprintf("must not be after until (%s is after %s)",
			since.Format(time.RFC3339), until.Format(time.RFC3339))})
	}
	limit, err := intParam(r, "limit", audit.DefaultLimit)
	if err != nil {
		problems = append(problems, apperr.ProblemsOf(err)...)
	}
	if len(problems) > 0 {
		a.fail(w, r, apperr.Invalidf(problems, "bad audit query"))
		return
	}
	page, err := a.store.QueryAudit(r.Context(), audit.Query{Subject: subject, Since: since, Until: until, Limit: limit, PageToken: q.Get("pageToken")})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, page)
}

// queryProblems reports query parameters not in allowed, and allowed ones given more than once:
// a misspelt filter must not silently widen the query.
func queryProblems(q url.Values, allowed []string) []apperr.Problem {
	var problems []apperr.Problem
	names := slices.Sorted(maps.Keys(q))
	for _, name := range names {
		switch {
		case !slices.Contains(allowed, name):
			problems = append(problems, apperr.Problem{Path: name, Message: "unknown query parameter (known: " + strings.Join(allowed, ", ") + ")"})
		case len(q[name]) > 1:
			problems = append(problems, apperr.Problem{Path: name, Message: fmt.Sprintf("is given %d times; give it once", len(q[name]))})
		}
	}
	return problems
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// parseETag accepts `"7"`, `W/"7"` and `7`.
func parseETag(s string) (int64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	v, err := strconv.ParseInt(strings.Trim(s, `"`), 10, 64)
	if err != nil || v < 0 {
		return 0, apperr.Invalidf([]apperr.Problem{{Path: "If-Match", Message: `must be a version ETag such as "3"`}}, "bad If-Match header")
	}
	return v, nil
}

func intParam(r *http.Request, name string, def int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > audit.MaxLimit {
		return 0, apperr.Invalidf([]apperr.Problem{{Path: name, Message: "must be a whole number from 1 to 500"}}, "bad %s", name)
	}
	return n, nil
}

func timeParam(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errBadTime
	}
	return t, nil
}

var errBadTime = apperr.New(apperr.Invalid, "must be an RFC 3339 time such as 2026-11-21T09:00:00Z")

func (a *API) caller(r *http.Request) string {
	if a.opts.Caller != nil {
		if c := a.opts.Caller(r); c != "" {
			return c
		}
	}
	return "local"
}
