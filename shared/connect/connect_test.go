package connect_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/connect"
)

// fast keeps the limiter out of the way in unit tests.
var fast = connect.Options{RequestsPerSecond: 1000, Burst: 100}

func statusPage(names ...string) *awsconnect.ListAgentStatusesOutput {
	out := &awsconnect.ListAgentStatusesOutput{}
	for _, n := range names {
		id := "id-" + strings.ToLower(n)
		out.AgentStatusSummaryList = append(out.AgentStatusSummaryList, types.AgentStatusSummary{
			Id: aws.String(id), Arn: aws.String("arn:aws:connect:us-east-1:1:instance/i/agent-state/" + id), Name: aws.String(n), Type: types.AgentStatusTypeCustom,
		})
	}
	return out
}

func TestResolveStatus(t *testing.T) {
	tests := []struct {
		name       string
		pages      [][]string // successive ListAgentStatuses loads, each one page
		minRefresh time.Duration
		lookups    []string
		wantCodes  []apperr.Code
		wantLists  int32
	}{
		{name: "cached after first load", pages: [][]string{{"Available", "Lunch"}}, lookups: []string{"Available", "Lunch", "Available"}, wantCodes: []apperr.Code{"", "", ""}, wantLists: 1},
		{name: "miss reloads and finds a new status", pages: [][]string{{"Available"}, {"Available", "Training"}}, minRefresh: -1, lookups: []string{"Available", "Training"}, wantCodes: []apperr.Code{"", ""}, wantLists: 2},
		{name: "unknown after reload is NotFound", pages: [][]string{{"Available"}, {"Available"}}, minRefresh: -1, lookups: []string{"Available", "Nap"}, wantCodes: []apperr.Code{"", apperr.NotFound}, wantLists: 2},
		{name: "misses within MinStatusRefresh do not reload", pages: [][]string{{"Available"}}, minRefresh: time.Hour, lookups: []string{"Nap", "Nap", "Nap"}, wantCodes: []apperr.Code{apperr.NotFound, apperr.NotFound, apperr.NotFound}, wantLists: 1},
		{name: "empty name is Invalid", pages: [][]string{{"Available"}}, lookups: []string{""}, wantCodes: []apperr.Code{apperr.Invalid}, wantLists: 0},
		{name: "names are case-sensitive", pages: [][]string{{"Available"}}, minRefresh: time.Hour, lookups: []string{"available"}, wantCodes: []apperr.Code{apperr.NotFound}, wantLists: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lists atomic.Int32
			api := &fakeAPI{listAgentStatuses: func(_ context.Context, in *awsconnect.ListAgentStatusesInput) (*awsconnect.ListAgentStatusesOutput, error) {
				if aws.ToString(in.InstanceId) != "inst" {
					t.Errorf("InstanceId %q", aws.ToString(in.InstanceId))
				}
				n := int(lists.Add(1)) - 1
				return statusPage(tt.pages[min(n, len(tt.pages)-1)]...), nil
			}}
			opts := fast
			opts.MinStatusRefresh = tt.minRefresh
			c := connect.New(api, "inst", opts)
			for i, name := range tt.lookups {
				st, err := c.ResolveStatus(context.Background(), name)
				if apperr.CodeOf(err) != tt.wantCodes[i] {
					t.Fatalf("lookup %d (%q): err %v, want code %q", i, name, err, tt.wantCodes[i])
				}
				if err == nil && (st.Name != name || st.ID != "id-"+strings.ToLower(name)) {
					t.Errorf("lookup %q gave %+v", name, st)
				}
			}
			if got := lists.Load(); got != tt.wantLists {
				t.Errorf("ListAgentStatuses calls = %d, want %d", got, tt.wantLists)
			}
		})
	}
}

