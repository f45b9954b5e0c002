package adminapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/adminapi"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
	"github.com/omnibridge/omnibridge/shared/httpjson"
)

const commit = "0123456789ab"

func sampleDoc(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../infra/local/config.sample.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// brokenDoc has one problem of each kind Parse reports: wrong type, unknown field, bad enum,
// missing operand, wrong schema version.
const brokenDoc = `{"schemaVersion": 2, "colour": "blue",
 "rules": [{"id": "r1", "enabled": "yes", "sourceEvent": "connect.agentStateChanged",
   "criteria": [{"left": {}, "comparator": "eq", "right": {"value": "Lunch"}}],
   "destination": "email", "targetState": "Away"}],
 "settings": {"loopGuard": {"maxCrossings": "3"}}}`

// request is one HTTP call to the API under test.
type request struct {
	method, path string
	header       map[string]string
	body         string
}

func jsonPut(path, ifMatch, body string) request {
	h := map[string]string{"Content-Type": "application/json"}
	if ifMatch != "" {
		h["If-Match"] = ifMatch
	}
	return request{method: http.MethodPut, path: path, header: h, body: body}
}

func serve(t *testing.T, h http.Handler, r request) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", r.method, r.path, ct)
	}
	return rec
}

// decode parses a JSON response body into a fresh T.
func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, rec.Body)
	}
	return v
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
}

// wantError checks an error response's status, code and problem paths (in order).
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code apperr.Code, paths ...string) httpjson.ErrorBody {
	t.Helper()
	wantStatus(t, rec, status)
	body := decode[httpjson.ErrorBody](t, rec)
	if body.Error.Code != string(code) || body.Error.Message == "" {
		t.Fatalf("error code %q message %q, want code %q with a message", body.Error.Code, body.Error.Message, code)
	}
	var got []string
	for _, p := range body.Error.Problems {
		got = append(got, p.Path)
	}
	if len(paths) > 0 && !reflect.DeepEqual(got, paths) {
		t.Fatalf("problem paths %q, want %q (%+v)", got, paths, body.Error.Problems)
	}
	return body
}

func TestHealth(t *testing.T) {
	store := dynamotest.NewStore(t)
	api := adminapi.New(store, adminapi.Options{Commit: commit})
	get := request{method: http.MethodGet, path: "/health"}

	t.Run("table reachable, no config yet", func(t *testing.T) {
		rec := serve(t, api, get)
		wantStatus(t, rec, http.StatusOK)
		got := decode[adminapi.HealthReport](t, rec)
		want := adminapi.HealthReport{Status: "ok", Table: "reachable", ConfigVersion: 0, Commit: commit}
		if got != want {
			t.Fatalf("health = %+v, want %+v", got, want)
		}
	})
	t.Run("reports the config version", func(t *testing.T) {
		doc, err := config.Parse(sampleDoc(t))
		if err != nil {
			t.Fatal(err)
		}
		for v := int64(0); v < 2; v++ {
			if _, err := store.PutConfig(context.Background(), doc, v, "test"); err != nil {
				t.Fatal(err)
			}
		}
		rec := serve(t, api, get)
		wantStatus(t, rec, http.StatusOK)
		if got := decode[adminapi.HealthReport](t, rec); got.ConfigVersion != 2 || got.Commit != commit {
			t.Fatalf("health = %+v, want configVersion 2 and commit %s", got, commit)
		}
	})
	t.Run("missing table is unavailable", func(t *testing.T) {
		url, _ := dynamotest.Endpoint(t)
		missing := dynamo.New(dynamo.NewClient(dynamolocal.Config(), url), "omnibridge-no-such-table")
		rec := serve(t, adminapi.New(missing, adminapi.Options{Commit: commit}), get)
		wantStatus(t, rec, http.StatusServiceUnavailable)
		got := decode[adminapi.HealthReport](t, rec)
		if got.Status != "unavailable" || got.Table != "unreachable" || got.TableError != "describe table: table not found" {
			t.Fatalf("health = %+v", got)
		}
	})
	t.Run("ping failure is 503 without its cause", func(t *testing.T) {
		fake := &fakeStore{ping: func(context.Context) error { return errors.New("dial tcp 10.0.0.7:443: secret-cause") }}
		rec := serve(t, adminapi.New(fake, adminapi.Options{Commit: commit}), get)
		wantStatus(t, rec, http.StatusServiceUnavailable)
		got := decode[adminapi.HealthReport](t, rec)
		if got.Status != "unavailable" || got.TableError != "internal error" || got.Commit != commit {
			t.Fatalf("health = %+v", got)
		}
		if strings.Contains(rec.Body.String(), "secret-cause") {
			t.Fatalf("body leaks the cause: %s", rec.Body)
		}
	})
}

