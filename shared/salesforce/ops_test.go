package salesforce_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

func TestQueryFollowsPages(t *testing.T) {
	e := newEnv(t, sfsim.Config{PageSize: 2000})
	for i := range 5000 {
		if _, err := e.org.Insert("AuthSession", map[string]any{"UsersId": "005xx000001SwiUAAS", "SessionType": "UI", "NumSecondsValid": i}); err != nil {
			t.Fatal(err)
		}
	}
	c := e.client(t)
	type session struct {
		ID              string `json:"Id"`
		NumSecondsValid int
	}
	var sizes []int
	next := 0
	for page, err := range salesforce.QueryPages[session](t.Context(), c, "SELECT Id, NumSecondsValid FROM AuthSession ORDER BY NumSecondsValid") {
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalSize != 5000 {
			t.Errorf("totalSize = %d, want 5000", page.TotalSize)
		}
		for _, r := range page.Records {
			if r.NumSecondsValid != next || len(r.ID) != 18 {
				t.Fatalf("record %d = %+v", next, r)
			}
			next++
		}
		sizes = append(sizes, len(page.Records))
	}
	if !slices.Equal(sizes, []int{2000, 2000, 1000}) {
		t.Errorf("page sizes = %v, want [2000 2000 1000]", sizes)
	}
	if n := e.org.Calls(sfsim.KindQuery); n != 3 {
		t.Errorf("query calls = %d, want 3", n)
	}

	t.Run("stopping early fetches no more pages", func(t *testing.T) {
		e.org.Reset()
		n := 0
		for rec, err := range c.Query(t.Context(), "SELECT Id, SessionType FROM AuthSession") {
			if err != nil {
				t.Fatal(err)
			}
			if rec["SessionType"] != "UI" {
				t.Fatalf("record = %v", rec)
			}
			if n++; n == 2500 {
				break
			}
		}
		if calls := e.org.Calls(sfsim.KindQuery); calls != 2 {
			t.Errorf("query calls = %d, want 2", calls)
		}
	})
}

func TestQueryErrorsAreTyped(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	tests := []struct {
		name, soql, wantCode string
	}{
		{"malformed", "SELECT FROM User", "MALFORMED_QUERY"},
		{"invalid field", "SELECT Foo__c FROM User", "INVALID_FIELD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, err := range e.client(t).Query(t.Context(), tt.soql) {
				ae := apiError(t, err)
				if ae.StatusCode != http.StatusBadRequest || ae.ErrorCode != tt.wantCode {
					t.Errorf("got %d %s, want 400 %s", ae.StatusCode, ae.ErrorCode, tt.wantCode)
				}
				if !apperr.Is(err, apperr.Invalid) {
					t.Errorf("code = %s, want invalid", apperr.CodeOf(err))
				}
			}
		})
	}
}