// TestResolveStatusPaginates checks that every page of statuses is loaded.
func TestResolveStatusPaginates(t *testing.T) {
	api := &fakeAPI{listAgentStatuses: func(_ context.Context, in *awsconnect.ListAgentStatusesInput) (*awsconnect.ListAgentStatusesOutput, error) {
		if in.NextToken == nil {
			out := statusPage("Available")
			out.NextToken = aws.String("p2")
			return out, nil
		}
		return statusPage("Lunch"), nil
	}}
	c := connect.New(api, "inst", fast)
	all, err := c.AgentStatuses(context.Background())
	if err != nil || len(all) != 2 {
		t.Fatalf("%v %v", all, err)
	}
}

// TestResolveStatusSingleRefresh checks that concurrent misses share one reload.
func TestResolveStatusSingleRefresh(t *testing.T) {
	var lists atomic.Int32
	release := make(chan struct{})
	api := &fakeAPI{listAgentStatuses: func(context.Context, *awsconnect.ListAgentStatusesInput) (*awsconnect.ListAgentStatusesOutput, error) {
		lists.Add(1)
		<-release
		return statusPage("Available", "Lunch"), nil
	}}
	c := connect.New(api, "inst", fast)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.ResolveStatus(context.Background(), "Lunch")
			errs <- err
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the goroutines pile up on the reload
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := lists.Load(); n != 1 {
		t.Errorf("ListAgentStatuses calls = %d, want 1", n)
	}
}

// TestErrorMapping checks that SDK errors become apperr codes and that no SDK type can be
// reached from the returned error.
func TestErrorMapping(t *testing.T) {
	respErr := func(status int) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: errors.New("boom")}
	}
	tests := []struct {
		name     string
		err      error
		want     apperr.Code
		isCancel bool
	}{
		{name: "resource not found", err: &types.ResourceNotFoundException{Message: aws.String("User not found")}, want: apperr.NotFound},
		{name: "contact not found", err: &types.ContactNotFoundException{Message: aws.String("gone")}, want: apperr.NotFound},
		{name: "invalid parameter", err: &types.InvalidParameterException{Message: aws.String("bad")}, want: apperr.Invalid},
		{name: "invalid request", err: &types.InvalidRequestException{Message: aws.String("bad")}, want: apperr.Invalid},
		{name: "throttling after retries", err: &types.ThrottlingException{Message: aws.String("Rate exceeded")}, want: apperr.Unavailable},
		{name: "too many requests (generic)", err: &smithy.GenericAPIError{Code: "TooManyRequestsException", Message: "slow down"}, want: apperr.Unavailable},
		{name: "internal service", err: &types.InternalServiceException{Message: aws.String("oops")}, want: apperr.Unavailable},
		{name: "duplicate", err: &types.DuplicateResourceException{Message: aws.String("dup")}, want: apperr.Conflict},
		{name: "access denied", err: &types.AccessDeniedException{Message: aws.String("no")}, want: apperr.Internal},
		{name: "unknown API error on 503", err: fmt.Errorf("op: %w", &smithy.OperationError{ServiceID: "Connect", OperationName: "X", Err: errors.Join(&smithy.GenericAPIError{Code: "Weird"}, respErr(503))}), want: apperr.Unavailable},
		{name: "unknown API error on 400", err: &smithy.GenericAPIError{Code: "Weird"}, want: apperr.Internal},
		{name: "bare 502", err: respErr(502), want: apperr.Unavailable},
		{name: "connection failed", err: &smithyhttp.RequestSendError{Err: errors.New("connection reset by peer")}, want: apperr.Unavailable},
		{name: "canceled", err: &smithy.OperationError{Err: context.Canceled}, want: apperr.Unavailable, isCancel: true},
		{name: "other", err: errors.New("serialization failed"), want: apperr.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connect.New(&fakeAPI{describeUser: func(context.Context, *awsconnect.DescribeUserInput) (*awsconnect.DescribeUserOutput, error) {
				return nil, tt.err
			}}, "inst", fast)
			_, err := c.DescribeUser(context.Background(), "u1")
			if apperr.CodeOf(err) != tt.want {
				t.Errorf("code = %q, want %q (%v)", apperr.CodeOf(err), tt.want, err)
			}
			var apiErr smithy.APIError
			var opErr *smithy.OperationError
			var rErr *smithyhttp.ResponseError
			if errors.As(err, &apiErr) || errors.As(err, &opErr) || errors.As(err, &rErr) {
				t.Error("an SDK error type is reachable from the returned error")
			}
			if errors.Is(err, context.Canceled) != tt.isCancel {
				t.Errorf("errors.Is(err, context.Canceled) = %v, want %v", !tt.isCancel, tt.isCancel)
			}
			if msg := apperr.MessageOf(err); strings.Contains(msg, "Exception") {
				t.Errorf("user message leaks Connect's error: %q", msg)
			}
		})
	}
}

