package sfsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

// rawClient talks to the simulator with plain net/http, to check wire formats byte for byte.
type rawClient struct {
	t     testing.TB
	srv   *httptest.Server
	token string
}

func newRaw(t testing.TB, org *sfsim.Org) *rawClient {
	t.Helper()
	srv := httptest.NewServer(org)
	t.Cleanup(srv.Close)
	c := &rawClient{t: t, srv: srv}
	status, body := c.do("POST", "/services/oauth2/token", "grant_type=client_credentials&client_id=app&client_secret=shh")
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || status != 200 {
		t.Fatalf("token: %d %s", status, body)
	}
	if tok.InstanceURL != srv.URL {
		t.Errorf("instance_url = %q, want the simulator's URL %q", tok.InstanceURL, srv.URL)
	}
	c.token = tok.AccessToken
	return c
}

func (c *rawClient) do(method, path, body string) (int, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if strings.HasPrefix(path, "/services/oauth2") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func newOrg(t *testing.T, cfg sfsim.Config) *sfsim.Org {
	t.Helper()
	cfg.ClientID, cfg.ClientSecret = "app", "shh"
	return sfsim.New(cfg)
}

func TestQueryPageWireFormat(t *testing.T) {
	org := newOrg(t, sfsim.Config{PageSize: 2})
	for i := range 5 {
		if _, err := org.Insert("AuthSession", map[string]any{"UsersId": "005xx000001SwiUAAS", "SessionType": "UI",
			"LastModifiedDate": "2026-11-21T08:01:12.000+0000", "NumSecondsValid": 7200 + i}); err != nil {
			t.Fatal(err)
		}
	}
	c := newRaw(t, org)
	status, body := c.do("GET", "/services/data/v62.0/query?q="+url.QueryEscape("SELECT UsersId, SessionType, LastModifiedDate, NumSecondsValid FROM AuthSession ORDER BY NumSecondsValid"), "")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	// Shaped like reference/salesforce-query-page.json.
	re := regexp.MustCompile(`^\{"totalSize":5,"done":false,"nextRecordsUrl":"(/services/data/v62\.0/query/01g[0-9A-Za-z]{15}-2)","records":\[` +
		`\{"attributes":\{"type":"AuthSession","url":"/services/data/v62\.0/sobjects/AuthSession/0Ak[0-9A-Za-z]{15}"\},"UsersId":"005xx000001SwiUAAS","SessionType":"UI","LastModifiedDate":"2026-11-21T08:01:12\.000\+0000","NumSecondsValid":7200\},`)
	m := re.FindSubmatch(body)
	if m == nil {
		t.Fatalf("first page does not match the reference shape:\n%s", body)
	}
	next := string(m[1])
	var pages []string
	for next != "" {
		status, body = c.do("GET", next, "")
		if status != 200 {
			t.Fatalf("%s: %d %s", next, status, body)
		}
		var page struct {
			Done           bool              `json:"done"`
			NextRecordsURL string            `json:"nextRecordsUrl"`
			Records        []json.RawMessage `json:"records"`
		}
		_ = json.Unmarshal(body, &page)
		pages = append(pages, next)
		if page.Done != (page.NextRecordsURL == "") {
			t.Errorf("done = %v with nextRecordsUrl %q", page.Done, page.NextRecordsURL)
		}
		next = page.NextRecordsURL
	}
	if len(pages) != 2 || !strings.HasSuffix(pages[1], "-4") {
		t.Errorf("followed %v, want offsets 2 and 4", pages)
	}
	status, body = c.do("GET", "/services/data/v62.0/query/01gxx0000000000AAA-2", "")
	if status != 400 || !strings.Contains(string(body), "INVALID_QUERY_LOCATOR") {
		t.Errorf("unknown locator: %d %s", status, body)
	}
}

func TestErrorWireFormats(t *testing.T) {
	org := newOrg(t, sfsim.Config{})
	c := newRaw(t, org)
	tests := []struct {
		name, method, path, body string
		token                    string
		wantStatus               int
		wantBody                 string
	}{
		{"expired session", "GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+User", "", "bogus", 401,
			`[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`},
		{"invalid field", "GET", "/services/data/v62.0/query?q=" + url.QueryEscape("SELECT Foo__c FROM Case"), "", "", 400,
			`[{"message":"\nSELECT Foo__c FROM Case\n       ^\nERROR at Row:1:Column:8\nNo such column 'Foo__c' on entity 'Case'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.","errorCode":"INVALID_FIELD"}]`},
		{"unsupported grant", "POST", "/services/oauth2/token", "grant_type=password&username=u&password=p", "", 400,
			`{"error":"unsupported_grant_type","error_description":"grant type not supported"}`},
		{"unknown resource", "GET", "/services/data/v62.0/nothing", "", "", 404,
			`[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`},
		{"too many records", "POST", "/services/data/v62.0/composite/sobjects", `{"records":[` + strings.Repeat(`{"attributes":{"type":"Case"}},`, 200) + `{"attributes":{"type":"Case"}}]}`, "", 400,
			`[{"message":"record limit reached. cannot submit more than 200 records into this call","errorCode":"EXCEEDED_ID_LIMIT"}]`},
		{"event publish", "POST", "/services/data/v62.0/sobjects/Omnibridge_Presence_Command__e/", `{"UserId__c":"005xx000001SwiUAAS"}`, "", 201,
			`{"id":"e01xx0000000001AAA","success":true,"errors":[{"statusCode":"OPERATION_ENQUEUED","message":"UUID","fields":[]}]}`},
	}
	uuidRE := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := c.token
			if tt.token != "" {
				c.token = tt.token
			}
			status, body := c.do(tt.method, tt.path, tt.body)
			c.token = saved
			got := strings.TrimSpace(uuidRE.ReplaceAllString(string(body), "UUID"))
			if status != tt.wantStatus || got != tt.wantBody {
				t.Errorf("got %d %s\nwant %d %s", status, got, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestLoadSeed(t *testing.T) {
	org := newOrg(t, sfsim.Config{})
	seed := `{
	  "objects": {"Omnibridge_Presence_Command__e": ["UserId__c", "StatusId__c"]},
	  "records": {
	    "User": [{"Id": "005xx000001SwiUAAS", "Username": "agent@example.com", "Name": "Agent", "IsActive": true}],
	    "ServicePresenceStatus": [{"Id": "0N5xx0000004CSOCA2", "DeveloperName": "Available", "MasterLabel": "Available"}],
	    "UserServicePresence": [{"UserId": "005xx000001SwiUAAS", "ServicePresenceStatusId": "0N5xx0000004CSO", "IsCurrentState": true,
	                             "CreatedDate": "2026-11-21T08:00:00.000+0000"}]
	  }
	}`
	if err := org.LoadSeed(strings.NewReader(seed)); err != nil {
		t.Fatal(err)
	}
	c := newRaw(t, org)
	q := "SELECT User.Username, ServicePresenceStatus.DeveloperName, CreatedDate FROM UserServicePresence WHERE IsCurrentState = true AND CreatedDate < 2026-11-21T09:00:00Z"
	status, body := c.do("GET", "/services/data/v62.0/query?q="+url.QueryEscape(q), "")
	if status != 200 || !strings.Contains(string(body), `"User":{"attributes":{"type":"User","url":"/services/data/v62.0/sobjects/User/005xx000001SwiUAAS"},"Username":"agent@example.com"}`) ||
		!strings.Contains(string(body), `"DeveloperName":"Available"`) || !strings.Contains(string(body), `"totalSize":1`) {
		t.Errorf("query over seed: %d %s", status, body)
	}
	if typ, f, ok := org.Record("005xx000001swiuaas"); !ok || typ != "User" || f["Name"] != "Agent" {
		t.Errorf("Record by lower-cased 18-char id = %q %v %v", typ, f, ok)
	}
	status, body = c.do("POST", "/services/data/v62.0/sobjects/Omnibridge_Presence_Command__e/", `{"User_Id__c":"x"}`)
	if status != 400 || !strings.Contains(string(body), "INVALID_FIELD") {
		t.Errorf("typo'd event field accepted: %d %s", status, body)
	}
	for _, bad := range []string{`{"records":{"User":[{"Id":"nope"}]}}`, `{"records":{"Group":[{"Id":"00Gxx0000000001ZZZ"}]}}`, `{"unknown":1}`, `{"records":{"User":[{"Photo":{"a":1}}]}}`} {
		if err := org.LoadSeed(strings.NewReader(bad)); err == nil {
			t.Errorf("LoadSeed(%s) accepted", bad)
		}
	}
}

func TestFaultRules(t *testing.T) {
	statuses := func(c *rawClient, n int, method, path string) []int {
		var out []int
		for range n {
			s, _ := c.do(method, path, "")
			out = append(out, s)
		}
		return out
	}
	const q = "/services/data/v62.0/query?q=SELECT+Id+FROM+User"
	tests := []struct {
		name   string
		rules  []sfsim.Rule
		method string
		want   []int
	}{
		{"after and times", []sfsim.Rule{{Kind: sfsim.KindQuery, After: 1, Times: 2, Fault: sfsim.FaultUnavailable}}, "GET", []int{200, 503, 503, 200}},
		{"every fault status", []sfsim.Rule{
			{Kind: sfsim.KindQuery, Times: 1, Fault: sfsim.FaultInvalidSession},
			{Kind: sfsim.KindQuery, After: 1, Times: 1, Fault: sfsim.FaultRequestLimit},
			{Kind: sfsim.KindQuery, After: 2, Times: 1, Fault: sfsim.FaultTooManyRequests},
			{Kind: sfsim.KindQuery, After: 3, Times: 1, Fault: sfsim.FaultServerError},
		}, "GET", []int{401, 403, 429, 500, 200}},
		{"method filter", []sfsim.Rule{{Method: "POST", Fault: sfsim.FaultUnavailable}}, "GET", []int{200, 200}},
		{"path filter", []sfsim.Rule{{Path: "/query", Fault: sfsim.FaultUnavailable}}, "GET", []int{503, 503}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org := newOrg(t, sfsim.Config{})
			c := newRaw(t, org) // token first: rules apply to every request
			for _, r := range tt.rules {
				org.AddRule(r)
			}
			got := statuses(c, len(tt.want), tt.method, q)
			if !equalInts(got, tt.want) {
				t.Errorf("statuses = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("probability is reproducible with a seed", func(t *testing.T) {
		run := func() []int {
			org := newOrg(t, sfsim.Config{Seed: 42})
			c := newRaw(t, org)
			org.AddRule(sfsim.Rule{Kind: sfsim.KindQuery, Probability: 0.5, Fault: sfsim.FaultUnavailable})
			return statuses(c, 40, "GET", q)
		}
		a, b := run(), run()
		fails := 0
		for _, s := range a {
			if s == 503 {
				fails++
			}
		}
		if !equalInts(a, b) || fails == 0 || fails == len(a) {
			t.Errorf("runs %v and %v: want the same mix of 200 and 503", a, b)
		}
	})
	t.Run("latency", func(t *testing.T) {
		org := newOrg(t, sfsim.Config{})
		c := newRaw(t, org)
		org.AddRule(sfsim.Rule{Path: "/query", Latency: 30 * time.Millisecond})
		start := time.Now()
		statuses(c, 1, "GET", q)
		if el := time.Since(start); el < 30*time.Millisecond {
			t.Errorf("request took %v, want at least the injected 30ms", el)
		}
	})
	t.Run("sforce-limit-info", func(t *testing.T) {
		org := newOrg(t, sfsim.Config{APILimit: 15000})
		c := newRaw(t, org)
		req, _ := http.NewRequest("GET", c.srv.URL+q, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Sforce-Limit-Info"); got != "api-usage=1/15000" {
			t.Errorf("Sforce-Limit-Info = %q", got)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRequestLog(t *testing.T) {
	org := newOrg(t, sfsim.Config{})
	c := newRaw(t, org)
	c.do("POST", "/services/data/v62.0/sobjects/Case/", `{"Subject":"hello"}`)
	c.do("GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+Case", "")
	reqs := org.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests logged, want 3", len(reqs))
	}
	r := reqs[1]
	if r.Method != "POST" || r.Path != "/services/data/v62.0/sobjects/Case/" || string(r.Body) != `{"Subject":"hello"}` || r.Kind != sfsim.KindSObject || r.Time.IsZero() {
		t.Errorf("logged %+v", r)
	}
	if reqs[2].RawQuery != "q=SELECT+Id+FROM+Case" {
		t.Errorf("raw query = %q", reqs[2].RawQuery)
	}
	if org.Calls("") != 3 || org.Calls(sfsim.KindToken) != 1 || org.Calls(sfsim.KindQuery) != 1 {
		t.Errorf("calls total/token/query = %d/%d/%d", org.Calls(""), org.Calls(sfsim.KindToken), org.Calls(sfsim.KindQuery))
	}
	org.Reset()
	if org.Calls("") != 0 || len(org.Requests()) != 0 {
		t.Error("Reset left counters or log")
	}
}

// BenchmarkQuery50k pages through a filtered, sorted 50,000-record query (25 pages of 2,000): the
// query runs once and later pages are served from its snapshot.
func BenchmarkQuery50k(b *testing.B) {
	org := sfsim.New(sfsim.Config{ClientID: "app", ClientSecret: "shh", APILimit: 1 << 30})
	owner, _ := org.Insert("User", map[string]any{"Username": "owner@example.com", "Name": "Owner"})
	for i := range 50000 {
		if _, err := org.Insert("Case", map[string]any{"Subject": "case", "Status": "New", "Priority": i % 7, "OwnerId": owner}); err != nil {
			b.Fatal(err)
		}
	}
	c := newRaw(b, org)
	q := "/services/data/v62.0/query?q=" + url.QueryEscape("SELECT Id, Subject, Owner.Name FROM Case WHERE Status = 'New' AND Priority >= 0 ORDER BY Priority DESC, CreatedDate")
	for b.Loop() {
		next, pages := q, 0
		for next != "" {
			req, _ := http.NewRequest("GET", c.srv.URL+next, nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var page struct {
				NextRecordsURL string `json:"nextRecordsUrl"`
			}
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("%d %v", resp.StatusCode, err)
			}
			next = page.NextRecordsURL
			pages++
		}
		if pages != 25 {
			b.Fatalf("%d pages, want 25", pages)
		}
		org.Reset()
	}
}