func TestConfigLifecycle(t *testing.T) {
	store := dynamotest.NewStore(t)
	api := adminapi.New(store, adminapi.Options{Commit: commit})
	sample := string(sampleDoc(t))
	getConfig := request{method: http.MethodGet, path: "/config"}

	// The subtests run in order against one table: each step depends on the versions before it.
	t.Run("GET before any document is 404", func(t *testing.T) {
		wantError(t, serve(t, api, getConfig), http.StatusNotFound, apperr.NotFound)
	})
	t.Run("PUT without If-Match is 428", func(t *testing.T) {
		wantError(t, serve(t, api, jsonPut("/config", "", sample)), http.StatusPreconditionRequired, httpjson.PreconditionRequired)
	})
	for _, bad := range []string{"abc", `"-1"`, `W/"x"`, `"1.5"`, "*"} {
		t.Run("malformed If-Match "+bad+" is 400", func(t *testing.T) {
			wantError(t, serve(t, api, jsonPut("/config", bad, sample)), http.StatusBadRequest, apperr.Invalid, "If-Match")
		})
	}
	for _, ct := range []string{"text/plain", "", "application/x-www-form-urlencoded", "application/json; charset"} {
		t.Run(fmt.Sprintf("Content-Type %q is 415", ct), func(t *testing.T) {
			r := jsonPut("/config", `"0"`, sample)
			r.header["Content-Type"] = ct
			wantError(t, serve(t, api, r), http.StatusUnsupportedMediaType, httpjson.UnsupportedMediaType)
		})
	}
	t.Run("body over 256 KiB is 413", func(t *testing.T) {
		pad := strings.Repeat("x", adminapi.MaxBodyBytes)
		wantError(t, serve(t, api, jsonPut("/config", `"0"`, `{"schemaVersion": 1, "pad": "`+pad+`"}`)), http.StatusRequestEntityTooLarge, httpjson.TooLarge)
	})
	t.Run("empty body is 400", func(t *testing.T) {
		wantError(t, serve(t, api, jsonPut("/config", `"0"`, "")), http.StatusBadRequest, apperr.Invalid, "$")
	})
	t.Run("broken document is 400 listing every problem", func(t *testing.T) {
		body := wantError(t, serve(t, api, jsonPut("/config", `"0"`, brokenDoc)), http.StatusBadRequest, apperr.Invalid,
			"$.colour", "$.rules[0].enabled", "$.settings.loopGuard.maxCrossings",
			"$.schemaVersion", "$.rules[0].criteria[0].left", "$.rules[0].destination")
		_, err := config.Parse([]byte(brokenDoc))
		if !reflect.DeepEqual(body.Error.Problems, apperr.ProblemsOf(err)) {
			t.Fatalf("problems %+v, want exactly config.Parse's %+v", body.Error.Problems, apperr.ProblemsOf(err))
		}
	})
	t.Run("nothing was stored by the rejected requests", func(t *testing.T) {
		wantError(t, serve(t, api, getConfig), http.StatusNotFound, apperr.NotFound)
	})
	t.Run(`PUT with If-Match "0" creates version 1`, func(t *testing.T) {
		rec := serve(t, api, jsonPut("/config", `"0"`, sample))
		wantStatus(t, rec, http.StatusOK)
		got := decode[adminapi.ConfigResponse](t, rec)
		if got.Version != 1 || got.UpdatedBy != "local" || got.Document != nil || len(got.Warnings) != 0 {
			t.Fatalf("PUT response = %+v", got)
		}
		if et := rec.Header().Get("ETag"); et != `"1"` {
			t.Fatalf("ETag %q, want \"1\"", et)
		}
	})
	t.Run("GET returns the document with its ETag", func(t *testing.T) {
		rec := serve(t, api, getConfig)
		wantStatus(t, rec, http.StatusOK)
		if et := rec.Header().Get("ETag"); et != `"1"` {
			t.Fatalf("ETag %q, want \"1\"", et)
		}
		got := decode[adminapi.ConfigResponse](t, rec)
		want, _ := config.Parse([]byte(sample))
		if got.Version != 1 || got.Document == nil || !reflect.DeepEqual(*got.Document, want) || got.UpdatedAt.IsZero() {
			t.Fatalf("GET /config = %+v", got)
		}
	})
	for i, ifMatch := range []string{`"1"`, `W/"2"`, `3`} {
		want := int64(i + 2)
		t.Run("PUT with current ETag "+ifMatch+" increments the version", func(t *testing.T) {
			rec := serve(t, api, jsonPut("/config", ifMatch, sample))
			wantStatus(t, rec, http.StatusOK)
			if got := decode[adminapi.ConfigResponse](t, rec); got.Version != want {
				t.Fatalf("version %d, want %d", got.Version, want)
			}
			if et := rec.Header().Get("ETag"); et != fmt.Sprintf("%q", fmt.Sprint(want)) {
				t.Fatalf("ETag %q, want %d", et, want)
			}
		})
	}
	for _, stale := range []string{`"1"`, `"0"`, `"9"`} {
		t.Run("stale If-Match "+stale+" is 409", func(t *testing.T) {
			wantError(t, serve(t, api, jsonPut("/config", stale, sample)), http.StatusConflict, apperr.Conflict)
		})
	}
	t.Run("history lists every version newest first", func(t *testing.T) {
		rec := serve(t, api, request{method: http.MethodGet, path: "/config/history"})
		wantStatus(t, rec, http.StatusOK)
		got := decode[struct{ Versions []dynamo.ConfigVersionInfo }](t, rec)
		var versions []int64
		for _, v := range got.Versions {
			versions = append(versions, v.Version)
		}
		if !reflect.DeepEqual(versions, []int64{4, 3, 2, 1}) {
			t.Fatalf("history versions %v, want [4 3 2 1]", versions)
		}
	})
	t.Run("history honours limit", func(t *testing.T) {
		rec := serve(t, api, request{method: http.MethodGet, path: "/config/history?limit=2"})
		wantStatus(t, rec, http.StatusOK)
		if got := decode[struct{ Versions []dynamo.ConfigVersionInfo }](t, rec); len(got.Versions) != 2 || got.Versions[0].Version != 4 {
			t.Fatalf("history = %+v", got)
		}
	})
	t.Run("history with a bad limit is 400", func(t *testing.T) {
		wantError(t, serve(t, api, request{method: http.MethodGet, path: "/config/history?limit=zero"}), http.StatusBadRequest, apperr.Invalid, "limit")
	})
	t.Run("an earlier version can be read for rollback", func(t *testing.T) {
		rec := serve(t, api, request{method: http.MethodGet, path: "/config/versions/1"})
		wantStatus(t, rec, http.StatusOK)
		got := decode[adminapi.ConfigResponse](t, rec)
		if got.Version != 1 || got.Document == nil || len(got.Document.Rules) != 3 {
			t.Fatalf("version 1 = %+v", got)
		}
	})
	for _, bad := range []string{"0", "-1", "abc", "1.5", "99999999999999999999"} {
		t.Run("version "+bad+" is 400", func(t *testing.T) {
			wantError(t, serve(t, api, request{method: http.MethodGet, path: "/config/versions/" + bad}), http.StatusBadRequest, apperr.Invalid, "version")
		})
	}
	t.Run("unknown version is 404", func(t *testing.T) {
		wantError(t, serve(t, api, request{method: http.MethodGet, path: "/config/versions/99"}), http.StatusNotFound, apperr.NotFound)
	})
}