func TestClientToken(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tests := []struct {
		name string
		key  string
	}{
		{name: "event id", key: "evt-49650383517124867512047236493827145810473201573961760770"},
		{name: "empty", key: ""},
		{name: "very long", key: strings.Repeat("k", 10_000)},
		{name: "unicode", key: "casé-ünïcode-✓"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := connect.ClientToken(tt.key)
			if !uuid.MatchString(tok) || len(tok) > 500 {
				t.Errorf("token %q is not a version 8 UUID", tok)
			}
			if connect.ClientToken(tt.key) != tok {
				t.Error("token is not deterministic")
			}
			if other, dup := seen[tok]; dup {
				t.Errorf("keys %q and %q share a token", other, tt.key)
			}
			seen[tok] = tt.key
		})
	}
}

func TestStartTaskValidation(t *testing.T) {
	valid := connect.Task{IdempotencyKey: "k", ContactFlowID: "f", Name: "n"}
	tests := []struct {
		name      string
		mut       func(*connect.Task)
		wantPaths []string
	}{
		{name: "missing everything", mut: func(tk *connect.Task) { *tk = connect.Task{} }, wantPaths: []string{"idempotencyKey", "contactFlowId", "name"}},
		{name: "name too long", mut: func(tk *connect.Task) { tk.Name = strings.Repeat("é", 513) }, wantPaths: []string{"name"}},
		{name: "description too long", mut: func(tk *connect.Task) { tk.Description = strings.Repeat("d", 4097) }, wantPaths: []string{"description"}},
		{name: "bad reference", mut: func(tk *connect.Task) {
			tk.References = map[string]connect.Reference{"b": {Type: "BLOB", Value: "x"}, "a": {Type: "URL"}}
		}, wantPaths: []string{"references.a.value", "references.b.type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connect.New(&fakeAPI{}, "inst", fast) // any API call fails the test through errUnexpected
			task := valid
			tt.mut(&task)
			_, err := c.StartTask(context.Background(), task)
			var got []string
			for _, p := range apperr.ProblemsOf(err) {
				got = append(got, p.Path)
			}
			if !apperr.Is(err, apperr.Invalid) || strings.Join(got, ",") != strings.Join(tt.wantPaths, ",") {
				t.Errorf("err %v, paths %v, want %v", err, got, tt.wantPaths)
			}
		})
	}
}