func TestCreateRecordsInChunks(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	e.org.RequireFields("Case", "Subject")
	e.org.AddValidationRule("Case", func(f map[string]any) *sfsim.Error {
		if f["Priority"] == "Panic" {
			return &sfsim.Error{Code: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "Priority cannot be Panic", Fields: []string{"Priority"}}
		}
		return nil
	})
	records := make([]salesforce.SObject, 450)
	wantFail := map[int]string{}
	for i := range records {
		f := map[string]any{"Subject": fmt.Sprintf("case %d", i), "Priority": "Low"}
		switch {
		case i%100 == 7:
			delete(f, "Subject")
			wantFail[i] = "REQUIRED_FIELD_MISSING"
		case i%100 == 42:
			f["Priority"] = "Panic"
			wantFail[i] = "FIELD_CUSTOM_VALIDATION_EXCEPTION"
		}
		records[i] = salesforce.SObject{Type: "Case", Fields: f}
	}
	res, err := e.client(t).CreateRecords(t.Context(), records, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.org.Calls(sfsim.KindCollections); n != 3 {
		t.Errorf("collection calls = %d, want 3", n)
	}
	if len(res) != len(records) {
		t.Fatalf("%d results for %d records", len(res), len(records))
	}
	for i, r := range res {
		code, shouldFail := wantFail[i]
		switch {
		case shouldFail && (r.Success || len(r.Errors) != 1 || r.Errors[0].StatusCode != code):
			t.Errorf("record %d: %+v, want failure %s", i, r, code)
		case !shouldFail && (!r.Success || len(r.ID) != 18):
			t.Errorf("record %d: %+v, want success", i, r)
		case !shouldFail:
			if _, fields, ok := e.org.Record(r.ID); !ok || fields["Subject"] != fmt.Sprintf("case %d", i) {
				t.Errorf("record %d: stored %v, want subject %q (results out of order?)", i, fields, fmt.Sprintf("case %d", i))
			}
		}
	}
	if got, want := e.org.Count("Case"), 450-len(wantFail); got != want {
		t.Errorf("stored cases = %d, want %d", got, want)
	}

	t.Run("allOrNone rolls back the chunk", func(t *testing.T) {
		before := e.org.Count("Case")
		recs := []salesforce.SObject{{Type: "Case", Fields: map[string]any{"Subject": "ok"}}, {Type: "Case", Fields: map[string]any{}}}
		res, err := e.client(t).CreateRecords(t.Context(), recs, true)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Success || res[0].Errors[0].StatusCode != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || res[1].Errors[0].StatusCode != "REQUIRED_FIELD_MISSING" {
			t.Errorf("results = %+v", res)
		}
		if e.org.Count("Case") != before {
			t.Error("allOrNone call stored records")
		}
	})
}

func TestUpdateRecordsAndSingleRecordOps(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	c := e.client(t)
	id, err := c.Create(t.Context(), "Case", map[string]any{"Subject": "first", "Status": "New"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Update(t.Context(), "Case", id, map[string]any{"Status": "Working"}); err != nil {
		t.Fatal(err)
	}
	res, err := c.UpdateRecords(t.Context(), []salesforce.SObject{
		{Type: "Case", ID: id, Fields: map[string]any{"Priority": "High"}},
		{Type: "Case", ID: "500xx0000000000AAA", Fields: map[string]any{"Priority": "High"}},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Success || res[1].Success {
		t.Errorf("results = %+v, want success then failure", res)
	}
	var got struct{ Subject, Status, Priority, CreatedDate string }
	if err := c.Get(t.Context(), "Case", id, []string{"Subject", "Status", "Priority", "CreatedDate"}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Subject != "first" || got.Status != "Working" || got.Priority != "High" || !strings.HasSuffix(got.CreatedDate, "+0000") {
		t.Errorf("Get = %+v", got)
	}
	err = c.Get(t.Context(), "Case", "500xx0000000000AAA", nil, &got)
	if !apperr.Is(err, apperr.NotFound) {
		t.Errorf("Get missing = %v, want not found", err)
	}
	_, err = c.Create(t.Context(), "Case", map[string]any{"Subject": "x", "CreatedDate": "2020-01-01T00:00:00Z"})
	if ae := apiError(t, err); ae.ErrorCode != "INVALID_FIELD_FOR_INSERT_UPDATE" {
		t.Errorf("writing CreatedDate: %v", err)
	}
}

func TestInputValidation(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	c := e.client(t)
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
	}{
		{"object name injection", func() error { _, err := c.Create(ctx, "Case/../../x", nil); return err }},
		{"bad id", func() error { return c.Update(ctx, "Case", "abc", nil) }},
		{"bad field", func() error { return c.Get(ctx, "Case", "500xx0000000000AAA", []string{"Id,Name"}, nil) }},
		{"event without __e", func() error { _, err := c.PublishEvents(ctx, "Case", nil); return err }},
		{"update without id", func() error {
			_, err := c.UpdateRecords(ctx, []salesforce.SObject{{Type: "Case"}}, false)
			return err
		}},
		{"apex rest absolute URL", func() error { return c.ApexREST(ctx, "GET", "https://evil.example.com/x", nil, nil) }},
		{"apex rest traversal", func() error { return c.ApexREST(ctx, "GET", "/a/../../data", nil, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("err = %v, want invalid", err)
			}
		})
	}
	if n := e.org.Calls(""); n != 0 {
		t.Errorf("%d requests sent for invalid input, want 0", n)
	}
}

const presenceEvent = "Omnibridge_Presence_Command__e"

func presenceFields() []string {
	return []string{"UserId__c", "StatusId__c", "CommandId__c", "Reason__c", "IssuedAt__c"}
}

func presenceCommands(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{
			"UserId__c":    "005xx000001SwiUAAS",
			"StatusId__c":  "0N5xx0000004D56",
			"CommandId__c": fmt.Sprintf("cmd-%05d", i),
			"Reason__c":    "connect:Available",
			"IssuedAt__c":  "2026-11-21T10:00:00.000Z",
		}
	}
	return out
}

func TestPublishEvents(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	if err := e.org.DefineObject(presenceEvent, presenceFields()...); err != nil {
		t.Fatal(err)
	}
	e.org.AddValidationRule(presenceEvent, func(f map[string]any) *sfsim.Error {
		if f["StatusId__c"] == "bad" {
			return &sfsim.Error{Code: "INVALID_FIELD_FOR_INSERT_UPDATE", Message: "Unable to create/update fields: StatusId__c.", Fields: []string{"StatusId__c"}}
		}
		return nil
	})
	cmds := presenceCommands(450)
	cmds[300]["StatusId__c"] = "bad"
	res, err := e.client(t).PublishEvents(t.Context(), presenceEvent, cmds)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.org.Calls(sfsim.KindCollections); n != 3 {
		t.Errorf("collection calls = %d, want 3", n)
	}
	log := e.org.Events()
	if len(log) != 449 {
		t.Fatalf("event log has %d events, want 449", len(log))
	}
	j := 0
	for i, r := range res {
		if i == 300 {
			if r.Success || len(r.Errors) != 1 || r.Errors[0].StatusCode != "INVALID_FIELD_FOR_INSERT_UPDATE" {
				t.Errorf("event 300: %+v, want failure", r)
			}
			continue
		}
		ev := log[j]
		j++
		if !r.Success || len(r.Errors) != 0 || r.EventUUID != ev.EventUUID || r.ID != ev.ID {
			t.Errorf("event %d: result %+v, log %+v", i, r, ev)
		}
		if ev.Type != presenceEvent || ev.Fields["CommandId__c"] != cmds[i]["CommandId__c"] || ev.PublishedAt.IsZero() {
			t.Errorf("event %d logged as %+v", i, ev)
		}
		if j > 1 && ev.ReplayID <= log[j-2].ReplayID {
			t.Errorf("replay ids not increasing at %d", i)
		}
	}

	t.Run("unknown field rejected by a defined event", func(t *testing.T) {
		res, err := e.client(t).PublishEvents(t.Context(), presenceEvent, []map[string]any{{"User_Id__c": "005xx000001SwiUAAS"}})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Success || res[0].Errors[0].StatusCode != "INVALID_FIELD" {
			t.Errorf("result = %+v, want INVALID_FIELD", res[0])
		}
	})
}

func TestInvokeAction(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	var calls [][]map[string]any
	e.org.RegisterAction("OmnibridgeAssignWork", func(inputs []map[string]any) []sfsim.ActionResult {
		calls = append(calls, inputs)
		out := make([]sfsim.ActionResult, len(inputs))
		for i, in := range inputs {
			if in["caseId"] == "" {
				out[i] = sfsim.ActionResult{Errors: []sfsim.Error{{Code: "INVALID_INPUT", Message: "caseId is required"}}}
				continue
			}
			out[i] = sfsim.ActionResult{IsSuccess: true, OutputValues: map[string]any{"echo": in["caseId"]}}
		}
		return out
	})
	c := e.client(t)

	res, err := c.InvokeAction(t.Context(), "OmnibridgeAssignWork", []map[string]any{{"caseId": "a"}, {"caseId": ""}, {"caseId": "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || len(calls[0]) != 3 {
		t.Errorf("handler calls = %v, want one call with 3 inputs", calls)
	}
	want := []salesforce.ActionResult{
		{IsSuccess: true, OutputValues: map[string]any{"echo": "a"}},
		{Errors: []salesforce.RecordError{{StatusCode: "INVALID_INPUT", Message: "caseId is required"}}},
		{IsSuccess: true, OutputValues: map[string]any{"echo": "c"}},
	}
	for i := range want {
		g, _ := json.Marshal(res[i])
		w, _ := json.Marshal(want[i])
		if string(g) != string(w) {
			t.Errorf("result %d = %s, want %s", i, g, w)
		}
	}

	t.Run("every input failing still yields results", func(t *testing.T) {
		res, err := c.InvokeAction(t.Context(), "OmnibridgeAssignWork", []map[string]any{{"caseId": ""}})
		if err != nil || len(res) != 1 || res[0].IsSuccess {
			t.Errorf("results = %+v, %v", res, err)
		}
	})
	t.Run("450 inputs in 3 calls", func(t *testing.T) {
		e.org.Reset()
		in := make([]map[string]any, 450)
		for i := range in {
			in[i] = map[string]any{"caseId": fmt.Sprint(i)}
		}
		res, err := c.InvokeAction(t.Context(), "OmnibridgeAssignWork", in)
		if err != nil || len(res) != 450 || res[449].OutputValues["echo"] != "449" {
			t.Fatalf("results: %d, %v", len(res), err)
		}
		if n := e.org.Calls(sfsim.KindAction); n != 3 {
			t.Errorf("action calls = %d, want 3", n)
		}
	})
	t.Run("unknown action", func(t *testing.T) {
		_, err := c.InvokeAction(t.Context(), "Nope", []map[string]any{{}})
		if !apperr.Is(err, apperr.NotFound) {
			t.Errorf("err = %v, want not found", err)
		}
	})
}

func TestComposite(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	e.org.RequireFields("Contact", "LastName")
	c := e.client(t)
	res, err := c.Composite(t.Context(), false, []salesforce.Subrequest{
		{Method: "POST", URL: "sobjects/Account", ReferenceID: "acct", Body: map[string]any{"Name": "Acme"}},
		{Method: "POST", URL: "sobjects/Contact", ReferenceID: "contact", Body: map[string]any{"LastName": "Doe", "AccountId": "@{acct.id}"}},
		{Method: "GET", URL: "/services/data/v62.0/sobjects/Contact/@{contact.id}", ReferenceID: "readback"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err() != nil {
			t.Fatalf("%s: %v", r.ReferenceID, r.Err())
		}
	}
	var contact struct {
		AccountID string `json:"AccountId"`
	}
	var acct struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(res[2].Body, &contact)
	_ = json.Unmarshal(res[0].Body, &acct)
	if contact.AccountID == "" || contact.AccountID != acct.ID {
		t.Errorf("reference not resolved: contact.AccountId %q, account id %q", contact.AccountID, acct.ID)
	}
	if n := e.org.Calls(sfsim.KindComposite); n != 1 || e.org.Calls("") != 2 {
		t.Errorf("composite calls = %d, total = %d; want 1 composite + 1 token", n, e.org.Calls(""))
	}

	t.Run("allOrNone rolls back", func(t *testing.T) {
		before := e.org.Count("Account")
		res, err := c.Composite(t.Context(), true, []salesforce.Subrequest{
			{Method: "POST", URL: "sobjects/Account", ReferenceID: "a", Body: map[string]any{"Name": "Rolled back"}},
			{Method: "POST", URL: "sobjects/Contact", ReferenceID: "b", Body: map[string]any{"AccountId": "@{a.id}"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		ae0, _ := res[0].Err().(*salesforce.APIError)
		ae1, _ := res[1].Err().(*salesforce.APIError)
		if ae0 == nil || ae0.ErrorCode != "PROCESSING_HALTED" || ae1 == nil || ae1.ErrorCode != "REQUIRED_FIELD_MISSING" {
			t.Errorf("errors = %v, %v", res[0].Err(), res[1].Err())
		}
		if e.org.Count("Account") != before {
			t.Error("account not rolled back")
		}
	})
	t.Run("more than 25 subrequests rejected", func(t *testing.T) {
		e.org.Reset()
		reqs := make([]salesforce.Subrequest, 26)
		for i := range reqs {
			reqs[i] = salesforce.Subrequest{Method: "GET", URL: "limits", ReferenceID: fmt.Sprintf("r%d", i)}
		}
		_, err := c.Composite(t.Context(), false, reqs)
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "at most 25") {
			t.Errorf("err = %v", err)
		}
		if e.org.Calls("") != 0 {
			t.Error("request sent")
		}
	})
}

func TestApexREST(t *testing.T) {
	e := newEnv(t, sfsim.Config{})
	err := e.org.HandleApexREST("POST /omnibridge/v1/ack/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": r.PathValue("id"), "status": in["status"], "q": r.URL.Query().Get("x")})
	}))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := e.client(t).ApexREST(t.Context(), "POST", "/omnibridge/v1/ack/cmd-1?x=y", map[string]any{"status": "applied"}, &out); err != nil {
		t.Fatal(err)
	}
	if out["id"] != "cmd-1" || out["status"] != "applied" || out["q"] != "y" {
		t.Errorf("response = %v", out)
	}
	err = e.client(t).ApexREST(t.Context(), "GET", "/nothing/here", nil, nil)
	if !apperr.Is(err, apperr.NotFound) {
		t.Errorf("unknown endpoint: %v, want not found", err)
	}
	if err := e.org.HandleApexREST("BAD PATTERN WITH SPACES {", http.NotFoundHandler()); err == nil {
		t.Error("invalid pattern accepted")
	}
}