func TestPutConfigValidatorHook(t *testing.T) {
	sample := string(sampleDoc(t))
	problem := apperr.Problem{Path: "$.rules[0].targetState", Message: `"Away" is not in the status catalog`}
	warning := apperr.Problem{Path: "$.rules", Message: "rules r1 and r2 form a cycle"}
	tests := []struct {
		name        string
		problems    []apperr.Problem
		warnings    []apperr.Problem
		wantStatus  int
		wantVersion int64 // the stored version afterwards
	}{
		{"problems reject the document", []apperr.Problem{problem, warning}, nil, http.StatusBadRequest, 0},
		{"problems win over warnings", []apperr.Problem{problem}, []apperr.Problem{warning}, http.StatusBadRequest, 0},
		{"warnings alone are returned and the document is saved", nil, []apperr.Problem{warning, problem}, http.StatusOK, 1},
		{"no findings", nil, nil, http.StatusOK, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := dynamotest.NewStore(t)
			var seen []string
			api := adminapi.New(store, adminapi.Options{Validate: func(doc config.Document) ([]apperr.Problem, []apperr.Problem) {
				seen = append(seen, doc.Rules[0].ID)
				return tc.problems, tc.warnings
			}})
			rec := serve(t, api, jsonPut("/config", `"0"`, sample))
			if tc.wantStatus == http.StatusBadRequest {
				body := wantError(t, rec, http.StatusBadRequest, apperr.Invalid)
				if !reflect.DeepEqual(body.Error.Problems, tc.problems) {
					t.Fatalf("problems %+v, want %+v", body.Error.Problems, tc.problems)
				}
			} else {
				wantStatus(t, rec, tc.wantStatus)
				if got := decode[adminapi.ConfigResponse](t, rec); !reflect.DeepEqual(got.Warnings, tc.warnings) {
					t.Fatalf("warnings %+v, want %+v", got.Warnings, tc.warnings)
				}
			}
			if !reflect.DeepEqual(seen, []string{"connect-lunch-to-sf-away"}) {
				t.Fatalf("validator saw %v, want the parsed document once", seen)
			}
			cur, err := store.GetConfig(context.Background())
			if tc.wantVersion == 0 {
				if !apperr.Is(err, apperr.NotFound) {
					t.Fatalf("rejected document was stored: %+v %v", cur, err)
				}
			} else if err != nil || cur.Version != tc.wantVersion {
				t.Fatalf("stored version %d (%v), want %d", cur.Version, err, tc.wantVersion)
			}
		})
	}
	t.Run("the validator is not called for a structurally broken document", func(t *testing.T) {
		api := adminapi.New(dynamotest.NewStore(t), adminapi.Options{Validate: func(config.Document) ([]apperr.Problem, []apperr.Problem) {
			t.Error("validator called")
			return nil, nil
		}})
		wantError(t, serve(t, api, jsonPut("/config", `"0"`, brokenDoc)), http.StatusBadRequest, apperr.Invalid)
	})
}