func TestStartTaskRequest(t *testing.T) {
	var got *awsconnect.StartTaskContactInput
	c := connect.New(&fakeAPI{startTaskContact: func(_ context.Context, in *awsconnect.StartTaskContactInput) (*awsconnect.StartTaskContactOutput, error) {
		got = in
		return &awsconnect.StartTaskContactOutput{ContactId: aws.String("c-1")}, nil
	}}, "inst", fast)
	id, err := c.StartTask(context.Background(), connect.Task{
		IdempotencyKey: "case-500xx-created", ContactFlowID: "flow-1", Name: "Case 00001026", Description: "Printer on fire",
		Attributes: map[string]string{"skill": "printers"}, References: map[string]connect.Reference{"Case": {Type: "URL", Value: "https://x/500xx"}},
	})
	if err != nil || id != "c-1" {
		t.Fatalf("%q %v", id, err)
	}
	if aws.ToString(got.ClientToken) != connect.ClientToken("case-500xx-created") || aws.ToString(got.InstanceId) != "inst" ||
		aws.ToString(got.ContactFlowId) != "flow-1" || aws.ToString(got.Name) != "Case 00001026" || aws.ToString(got.Description) != "Printer on fire" ||
		got.Attributes["skill"] != "printers" || got.References["Case"].Type != types.ReferenceTypeUrl || aws.ToString(got.References["Case"].Value) != "https://x/500xx" {
		t.Errorf("request %+v", got)
	}
}

func TestCurrentUserDataBatches(t *testing.T) {
	var batches []int
	c := connect.New(&fakeAPI{getCurrentUserData: func(_ context.Context, in *awsconnect.GetCurrentUserDataInput) (*awsconnect.GetCurrentUserDataOutput, error) {
		batches = append(batches, len(in.Filters.Agents))
		out := &awsconnect.GetCurrentUserDataOutput{}
		for _, a := range in.Filters.Agents {
			out.UserDataList = append(out.UserDataList, types.UserData{User: &types.UserReference{Id: aws.String(a)}})
		}
		return out, nil
	}}, "inst", fast)
	ids := make([]string, 0, 251)
	for i := range 250 {
		ids = append(ids, fmt.Sprintf("u%03d", i))
	}
	ids = append(ids, "u000") // duplicates are sent once
	got, err := c.CurrentUserData(context.Background(), ids)
	if err != nil || len(got) != 250 {
		t.Fatalf("%d users, %v", len(got), err)
	}
	if fmt.Sprint(batches) != "[100 100 50]" {
		t.Errorf("batches %v, want [100 100 50]", batches)
	}
}

func TestFindUserByUsername(t *testing.T) {
	users := []types.UserSearchSummary{
		{Id: aws.String("u-1"), Username: aws.String("JDoe")},
		{Id: aws.String("u-2"), Username: aws.String("jdoe")},
	}
	tests := []struct {
		name     string
		username string
		wantID   string
		wantCode apperr.Code
	}{
		{name: "exact match preferred", username: "jdoe", wantID: "u-2"},
		{name: "case-insensitive fallback", username: "JDOE", wantID: "u-1"},
		{name: "no match", username: "nobody", wantCode: apperr.NotFound},
		{name: "empty", username: "", wantCode: apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connect.New(&fakeAPI{searchUsers: func(_ context.Context, in *awsconnect.SearchUsersInput) (*awsconnect.SearchUsersOutput, error) {
				sc := in.SearchCriteria.StringCondition
				if aws.ToString(sc.FieldName) != "Username" || sc.ComparisonType != types.StringComparisonTypeExact || aws.ToString(sc.Value) != tt.username {
					t.Errorf("criteria %+v", sc)
				}
				var out []types.UserSearchSummary
				for _, u := range users {
					if strings.EqualFold(aws.ToString(u.Username), tt.username) {
						out = append(out, u)
					}
				}
				return &awsconnect.SearchUsersOutput{Users: out}, nil
			}}, "inst", fast)
			u, err := c.FindUserByUsername(context.Background(), tt.username)
			if apperr.CodeOf(err) != tt.wantCode || u.ID != tt.wantID {
				t.Errorf("got %q %v, want %q code %q", u.ID, err, tt.wantID, tt.wantCode)
			}
		})
	}
}

// TestSetStatusCoalesced checks the coalescing contract deterministically: while one request is
// in flight, later ones queue; each newer request supersedes the waiting one; the newest is
// sent when the sender is free.
func TestSetStatusCoalesced(t *testing.T) {
	inFlight := make(chan struct{})
	release := make(chan struct{})
	var mu sync.Mutex
	var sent []string
	api := &fakeAPI{
		listAgentStatuses: func(context.Context, *awsconnect.ListAgentStatusesInput) (*awsconnect.ListAgentStatusesOutput, error) {
			return statusPage("Available", "Lunch", "Break", "Training"), nil
		},
		putUserStatus: func(_ context.Context, in *awsconnect.PutUserStatusInput) (*awsconnect.PutUserStatusOutput, error) {
			mu.Lock()
			sent = append(sent, aws.ToString(in.AgentStatusId))
			first := len(sent) == 1
			mu.Unlock()
			if first {
				close(inFlight)
				<-release
			}
			return &awsconnect.PutUserStatusOutput{}, nil
		},
	}
	c := connect.New(api, "inst", fast)
	ctx := context.Background()
	submit := func(status, key string) <-chan connect.StatusOutcome {
		ch, err := c.SubmitStatus(ctx, "u1", status, key)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	a := submit("Available", "A")
	<-inFlight // A is being sent
	b := submit("Lunch", "B")
	cc := submit("Break", "C")
	if _, err := c.SubmitStatus(ctx, "u1", "Nap", "X"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown status: %v", err)
	}
	d := submit("Training", "D")
	close(release)

	tests := []struct {
		name       string
		ch         <-chan connect.StatusOutcome
		sent       bool
		supersedBy string
	}{
		{name: "A in flight is sent", ch: a, sent: true},
		{name: "B superseded by C", ch: b, supersedBy: "C"},
		{name: "C superseded by D", ch: cc, supersedBy: "D"},
		{name: "D newest is sent", ch: d, sent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := <-tt.ch
			if o.Err != nil || o.Result.Sent != tt.sent || o.Result.SupersededBy != tt.supersedBy || o.Result.Superseded() != (tt.supersedBy != "") {
				t.Errorf("outcome %+v", o)
			}
			if tt.supersedBy != "" && o.Result.String() != "superseded by "+tt.supersedBy {
				t.Errorf("String() = %q", o.Result.String())
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(sent, ",") != "id-available,id-training" {
		t.Errorf("sent %v, want the in-flight one and the newest", sent)
	}
}

// TestSetStatusCoalescedCancel checks that a waiting request whose context ends is withdrawn
// with an error and is not sent.
func TestSetStatusCoalescedCancel(t *testing.T) {
	inFlight := make(chan struct{})
	release := make(chan struct{})
	var puts atomic.Int32
	api := &fakeAPI{
		listAgentStatuses: func(context.Context, *awsconnect.ListAgentStatusesInput) (*awsconnect.ListAgentStatusesOutput, error) {
			return statusPage("Available", "Lunch"), nil
		},
		putUserStatus: func(context.Context, *awsconnect.PutUserStatusInput) (*awsconnect.PutUserStatusOutput, error) {
			if puts.Add(1) == 1 {
				close(inFlight)
				<-release
			}
			return &awsconnect.PutUserStatusOutput{}, nil
		},
	}
	c := connect.New(api, "inst", fast)
	first, err := c.SubmitStatus(context.Background(), "u1", "Available", "A")
	if err != nil {
		t.Fatal(err)
	}
	<-inFlight
	ctx, cancel := context.WithCancel(context.Background())
	second, err := c.SubmitStatus(ctx, "u1", "Lunch", "B")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	o := <-second
	if !apperr.Is(o.Err, apperr.Unavailable) || !errors.Is(o.Err, context.Canceled) {
		t.Errorf("canceled request: %+v", o)
	}
	close(release)
	if o := <-first; !o.Result.Sent || o.Err != nil {
		t.Errorf("first: %+v", o)
	}
	time.Sleep(20 * time.Millisecond)
	if n := puts.Load(); n != 1 {
		t.Errorf("PutUserStatus calls = %d, want 1 (the canceled request must not be sent)", n)
	}
}