func TestAudit(t *testing.T) {
	ctx := context.Background()
	store := dynamotest.NewStore(t)
	api := adminapi.New(store, adminapi.Options{})
	base := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Hour)
	const subject = "agent/a1"
	for i := range 25 {
		e := audit.Entry{Subject: subject, Time: base.Add(time.Duration(i) * time.Minute), ID: fmt.Sprintf("e%02d", i), Outcome: "applied", Message: fmt.Sprint("decision ", i)}
		if err := store.AppendAudit(ctx, e, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.AppendAudit(ctx, audit.Entry{Subject: "agent/a2", Time: base, ID: "other", Outcome: "applied"}, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	get := func(q url.Values) *httptest.ResponseRecorder {
		return serve(t, api, request{method: http.MethodGet, path: "/audit?" + q.Encode()})
	}
	ids := func(p audit.Page) []string {
		var out []string
		for _, e := range p.Entries {
			out = append(out, e.ID)
		}
		return out
	}

	t.Run("pages newest first until the last page", func(t *testing.T) {
		var all []string
		var sizes []int
		tok := ""
		for range 10 {
			q := url.Values{"subject": {subject}, "limit": {"10"}}
			if tok != "" {
				q.Set("pageToken", tok)
			}
			rec := get(q)
			wantStatus(t, rec, http.StatusOK)
			page := decode[audit.Page](t, rec)
			all = append(all, ids(page)...)
			sizes = append(sizes, len(page.Entries))
			if tok = page.NextPageToken; tok == "" {
				break
			}
		}
		if len(all) != 25 || all[0] != "e24" || all[24] != "e00" {
			t.Fatalf("got %d entries %v in pages %v", len(all), all, sizes)
		}
		for i := 1; i < len(all); i++ {
			if all[i] >= all[i-1] {
				t.Fatalf("not newest first at %d: %v", i, all)
			}
		}
	})
	t.Run("default page size", func(t *testing.T) {
		rec := get(url.Values{"subject": {subject}})
		wantStatus(t, rec, http.StatusOK)
		if p := decode[audit.Page](t, rec); len(p.Entries) != 25 || p.NextPageToken != "" {
			t.Fatalf("got %d entries, token %q", len(p.Entries), p.NextPageToken)
		}
	})
	t.Run("since and until are inclusive", func(t *testing.T) {
		rec := get(url.Values{"subject": {subject}, "since": {base.Add(5 * time.Minute).Format(time.RFC3339)}, "until": {base.Add(9 * time.Minute).Format(time.RFC3339)}})
		wantStatus(t, rec, http.StatusOK)
		if got := ids(decode[audit.Page](t, rec)); !reflect.DeepEqual(got, []string{"e09", "e08", "e07", "e06", "e05"}) {
			t.Fatalf("ids %v", got)
		}
	})
	t.Run("a subject with no entries is an empty page", func(t *testing.T) {
		rec := get(url.Values{"subject": {"case/500xx000001"}})
		wantStatus(t, rec, http.StatusOK)
		if p := decode[audit.Page](t, rec); p.Entries == nil || len(p.Entries) != 0 {
			t.Fatalf("page = %+v, want entries: []", p)
		}
	})

	first := decode[audit.Page](t, get(url.Values{"subject": {subject}, "limit": {"10"}}))
	firstToken := first.NextPageToken
	if firstToken == "" {
		t.Fatal("no page token on the first page")
	}
	t.Run("a page token from a narrower range continues within a wider one", func(t *testing.T) {
		rec := get(url.Values{"subject": {subject}, "limit": {"10"}, "since": {base.Format(time.RFC3339)}, "pageToken": {firstToken}})
		wantStatus(t, rec, http.StatusOK)
		if got := ids(decode[audit.Page](t, rec)); len(got) != 10 || got[0] != "e14" {
			t.Fatalf("ids %v", got)
		}
	})
	bad := []struct {
		name  string
		query url.Values
		paths []string
	}{
		{"missing subject", url.Values{}, []string{"subject"}},
		{"subject without id", url.Values{"subject": {"agent/"}}, []string{"subject"}},
		{"unknown subject kind", url.Values{"subject": {"robot/1"}}, []string{"subject"}},
		{"since not RFC 3339", url.Values{"subject": {subject}, "since": {"yesterday"}}, []string{"since"}},
		{"until not RFC 3339", url.Values{"subject": {subject}, "until": {"2026-13-01T00:00:00Z"}}, []string{"until"}},
		{"limit zero", url.Values{"subject": {subject}, "limit": {"0"}}, []string{"limit"}},
		{"limit over 500", url.Values{"subject": {subject}, "limit": {"501"}}, []string{"limit"}},
		{"limit not a number", url.Values{"subject": {subject}, "limit": {"ten"}}, []string{"limit"}},
		{"page token not base64", url.Values{"subject": {subject}, "pageToken": {"%%%"}}, []string{"pageToken"}},
		{"page token of the old raw form", url.Values{"subject": {subject}, "pageToken": {base64.RawURLEncoding.EncodeToString([]byte("2026-11-21T08:00:00.000000000Z#e00"))}}, []string{"pageToken"}},
		{"page token that is base64 of nothing useful", url.Values{"subject": {subject}, "pageToken": {base64.RawURLEncoding.EncodeToString([]byte(`{"s":"agent/a1","k":"x"}`))}}, []string{"pageToken"}},
		{"another subject's page token", url.Values{"subject": {"agent/a2"}, "pageToken": {firstToken}}, []string{"pageToken"}},
		{"a page token outside since/until", url.Values{"subject": {subject}, "until": {base.Add(time.Minute).Format(time.RFC3339)}, "pageToken": {firstToken}}, []string{"pageToken"}},
		{"since after until", url.Values{"subject": {subject}, "since": {base.Add(time.Hour).Format(time.RFC3339)}, "until": {base.Format(time.RFC3339)}}, []string{"since"}},
		{"unknown parameters, each named", url.Values{"subject": {subject}, "agent": {"a1"}, "from": {"x"}}, []string{"agent", "from"}},
		{"a parameter given twice", url.Values{"subject": {subject, "agent/a2"}}, []string{"subject"}},
		{
			"every bad parameter at once",
			url.Values{"subject": {"robot/1"}, "since": {"x"}, "until": {"y"}, "limit": {"-1"}},
			[]string{"subject", "since", "until", "limit"},
		},
	}
	for _, tc := range bad {
		t.Run(tc.name+" is 400", func(t *testing.T) {
			body := wantError(t, get(tc.query), http.StatusBadRequest, apperr.Invalid, tc.paths...)
			for _, p := range body.Error.Problems {
				if p.Message == "" {
					t.Fatalf("problem %+v has no message", p)
				}
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	api := adminapi.New(dynamotest.NewStore(t), adminapi.Options{})
	tests := []struct {
		method, path string
		status       int
		code         apperr.Code
		allow        string
	}{
		{http.MethodGet, "/nope", http.StatusNotFound, apperr.NotFound, ""},
		{http.MethodGet, "/", http.StatusNotFound, apperr.NotFound, ""},
		{http.MethodOptions, "/nope", http.StatusNotFound, apperr.NotFound, ""},
		{http.MethodGet, "/config/versions", http.StatusNotFound, apperr.NotFound, ""},
		{http.MethodGet, "/config/versions/1/extra", http.StatusNotFound, apperr.NotFound, ""},
		{http.MethodDelete, "/config", http.StatusMethodNotAllowed, httpjson.MethodNotAllowed, "GET, HEAD, OPTIONS, PUT"},
		{http.MethodPost, "/config", http.StatusMethodNotAllowed, httpjson.MethodNotAllowed, "GET, HEAD, OPTIONS, PUT"},
		{http.MethodPost, "/health", http.StatusMethodNotAllowed, httpjson.MethodNotAllowed, "GET, HEAD, OPTIONS"},
		{http.MethodPut, "/audit", http.StatusMethodNotAllowed, httpjson.MethodNotAllowed, "GET, HEAD, OPTIONS"},
		{http.MethodPatch, "/config/history", http.StatusMethodNotAllowed, httpjson.MethodNotAllowed, "GET, HEAD, OPTIONS"},
		{http.MethodGet, "/config/versions/3/restore", http.StatusMethodNotAllowed, httpjson.MethodNotAllowed, "OPTIONS, POST"},
		{http.MethodPut, "/config/versions/3", http.StatusMethodNotAllowed, httpjson.MethodNotAllowed, "GET, HEAD, OPTIONS"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := serve(t, api, request{method: tc.method, path: tc.path})
			if got := rec.Header().Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
			body := wantError(t, rec, tc.status, tc.code)
			if !strings.Contains(body.Error.Message, tc.path) {
				t.Fatalf("message %q does not name the path", body.Error.Message)
			}
		})
	}
	for _, path := range []string{"/health", "/config", "/config/history", "/config/versions/2", "/config/versions/2/restore", "/audit"} {
		t.Run("OPTIONS "+path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, httptest.NewRequest(http.MethodOptions, path, nil))
			if rec.Code != http.StatusNoContent || rec.Header().Get("Allow") == "" || rec.Body.Len() != 0 {
				t.Fatalf("status %d Allow %q body %q", rec.Code, rec.Header().Get("Allow"), rec.Body)
			}
		})
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	cause := errors.New("operation error DynamoDB: GetItem, https response error StatusCode: 500, secret-cause")
	fake := &fakeStore{
		ping:          func(context.Context) error { return nil },
		getConfig:     func(context.Context) (dynamo.VersionedConfig, error) { return dynamo.VersionedConfig{}, cause },
		putConfig:     func(context.Context, config.Document, int64, string) (int64, error) { return 0, cause },
		configVersion: func(context.Context, int64) (dynamo.VersionedConfig, error) { return dynamo.VersionedConfig{}, cause },
		configHistory: func(context.Context, int) ([]dynamo.ConfigVersionInfo, error) { return nil, cause },
		queryAudit:    func(context.Context, audit.Query) (audit.Page, error) { return audit.Page{}, cause },
	}
	var logs bytes.Buffer
	api := adminapi.New(fake, adminapi.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	tests := []struct {
		name string
		req  request
	}{
		{"GET /config", request{method: http.MethodGet, path: "/config"}},
		{"PUT /config", jsonPut("/config", `"1"`, string(sampleDoc(t)))},
		{"GET /config/history", request{method: http.MethodGet, path: "/config/history"}},
		{"GET /config/versions/1", request{method: http.MethodGet, path: "/config/versions/1"}},
		{"GET /audit", request{method: http.MethodGet, path: "/audit?subject=agent/a1"}},
		{"wrapped as internal", request{method: http.MethodGet, path: "/config/versions/2"}},
	}
	fake.configVersion = func(_ context.Context, v int64) (dynamo.VersionedConfig, error) {
		if v == 2 {
			return dynamo.VersionedConfig{}, apperr.Wrap(apperr.Internal, cause, "get config failed: %v", cause)
		}
		return dynamo.VersionedConfig{}, cause
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			rec := serve(t, api, tc.req)
			body := wantError(t, rec, http.StatusInternalServerError, apperr.Internal)
			if body.Error.Message != "internal error" || strings.Contains(rec.Body.String(), "secret-cause") {
				t.Fatalf("body leaks the cause: %s", rec.Body)
			}
			if !strings.Contains(logs.String(), "secret-cause") || !strings.Contains(logs.String(), `"level":"ERROR"`) {
				t.Fatalf("the cause was not logged for operators: %s", logs.String())
			}
		})
	}
	t.Run("health degrades when the config cannot be read", func(t *testing.T) {
		rec := serve(t, api, request{method: http.MethodGet, path: "/health"})
		wantStatus(t, rec, http.StatusOK)
		if got := decode[adminapi.HealthReport](t, rec); got.Status != "degraded" || strings.Contains(rec.Body.String(), "secret-cause") {
			t.Fatalf("health = %s", rec.Body)
		}
	})
}

// fakeStore is a hand-written adminapi.Store; each method calls its function field, and an unset
// field fails the call.
type fakeStore struct {
	ping          func(ctx context.Context) error
	getConfig     func(ctx context.Context) (dynamo.VersionedConfig, error)
	putConfig     func(ctx context.Context, doc config.Document, expected int64, by string) (int64, error)
	restoreConfig func(ctx context.Context, doc config.Document, expected int64, by string, from int64) (int64, error)
	configVersion func(ctx context.Context, version int64) (dynamo.VersionedConfig, error)
	configHistory func(ctx context.Context, limit int) ([]dynamo.ConfigVersionInfo, error)
	queryAudit    func(ctx context.Context, q audit.Query) (audit.Page, error)
}

var _ adminapi.Store = (*fakeStore)(nil)

var errUnexpected = errors.New("fakeStore: unexpected call")

func (f *fakeStore) RestoreConfig(ctx context.Context, doc config.Document, expected int64, by string, from int64) (int64, error) {
	if f.restoreConfig == nil {
		return 0, errUnexpected
	}
	return f.restoreConfig(ctx, doc, expected, by, from)
}

func (f *fakeStore) Ping(ctx context.Context) error {
	if f.ping == nil {
		return errUnexpected
	}
	return f.ping(ctx)
}

func (f *fakeStore) GetConfig(ctx context.Context) (dynamo.VersionedConfig, error) {
	if f.getConfig == nil {
		return dynamo.VersionedConfig{}, errUnexpected
	}
	return f.getConfig(ctx)
}

func (f *fakeStore) PutConfig(ctx context.Context, doc config.Document, expected int64, by string) (int64, error) {
	if f.putConfig == nil {
		return 0, errUnexpected
	}
	return f.putConfig(ctx, doc, expected, by)
}

func (f *fakeStore) ConfigVersion(ctx context.Context, version int64) (dynamo.VersionedConfig, error) {
	if f.configVersion == nil {
		return dynamo.VersionedConfig{}, errUnexpected
	}
	return f.configVersion(ctx, version)
}

func (f *fakeStore) ConfigHistory(ctx context.Context, limit int) ([]dynamo.ConfigVersionInfo, error) {
	if f.configHistory == nil {
		return nil, errUnexpected
	}
	return f.configHistory(ctx, limit)
}

func (f *fakeStore) QueryAudit(ctx context.Context, q audit.Query) (audit.Page, error) {
	if f.queryAudit == nil {
		return audit.Page{}, errUnexpected
	}
	return f.queryAudit(ctx, q)
}

// TestConfigRoundTrip is the natural edit: GET /config, change the document, PUT the whole
// response back with its ETag. Earlier versions come back the same way, or by restore.
func TestConfigRoundTrip(t *testing.T) {
	store := dynamotest.NewStore(t)
	api := adminapi.New(store, adminapi.Options{})
	wantStatus(t, serve(t, api, jsonPut("/config", `"0"`, string(sampleDoc(t)))), http.StatusOK)

	// get returns GET path's body as a generic tree, and its ETag.
	get := func(t *testing.T, path string) (map[string]any, string) {
		t.Helper()
		rec := serve(t, api, request{method: http.MethodGet, path: path})
		wantStatus(t, rec, http.StatusOK)
		return decode[map[string]any](t, rec), rec.Header().Get("ETag")
	}
	put := func(t *testing.T, ifMatch string, body any) *httptest.ResponseRecorder {
		t.Helper()
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		return serve(t, api, jsonPut("/config", ifMatch, string(b)))
	}
	current := func(t *testing.T) adminapi.ConfigResponse {
		t.Helper()
		return decode[adminapi.ConfigResponse](t, serve(t, api, request{method: http.MethodGet, path: "/config"}))
	}

	// The subtests run in order against one table.
	t.Run("the GET body, edited, PUT back with its ETag", func(t *testing.T) {
		env, tag := get(t, "/config")
		env["document"].(map[string]any)["rules"].([]any)[0].(map[string]any)["name"] = "Lunch, edited"
		rec := put(t, tag, env)
		wantStatus(t, rec, http.StatusOK)
		if rec.Header().Get("ETag") != `"2"` || current(t).Document.Rules[0].Name != "Lunch, edited" {
			t.Fatalf("ETag %s, current %+v", rec.Header().Get("ETag"), current(t))
		}
	})
	t.Run("the GET body unchanged is saved as the next version", func(t *testing.T) {
		env, tag := get(t, "/config")
		wantStatus(t, put(t, tag, env), http.StatusOK)
		if v := current(t).Version; v != 3 {
			t.Fatalf("version %d, want 3", v)
		}
	})
	t.Run("read-only fields are ignored, whatever they say", func(t *testing.T) {
		env, tag := get(t, "/config")
		env["version"], env["updatedBy"], env["updatedAt"], env["rollbackOf"] = 99, "someone else", "yesterday", 1
		env["warnings"] = []any{map[string]any{"path": "$", "message": "old"}}
		wantStatus(t, put(t, tag, env), http.StatusOK)
		if got := current(t); got.Version != 4 || got.UpdatedBy != "local" || got.RollbackOf != 0 {
			t.Fatalf("current %+v", got)
		}
	})
	t.Run("the ETag still decides: a stale one is 409", func(t *testing.T) {
		env, _ := get(t, "/config")
		wantError(t, put(t, `"1"`, env), http.StatusConflict, apperr.Conflict)
	})
	t.Run("problems in an enveloped document are reported under $.document", func(t *testing.T) {
		env, tag := get(t, "/config")
		env["document"].(map[string]any)["rules"].([]any)[0].(map[string]any)["destination"] = "email"
		env["colour"] = "blue"
		wantError(t, put(t, tag, env), http.StatusBadRequest, apperr.Invalid, "$.colour")
		delete(env, "colour")
		wantError(t, put(t, tag, env), http.StatusBadRequest, apperr.Invalid, "$.document.rules[0].destination")
	})
	t.Run("a null document is 400", func(t *testing.T) {
		_, tag := get(t, "/config")
		wantError(t, put(t, tag, map[string]any{"version": 4, "document": nil}), http.StatusBadRequest, apperr.Invalid, "$.document")
	})
	t.Run("duplicate keys are 400 naming the path, in either form", func(t *testing.T) {
		_, tag := get(t, "/config")
		body := wantError(t, serve(t, api, jsonPut("/config", tag, `{"schemaVersion": 1, "settings": {"echoWindowSeconds": 30, "echoWindowSeconds": 5}}`)),
			http.StatusBadRequest, apperr.Invalid, "$.settings.echoWindowSeconds")
		if body.Error.Problems[0].Message != "duplicate key" {
			t.Errorf("problem %+v", body.Error.Problems[0])
		}
		wantError(t, serve(t, api, jsonPut("/config", tag, `{"version": 4, "document": {"schemaVersion": 1, "schemaVersion": 1}}`)),
			http.StatusBadRequest, apperr.Invalid, "$.document.schemaVersion")
	})
	t.Run("0 for a 1-N setting is 400, not the default", func(t *testing.T) {
		_, tag := get(t, "/config")
		wantError(t, serve(t, api, jsonPut("/config", tag, `{"schemaVersion": 1, "settings": {"echoWindowSeconds": 0}}`)),
			http.StatusBadRequest, apperr.Invalid, "$.settings.echoWindowSeconds")
	})
	t.Run("an earlier version's body PUT back with the current ETag", func(t *testing.T) {
		env, _ := get(t, "/config/versions/1")
		_, tag := get(t, "/config")
		wantStatus(t, put(t, tag, env), http.StatusOK)
		if got := current(t); got.Version != 5 || got.Document.Rules[0].Name == "Lunch, edited" {
			t.Fatalf("current %+v", got)
		}
	})

	restore := func(path, ifMatch string) request {
		r := request{method: http.MethodPost, path: path, header: map[string]string{}}
		if ifMatch != "" {
			r.header["If-Match"] = ifMatch
		}
		return r
	}
	t.Run("restore needs If-Match", func(t *testing.T) {
		wantError(t, serve(t, api, restore("/config/versions/2/restore", "")), http.StatusPreconditionRequired, httpjson.PreconditionRequired)
	})
	t.Run("restore with a stale ETag is 409", func(t *testing.T) {
		wantError(t, serve(t, api, restore("/config/versions/2/restore", `"4"`)), http.StatusConflict, apperr.Conflict)
	})
	t.Run("a missing version is 404 naming it", func(t *testing.T) {
		for _, path := range []string{"/config/versions/99", "/config/versions/99/restore"} {
			req := restore(path, `"5"`)
			if !strings.HasSuffix(path, "restore") {
				req.method = http.MethodGet
			}
			body := wantError(t, serve(t, api, req), http.StatusNotFound, apperr.NotFound)
			if body.Error.Message != "version 99 does not exist" {
				t.Errorf("%s: message %q", path, body.Error.Message)
			}
		}
	})
	t.Run("restore saves the old document as the next version, a rollback in history", func(t *testing.T) {
		rec := serve(t, api, restore("/config/versions/2/restore", `"5"`))
		wantStatus(t, rec, http.StatusOK)
		got := decode[adminapi.ConfigResponse](t, rec)
		if got.Version != 6 || got.RollbackOf != 2 || rec.Header().Get("ETag") != `"6"` {
			t.Fatalf("restore = %+v, ETag %s", got, rec.Header().Get("ETag"))
		}
		v2 := decode[adminapi.ConfigResponse](t, serve(t, api, request{method: http.MethodGet, path: "/config/versions/2"}))
		if cur := current(t); cur.RollbackOf != 2 || !reflect.DeepEqual(cur.Document, v2.Document) {
			t.Fatalf("current %+v, want version 2's document", cur)
		}
		hist := decode[struct{ Versions []dynamo.ConfigVersionInfo }](t, serve(t, api, request{method: http.MethodGet, path: "/config/history?limit=2"}))
		if len(hist.Versions) != 2 || hist.Versions[0].Version != 6 || hist.Versions[0].RollbackOf != 2 || hist.Versions[1].RollbackOf != 0 {
			t.Fatalf("history %+v", hist.Versions)
		}
	})
	t.Run("a restored version's body round-trips too", func(t *testing.T) {
		env, tag := get(t, "/config")
		if env["rollbackOf"] != 2.0 {
			t.Fatalf("GET /config rollbackOf = %v", env["rollbackOf"])
		}
		wantStatus(t, put(t, tag, env), http.StatusOK)
		if cur := current(t); cur.Version != 7 || cur.RollbackOf != 0 {
			t.Fatalf("current %+v: an edit after a rollback is an ordinary save", cur)
		}
	})
}
