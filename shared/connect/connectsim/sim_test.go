package connectsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconnect "github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/smithy-go"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
)

func mustNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func agentState(t *testing.T, sim *connectsim.Sim, userID string) connectsim.AgentState {
	t.Helper()
	a, err := sim.Agent(userID)
	mustNoErr(t, err)
	return a
}

// putStatus calls PutUserStatus through the SDK.
func putStatus(t *testing.T, e *env, userID, statusID string) {
	t.Helper()
	_, err := e.sdk.PutUserStatus(context.Background(), &awsconnect.PutUserStatusInput{
		InstanceId: aws.String(e.sim.InstanceID()), UserId: aws.String(userID), AgentStatusId: aws.String(statusID),
	})
	mustNoErr(t, err)
}

// TestPutUserStatusSemantics covers when a status applies at once and when it waits as the
// next status.
func TestPutUserStatusSemantics(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(t *testing.T, e *env) // agent u-jdoe is logged in Available before setup
		statusID   string
		wantStatus string
		wantNext   string
		wantEvent  bool
	}{
		{name: "idle agent switches at once", statusID: "st-lunch", wantStatus: "Lunch", wantEvent: true},
		{name: "same status emits nothing", statusID: "st-available", wantStatus: "Available"},
		{name: "on a call it becomes the next status", setup: onCall, statusID: "st-lunch", wantStatus: "Available", wantNext: "Lunch", wantEvent: true},
		{name: "on hold counts as on a call", setup: func(t *testing.T, e *env) {
			onCall(t, e)
			mustNoErr(t, e.sim.Hold("c1"))
		}, statusID: "st-lunch", wantStatus: "Available", wantNext: "Lunch", wantEvent: true},
		{name: "an offered contact counts too", setup: func(t *testing.T, e *env) {
			_, err := e.sim.Offer("u-jdoe", connectsim.NewContact{ID: "c1", Channel: agentevent.ChannelChat})
			mustNoErr(t, err)
		}, statusID: "st-lunch", wantStatus: "Available", wantNext: "Lunch", wantEvent: true},
		{name: "in ACW without a next status it applies at once", setup: func(t *testing.T, e *env) {
			onCall(t, e)
			mustNoErr(t, e.sim.End("c1"))
		}, statusID: "st-lunch", wantStatus: "Lunch", wantEvent: true},
		{name: "in ACW with a next status it replaces the next status", setup: func(t *testing.T, e *env) {
			onCall(t, e)
			putStatus(t, e, "u-jdoe", "st-lunch")
			mustNoErr(t, e.sim.End("c1"))
		}, statusID: "st-offline", wantStatus: "Available", wantNext: "Offline", wantEvent: true},
		{name: "current status while on a call cancels the next status", setup: func(t *testing.T, e *env) {
			onCall(t, e)
			putStatus(t, e, "u-jdoe", "st-lunch")
		}, statusID: "st-available", wantStatus: "Available", wantEvent: true},
		{name: "logged-out agent changes silently", setup: func(t *testing.T, e *env) {
			mustNoErr(t, e.sim.Logout("u-jdoe"))
		}, statusID: "st-lunch", wantStatus: "Lunch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, basicSeed(), connectsim.Options{})
			mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
			if tt.setup != nil {
				tt.setup(t, e)
			}
			before := len(e.sim.Events())
			putStatus(t, e, "u-jdoe", tt.statusID)
			a := agentState(t, e.sim, "u-jdoe")
			if a.Status() != tt.wantStatus || a.NextStatus() != tt.wantNext {
				t.Errorf("status %q next %q, want %q next %q", a.Status(), a.NextStatus(), tt.wantStatus, tt.wantNext)
			}
			if got := len(e.sim.Events()) > before; got != tt.wantEvent {
				t.Errorf("event emitted = %v, want %v", got, tt.wantEvent)
			}
		})
	}
}

func onCall(t *testing.T, e *env) {
	t.Helper()
	_, err := e.sim.Offer("u-jdoe", connectsim.NewContact{ID: "c1"})
	mustNoErr(t, err)
	mustNoErr(t, e.sim.Connect("c1"))
}

// TestNextStatusAppliedOnClear checks that the next status is applied when the last contact
// is cleared, not when it ends.
func TestNextStatusAppliedOnClear(t *testing.T) {
	e := newEnv(t, basicSeed(), connectsim.Options{})
	mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
	onCall(t, e)
	putStatus(t, e, "u-jdoe", "st-lunch")
	mustNoErr(t, e.sim.End("c1"))
	if a := agentState(t, e.sim, "u-jdoe"); a.Status() != "Available" || a.NextStatus() != "Lunch" {
		t.Fatalf("in ACW: %q next %q", a.Status(), a.NextStatus())
	}
	mustNoErr(t, e.sim.Clear("c1"))
	a := agentState(t, e.sim, "u-jdoe")
	if a.Status() != "Lunch" || a.NextStatus() != "" || len(a.Snapshot.Contacts) != 0 {
		t.Fatalf("after clear: %q next %q contacts %d", a.Status(), a.NextStatus(), len(a.Snapshot.Contacts))
	}
	last := e.sim.Events()[len(e.sim.Events())-1].Event
	if last.PreviousAgentSnapshot.NextAgentStatus == nil || last.CurrentAgentSnapshot.AgentStatus.Name != "Lunch" {
		t.Error("the clearing record should carry the next status before and the applied status after")
	}
}

// TestContactLifecycle drives an inbound call through every step and checks the records.
func TestContactLifecycle(t *testing.T) {
	e := newEnv(t, basicSeed(), connectsim.Options{})
	mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
	id, err := e.sim.Offer("u-jdoe", connectsim.NewContact{Queue: "PrimaryQueue"})
	mustNoErr(t, err)
	for _, step := range []func(string) error{e.sim.Accept, e.sim.Connect, e.sim.Hold, e.sim.Resume, e.sim.End, e.sim.Clear} {
		mustNoErr(t, step(id))
	}
	var got []string
	for _, r := range e.sim.Events() {
		ev, err := agentevent.Decode(r.Data)
		mustNoErr(t, err)
		state := "-"
		if cs := ev.CurrentAgentSnapshot.Contacts; len(cs) > 0 {
			state = string(cs[0].State)
			if cs[0].Queue == nil || cs[0].Queue.Name != "PrimaryQueue" || cs[0].QueueTimestamp == nil {
				t.Errorf("%s: queue/queue timestamp missing on inbound contact", state)
			}
		}
		got = append(got, string(ev.EventType)+":"+state)
	}
	want := "LOGIN:- STATE_CHANGE:INCOMING STATE_CHANGE:CONNECTING STATE_CHANGE:CONNECTED STATE_CHANGE:CONNECTED_ONHOLD STATE_CHANGE:CONNECTED STATE_CHANGE:ENDED STATE_CHANGE:-"
	if strings.Join(got, " ") != want {
		t.Errorf("records\n got: %s\nwant: %s", strings.Join(got, " "), want)
	}
	// Slots: the VOICE slot is taken from INCOMING until the contact is cleared.
	evs := e.sim.Events()
	for i, wantSlots := range []int{1, 0, 0, 0, 0, 0, 0, 1} {
		for _, c := range evs[i].Event.CurrentAgentSnapshot.Configuration.RoutingProfile.Concurrency {
			if c.Channel == agentevent.ChannelVoice && c.AvailableSlots != wantSlots {
				t.Errorf("record %d: VOICE AvailableSlots %d, want %d", i, c.AvailableSlots, wantSlots)
			}
		}
	}
}

// TestInitialStates checks the states a contact can appear in, and a callback's path from
// PENDING to CONNECTED.
func TestInitialStates(t *testing.T) {
	tests := []struct {
		name  string
		place bool
		nc    connectsim.NewContact
		want  agentevent.ContactState
	}{
		{name: "offer defaults to INCOMING", nc: connectsim.NewContact{}, want: agentevent.ContactStateIncoming},
		{name: "callback offered PENDING", nc: connectsim.NewContact{InitiationMethod: agentevent.InitiationCallback, State: agentevent.ContactStatePending}, want: agentevent.ContactStatePending},
		{name: "place defaults to CONNECTING", place: true, nc: connectsim.NewContact{}, want: agentevent.ContactStateConnecting},
		{name: "transfer offered INCOMING on chat", nc: connectsim.NewContact{InitiationMethod: agentevent.InitiationTransfer, Channel: agentevent.ChannelChat, InitialContactID: "first"}, want: agentevent.ContactStateIncoming},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, basicSeed(), connectsim.Options{})
			mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
			do := e.sim.Offer
			if tt.place {
				do = e.sim.Place
			}
			id, err := do("u-jdoe", tt.nc)
			mustNoErr(t, err)
			c, err := e.sim.Contact(id)
			mustNoErr(t, err)
			if c.State != tt.want || c.InitialContactID != tt.nc.InitialContactID {
				t.Errorf("contact %+v, want state %s", c, tt.want)
			}
			mustNoErr(t, e.sim.Connect(id))
		})
	}
}

func TestDrivingErrors(t *testing.T) {
	tests := []struct {
		name string
		do   func(e *env) error
		code apperr.Code
	}{
		{name: "offer to logged-out agent", do: func(e *env) error {
			_, err := e.sim.Offer("u-msmith", connectsim.NewContact{})
			return err
		}, code: apperr.Invalid},
		{name: "offer to agent on lunch", do: func(e *env) error {
			mustNoErr(t, e.sim.SetStatus("u-jdoe", "Lunch"))
			_, err := e.sim.Offer("u-jdoe", connectsim.NewContact{})
			return err
		}, code: apperr.Invalid},
		{name: "offer while next status pending", do: func(e *env) error {
			_, _ = e.sim.Offer("u-jdoe", connectsim.NewContact{ID: "chat1", Channel: agentevent.ChannelChat})
			mustNoErr(t, e.sim.SetStatus("u-jdoe", "Lunch"))
			_, err := e.sim.Offer("u-jdoe", connectsim.NewContact{Channel: agentevent.ChannelChat})
			return err
		}, code: apperr.Invalid},
		{name: "offer beyond the channel's slots", do: func(e *env) error {
			_, _ = e.sim.Offer("u-jdoe", connectsim.NewContact{})
			_, err := e.sim.Offer("u-jdoe", connectsim.NewContact{})
			return err
		}, code: apperr.Invalid},
		{name: "place for unknown user", do: func(e *env) error {
			_, err := e.sim.Place("nobody", connectsim.NewContact{})
			return err
		}, code: apperr.NotFound},
		{name: "unknown queue", do: func(e *env) error {
			_, err := e.sim.Place("u-jdoe", connectsim.NewContact{Queue: "Nope"})
			return err
		}, code: apperr.NotFound},
		{name: "hold an incoming contact", do: func(e *env) error {
			id, _ := e.sim.Offer("u-jdoe", connectsim.NewContact{})
			return e.sim.Hold(id)
		}, code: apperr.Invalid},
		{name: "clear a connected contact", do: func(e *env) error {
			id, _ := e.sim.Place("u-jdoe", connectsim.NewContact{})
			_ = e.sim.Connect(id)
			return e.sim.Clear(id)
		}, code: apperr.Invalid},
		{name: "logout with a contact", do: func(e *env) error {
			_, _ = e.sim.Place("u-jdoe", connectsim.NewContact{})
			return e.sim.Logout("u-jdoe")
		}, code: apperr.Invalid},
		{name: "offer while a missed contact awaits clearing", do: func(e *env) error {
			id, _ := e.sim.Offer("u-jdoe", connectsim.NewContact{Channel: agentevent.ChannelChat})
			_ = e.sim.Miss(id)
			_, err := e.sim.Offer("u-jdoe", connectsim.NewContact{Channel: agentevent.ChannelTask})
			return err
		}, code: apperr.Invalid},
		{name: "new contact already connected", do: func(e *env) error {
			_, err := e.sim.Place("u-jdoe", connectsim.NewContact{State: agentevent.ContactStateConnected})
			return err
		}, code: apperr.Invalid},
		{name: "login twice", do: func(e *env) error { return e.sim.Login("u-jdoe", "") }, code: apperr.Invalid},
		{name: "CCP status disabled", do: func(e *env) error { return e.sim.SetStatus("u-jdoe", "Training") }, code: apperr.Invalid},
		{name: "CCP status unknown", do: func(e *env) error { return e.sim.SetStatus("u-jdoe", "Nap") }, code: apperr.NotFound},
		{name: "duplicate contact id", do: func(e *env) error {
			_, _ = e.sim.Place("u-jdoe", connectsim.NewContact{ID: "dup", Channel: agentevent.ChannelChat})
			_, err := e.sim.Place("u-jdoe", connectsim.NewContact{ID: "dup", Channel: agentevent.ChannelChat})
			return err
		}, code: apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, basicSeed(), connectsim.Options{})
			mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
			err := tt.do(e)
			if apperr.CodeOf(err) != tt.code {
				t.Errorf("err = %v, want code %q", err, tt.code)
			}
		})
	}
}

// TestLoginLogoutHeartbeat checks the three non-STATE_CHANGE record types.
func TestLoginLogoutHeartbeat(t *testing.T) {
	e := newEnv(t, basicSeed(), connectsim.Options{})
	mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
	mustNoErr(t, e.sim.Heartbeat("u-jdoe"))
	mustNoErr(t, e.sim.Logout("u-jdoe"))
	evs := e.sim.EventsFor("u-jdoe")
	tests := []struct {
		typ        agentevent.EventType
		status     string
		prevStatus string
	}{
		{agentevent.EventTypeLogin, "Available", ""},
		{agentevent.EventTypeHeartBeat, "Available", "Available"},
		{agentevent.EventTypeLogout, "Offline", "Available"},
	}
	if len(evs) != len(tests) {
		t.Fatalf("%d records, want %d", len(evs), len(tests))
	}
	for i, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			ev, err := agentevent.Decode(evs[i].Data)
			mustNoErr(t, err)
			if ev.EventType != tt.typ || ev.CurrentAgentSnapshot.AgentStatus.Name != tt.status {
				t.Errorf("got %s %s", ev.EventType, ev.CurrentAgentSnapshot.AgentStatus.Name)
			}
			if ev.CurrentAgentSnapshot.AgentStatus.Type == "" {
				t.Error("AgentStatus.Type missing outside ReferenceShape")
			}
			prev := ""
			if ev.PreviousAgentSnapshot != nil {
				prev = ev.PreviousAgentSnapshot.AgentStatus.Name
			}
			if prev != tt.prevStatus {
				t.Errorf("previous status %q, want %q", prev, tt.prevStatus)
			}
		})
	}
	if !strings.Contains(string(evs[0].Data), `"PreviousAgentSnapshot":null`) {
		t.Error("LOGIN must carry PreviousAgentSnapshot: null")
	}
}

// rawCall sends a request without the SDK, to check the wire shapes themselves.
func rawCall(t *testing.T, e *env, method, path, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	mustNoErr(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	mustNoErr(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

// TestWireErrors checks the error shape: status, X-Amzn-ErrorType and {"message": ...}.
func TestWireErrors(t *testing.T) {
	const inst = "11111111-2222-4333-8444-555555555555"
	tests := []struct {
		name, method, path, body string
		status                   int
		errType                  string
	}{
		{name: "unknown route", method: "GET", path: "/nope", status: 404, errType: "UnknownOperationException"},
		{name: "wrong instance", method: "GET", path: "/agent-status/other", status: 404, errType: "ResourceNotFoundException"},
		{name: "unknown user", method: "PUT", path: "/users/" + inst + "/ghost/status", body: `{"AgentStatusId":"st-lunch"}`, status: 404, errType: "ResourceNotFoundException"},
		{name: "unknown status", method: "PUT", path: "/users/" + inst + "/u-jdoe/status", body: `{"AgentStatusId":"ghost"}`, status: 404, errType: "ResourceNotFoundException"},
		{name: "disabled status", method: "PUT", path: "/users/" + inst + "/u-jdoe/status", body: `{"AgentStatusId":"st-training"}`, status: 400, errType: "InvalidRequestException"},
		{name: "malformed body", method: "PUT", path: "/users/" + inst + "/u-jdoe/status", body: `{"AgentStatusId":`, status: 400, errType: "SerializationException"},
		{name: "user data without filters", method: "POST", path: "/metrics/userdata/" + inst, body: `{}`, status: 400, errType: "InvalidParameterException"},
		{name: "user data with 101 agents", method: "POST", path: "/metrics/userdata/" + inst, body: `{"Filters":{"Agents":[` + strings.Repeat(`"a",`, 100) + `"a"]}}`, status: 400, errType: "InvalidParameterException"},
		{name: "task without name", method: "PUT", path: "/contact/task", body: `{"InstanceId":"` + inst + `","ContactFlowId":"f"}`, status: 400, errType: "InvalidParameterException"},
		{name: "task without flow", method: "PUT", path: "/contact/task", body: `{"InstanceId":"` + inst + `","Name":"n"}`, status: 400, errType: "InvalidRequestException"},
		{name: "stop unknown contact", method: "POST", path: "/contact/stop", body: `{"InstanceId":"` + inst + `","ContactId":"ghost"}`, status: 410, errType: "ContactNotFoundException"},
		{name: "attributes of unknown contact", method: "POST", path: "/contact/attributes", body: `{"InstanceId":"` + inst + `","InitialContactId":"ghost","Attributes":{"a":"b"}}`, status: 404, errType: "ResourceNotFoundException"},
		{name: "bad page token", method: "GET", path: "/agent-status/" + inst + "?nextToken=xyz", status: 400, errType: "InvalidParameterException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, basicSeed(), connectsim.Options{})
			resp, body := rawCall(t, e, tt.method, tt.path, tt.body)
			if resp.StatusCode != tt.status || resp.Header.Get("X-Amzn-ErrorType") != tt.errType {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tt.status, tt.errType)
			}
			if msg, _ := body["message"].(string); msg == "" {
				t.Errorf("body %v has no message", body)
			}
		})
	}
}

// TestFaults injects each fault kind in front of the SDK client and checks what the caller
// sees: retryable faults injected once are absorbed by the SDK's retries; the others surface
// with the right error code. Every attempt is counted.
func TestFaults(t *testing.T) {
	tests := []struct {
		name      string
		fault     connectsim.Fault
		wantCode  string // "" means the call succeeds
		wantCalls int
	}{
		{name: "401 unauthorized", fault: connectsim.Fault{Kind: connectsim.FaultUnauthorized}, wantCode: "UnrecognizedClientException", wantCalls: 1},
		{name: "403 access denied", fault: connectsim.Fault{Kind: connectsim.FaultAccessDenied}, wantCode: "AccessDeniedException", wantCalls: 1},
		{name: "429 limit exceeded once", fault: connectsim.Fault{Kind: connectsim.FaultLimitExceeded, Times: 1}, wantCalls: 2},
		{name: "403 custom quota", fault: connectsim.Fault{Kind: connectsim.FaultCustom, Status: 403, ErrorType: "ServiceQuotaExceededException", Message: "quota"}, wantCode: "ServiceQuotaExceededException", wantCalls: 1},
		{name: "429 throttling once", fault: connectsim.Fault{Kind: connectsim.FaultThrottling, Times: 1}, wantCalls: 2},
		{name: "429 too many requests once", fault: connectsim.Fault{Kind: connectsim.FaultTooManyRequests, Times: 1}, wantCalls: 2},
		{name: "500 once", fault: connectsim.Fault{Kind: connectsim.FaultInternal, Times: 1}, wantCalls: 2},
		{name: "503 twice", fault: connectsim.Fault{Kind: connectsim.FaultUnavailable, Times: 2}, wantCalls: 3},
		{name: "connection reset once", fault: connectsim.Fault{Kind: connectsim.FaultConnectionReset, Times: 1}, wantCalls: 2},
		{name: "fault on another operation", fault: connectsim.Fault{Op: "StopContact", Kind: connectsim.FaultAccessDenied}, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, basicSeed(), connectsim.Options{})
			e.sim.AddFault(tt.fault)
			// Standard retries with a short backoff: this tests the sim's answers, not SDK timing.
			fastRetry := func(o *awsconnect.Options) {
				o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
					so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 10 * time.Millisecond, nil })
				})
			}
			_, err := e.sdk.DescribeUser(context.Background(), &awsconnect.DescribeUserInput{InstanceId: aws.String(e.sim.InstanceID()), UserId: aws.String("u-jdoe")}, fastRetry)
			var apiErr smithy.APIError
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("err = %v, want success", err)
			case tt.wantCode != "" && (!errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode):
				t.Fatalf("err = %v, want %s", err, tt.wantCode)
			}
			if got := e.sim.Calls("DescribeUser"); got != tt.wantCalls {
				t.Errorf("DescribeUser calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

// TestProbabilisticFaultsAreSeeded checks that a probability rule fires on about its share of
// requests and identically for the same seed.
func TestProbabilisticFaultsAreSeeded(t *testing.T) {
	run := func() []int {
		e := newEnv(t, basicSeed(), connectsim.Options{FaultSeed: 42})
		e.sim.AddFault(connectsim.Fault{Op: "DescribeUser", Kind: connectsim.FaultAccessDenied, Probability: 0.3})
		var statuses []int
		for range 200 {
			resp, _ := rawCall(t, e, "GET", "/users/"+e.sim.InstanceID()+"/u-jdoe", "")
			statuses = append(statuses, resp.StatusCode)
		}
		return statuses
	}
	a, b := run(), run()
	failed := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: %d vs %d with the same seed", i, a[i], b[i])
		}
		if a[i] == 403 {
			failed++
		}
	}
	if failed < 40 || failed > 80 {
		t.Errorf("%d of 200 failed, want about 60", failed)
	}
}

// TestThrottle checks the sim's own token bucket answers like Connect's throttling.
func TestThrottle(t *testing.T) {
	e := newEnv(t, basicSeed(), connectsim.Options{Throttle: connectsim.Throttle{Rate: 1, Burst: 3}})
	codes := map[int]int{}
	for range 6 {
		resp, body := rawCall(t, e, "GET", "/agent-status/"+e.sim.InstanceID(), "")
		codes[resp.StatusCode]++
		if resp.StatusCode == 429 && (resp.Header.Get("X-Amzn-ErrorType") != "ThrottlingException" || body["message"] != "Rate exceeded") {
			t.Errorf("throttle answer %q %v", resp.Header.Get("X-Amzn-ErrorType"), body)
		}
	}
	if codes[200] != 3 || codes[429] != 3 {
		t.Errorf("statuses %v, want 3×200 then 3×429", codes)
	}
	e.sim.SetThrottle(connectsim.Throttle{})
	if resp, _ := rawCall(t, e, "GET", "/agent-status/"+e.sim.InstanceID(), ""); resp.StatusCode != 200 {
		t.Errorf("after SetThrottle off: %d", resp.StatusCode)
	}
}

func TestLatency(t *testing.T) {
	e := newEnv(t, basicSeed(), connectsim.Options{Latency: 50 * time.Millisecond})
	start := time.Now()
	rawCall(t, e, "GET", "/agent-status/"+e.sim.InstanceID(), "")
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("request took %v, want ≥ 50ms", d)
	}
}

// TestPagination checks NextToken handling through the SDK's own paginators.
func TestPagination(t *testing.T) {
	seed := basicSeed()
	for i := range 7 {
		seed.Users = append(seed.Users, connectsim.SeedUser{Username: fmt.Sprintf("agent%02d", i)})
	}
	e := newEnv(t, seed, connectsim.Options{MaxPageSize: 2})
	ctx := context.Background()

	var names []string
	pages := 0
	p := awsconnect.NewListAgentStatusesPaginator(e.sdk, &awsconnect.ListAgentStatusesInput{InstanceId: aws.String(e.sim.InstanceID())})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		mustNoErr(t, err)
		pages++
		for _, s := range out.AgentStatusSummaryList {
			names = append(names, aws.ToString(s.Name))
		}
	}
	if strings.Join(names, ",") != "Available,Lunch,Training,Offline" || pages != 2 {
		t.Errorf("statuses %v in %d pages", names, pages)
	}

	users := 0
	sp := awsconnect.NewSearchUsersPaginator(e.sdk, &awsconnect.SearchUsersInput{
		InstanceId:     aws.String(e.sim.InstanceID()),
		SearchCriteria: &types.UserSearchCriteria{StringCondition: &types.StringCondition{FieldName: aws.String("Username"), Value: aws.String("agent"), ComparisonType: types.StringComparisonTypeStartsWith}},
	})
	for sp.HasMorePages() {
		out, err := sp.NextPage(ctx)
		mustNoErr(t, err)
		users += len(out.Users)
	}
	if users != 7 {
		t.Errorf("found %d users, want 7", users)
	}
}

// TestTasksAndAttributes checks StartTaskContact idempotency, StopContact and
// UpdateContactAttributes through the SDK.
func TestTasksAndAttributes(t *testing.T) {
	e := newEnv(t, basicSeed(), connectsim.Options{})
	ctx := context.Background()
	start := func(token string) string {
		out, err := e.sdk.StartTaskContact(ctx, &awsconnect.StartTaskContactInput{
			InstanceId: aws.String(e.sim.InstanceID()), ContactFlowId: aws.String("flow-1"), Name: aws.String("Case 00001026"),
			ClientToken: aws.String(token), Attributes: map[string]string{"caseId": "500xx0000001"},
			References: map[string]types.Reference{"Case": {Type: types.ReferenceTypeUrl, Value: aws.String("https://example.my.salesforce.com/500xx0000001")}},
		})
		mustNoErr(t, err)
		return aws.ToString(out.ContactId)
	}
	a, b, c := start("tok-1"), start("tok-1"), start("tok-2")
	if a != b || a == c {
		t.Fatalf("contact ids %s %s %s: same token must give the same contact, another token another", a, b, c)
	}
	if n := len(e.sim.Tasks()); n != 2 {
		t.Fatalf("%d tasks, want 2", n)
	}

	_, err := e.sdk.UpdateContactAttributes(ctx, &awsconnect.UpdateContactAttributesInput{
		InstanceId: aws.String(e.sim.InstanceID()), InitialContactId: aws.String(a), Attributes: map[string]string{"status": "replied"},
	})
	mustNoErr(t, err)
	got, err := e.sim.Contact(a)
	mustNoErr(t, err)
	if got.Attributes["caseId"] != "500xx0000001" || got.Attributes["status"] != "replied" || got.References["Case"].Type != "URL" {
		t.Errorf("task %+v", got)
	}

	// Route the task to an agent, then stop it: the agent goes to ACW for it.
	mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
	mustNoErr(t, e.sim.RouteContact(a, "u-jdoe"))
	mustNoErr(t, e.sim.Connect(a))
	_, err = e.sdk.StopContact(ctx, &awsconnect.StopContactInput{InstanceId: aws.String(e.sim.InstanceID()), ContactId: aws.String(a)})
	mustNoErr(t, err)
	if st := agentState(t, e.sim, "u-jdoe"); len(st.Snapshot.Contacts) != 1 || st.Snapshot.Contacts[0].State != agentevent.ContactStateEnded || st.Snapshot.Contacts[0].Channel != agentevent.ChannelTask {
		t.Errorf("agent after StopContact: %+v", st.Snapshot.Contacts)
	}
	_, err = e.sdk.StopContact(ctx, &awsconnect.StopContactInput{InstanceId: aws.String(e.sim.InstanceID()), ContactId: aws.String(a)})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ContactNotFoundException" {
		t.Errorf("second stop: %v", err)
	}
	// A task on no agent just ends.
	_, err = e.sdk.StopContact(ctx, &awsconnect.StopContactInput{InstanceId: aws.String(e.sim.InstanceID()), ContactId: aws.String(c)})
	mustNoErr(t, err)
	if got, _ := e.sim.Contact(c); !got.Ended {
		t.Error("stopped task not ended")
	}
}

// TestCurrentUserDataShape checks GetCurrentUserData through the SDK for an agent on a call with
// a next status.
func TestCurrentUserDataShape(t *testing.T) {
	clk := &clock{}
	clk.Set(t, "2024-03-11T14:00:00.000Z")
	e := newEnv(t, basicSeed(), connectsim.Options{Now: clk.Now})
	mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
	clk.Set(t, "2024-03-11T14:20:30.123Z")
	onCall(t, e)
	putStatus(t, e, "u-jdoe", "st-lunch")
	out, err := e.sdk.GetCurrentUserData(context.Background(), &awsconnect.GetCurrentUserDataInput{
		InstanceId: aws.String(e.sim.InstanceID()), Filters: &types.UserDataFilters{Agents: []string{"u-jdoe", "u-msmith"}},
	})
	mustNoErr(t, err)
	if len(out.UserDataList) != 1 {
		t.Fatalf("%d users, want 1 (u-msmith is logged out)", len(out.UserDataList))
	}
	d := out.UserDataList[0]
	if aws.ToString(d.User.Id) != "u-jdoe" || aws.ToString(d.Status.StatusName) != "Available" || aws.ToString(d.NextStatus) != "Lunch" {
		t.Errorf("user %s status %s next %s", aws.ToString(d.User.Id), aws.ToString(d.Status.StatusName), aws.ToString(d.NextStatus))
	}
	if !d.Status.StatusStartTimestamp.Equal(time.Date(2024, 3, 11, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("StatusStartTimestamp %v", d.Status.StatusStartTimestamp)
	}
	if len(d.Contacts) != 1 || d.Contacts[0].AgentContactState != types.ContactStateConnected || aws.ToString(d.Contacts[0].Queue.Id) != "q-basic" {
		t.Errorf("contacts %+v", d.Contacts)
	}
	if !d.Contacts[0].ConnectedToAgentTimestamp.Equal(time.Date(2024, 3, 11, 14, 20, 30, 123e6, time.UTC)) {
		t.Errorf("ConnectedToAgentTimestamp %v", d.Contacts[0].ConnectedToAgentTimestamp)
	}
	if d.AvailableSlotsByChannel["VOICE"] != 0 || d.MaxSlotsByChannel["CHAT"] != 2 || d.ActiveSlotsByChannel["VOICE"] != 1 {
		t.Errorf("slots %v %v %v", d.AvailableSlotsByChannel, d.MaxSlotsByChannel, d.ActiveSlotsByChannel)
	}
}

func TestSeedJSON(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		wantErr   string // substring of a problem path; "" means valid
		checkUser string
	}{
		{name: "documented example", json: `{
			"region": "us-east-1", "accountId": "123456789012", "instanceId": "aaaaaaaa-bbbb-cccc-dddd-111111111111",
			"queues": [{"id": "q-basic", "name": "BasicQueue"}, {"name": "PrimaryQueue"}],
			"routingProfiles": [{"id": "rp-basic", "name": "Basic Routing Profile", "defaultOutboundQueue": "BasicQueue",
				"inboundQueues": ["BasicQueue", "PrimaryQueue"], "concurrency": {"VOICE": 1, "CHAT": 3, "TASK": 1}}],
			"agentStatuses": [{"id": "st-available", "name": "Available", "type": "ROUTABLE"}, {"name": "Lunch", "type": "CUSTOM"},
				{"name": "Training", "type": "CUSTOM", "state": "DISABLED"}, {"name": "Offline", "type": "OFFLINE"}],
			"users": [{"id": "u-jdoe", "username": "jdoe", "firstName": "Jane", "lastName": "Doe", "email": "jdoe@example.com", "routingProfile": "Basic Routing Profile"}]
		}`, checkUser: "u-jdoe"},
		{name: "empty seed gets defaults", json: `{}`},
		{name: "unknown key", json: `{"user": []}`, wantErr: "$"},
		{name: "unknown queue", json: `{"routingProfiles": [{"name": "rp", "inboundQueues": ["Nope"]}]}`, wantErr: "$.routingProfiles[0].inboundQueues[0]"},
		{name: "bad status type", json: `{"agentStatuses": [{"name": "x", "type": "FUN"}]}`, wantErr: "$.agentStatuses[0].type"},
		{name: "duplicate username", json: `{"users": [{"username": "a"}, {"username": "A"}]}`, wantErr: "$.users[1].username"},
		{name: "unknown routing profile", json: `{"users": [{"username": "a", "routingProfile": "Nope"}]}`, wantErr: "$.users[0].routingProfile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, err := connectsim.NewFromJSON([]byte(tt.json), connectsim.Options{})
			if tt.wantErr != "" {
				found := false
				for _, p := range apperr.ProblemsOf(err) {
					found = found || p.Path == tt.wantErr
				}
				if !apperr.Is(err, apperr.Invalid) || (tt.wantErr != "$" && !found) {
					t.Fatalf("err = %v (problems %v), want problem at %s", err, apperr.ProblemsOf(err), tt.wantErr)
				}
				return
			}
			mustNoErr(t, err)
			if tt.checkUser != "" {
				mustNoErr(t, sim.Login(tt.checkUser, "Available"))
				if a := agentState(t, sim, tt.checkUser); a.Snapshot.Configuration.RoutingProfile.Name != "Basic Routing Profile" || len(a.Snapshot.Configuration.RoutingProfile.InboundQueues) != 2 {
					t.Errorf("routing profile %+v", a.Snapshot.Configuration.RoutingProfile)
				}
			}
		})
	}
}

// TestSubscribe checks live delivery order and the Kinesis envelope.
func TestSubscribe(t *testing.T) {
	e := newEnv(t, basicSeed(), connectsim.Options{})
	var mu sync.Mutex
	var got []connectsim.Record
	done := make(chan struct{})
	unsubscribe := e.sim.Subscribe(func(r connectsim.Record) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r)
		if len(got) == 4 {
			close(done)
		}
	})
	defer unsubscribe()
	mustNoErr(t, e.sim.Login("u-jdoe", "Available"))
	mustNoErr(t, e.sim.Login("u-msmith", "Available"))
	putStatus(t, e, "u-jdoe", "st-lunch")
	mustNoErr(t, e.sim.Heartbeat("u-msmith"))
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("subscriber did not receive 4 records")
	}
	mu.Lock()
	defer mu.Unlock()
	log := e.sim.Events()
	for i := range got {
		if got[i].SequenceNumber != log[i].SequenceNumber {
			t.Errorf("record %d out of order", i)
		}
	}
	env := e.sim.KinesisEvent(got)
	b, err := json.Marshal(env)
	mustNoErr(t, err)
	var round struct {
		Records []struct {
			Kinesis struct {
				Data         []byte `json:"data"`
				PartitionKey string `json:"partitionKey"`
			} `json:"kinesis"`
			EventID string `json:"eventID"`
		} `json:"Records"`
	}
	mustNoErr(t, json.Unmarshal(b, &round))
	for i, r := range round.Records {
		ev, err := agentevent.Decode(r.Kinesis.Data)
		mustNoErr(t, err)
		if ev.AgentARN != r.Kinesis.PartitionKey || !strings.HasPrefix(r.EventID, "shardId-000000000000:") {
			t.Errorf("record %d: %s / %s", i, r.Kinesis.PartitionKey, r.EventID)
		}
	}
}

// TestConcurrentUse hammers the API and the driving methods together; run with -race.
func TestConcurrentUse(t *testing.T) {
	seed := basicSeed()
	for i := range 10 {
		seed.Users = append(seed.Users, connectsim.SeedUser{ID: fmt.Sprintf("a%d", i), Username: fmt.Sprintf("a%d", i)})
	}
	e := newEnv(t, seed, connectsim.Options{})
	stop := e.sim.Subscribe(func(connectsim.Record) {})
	defer stop()
	var wg sync.WaitGroup
	for i := range 10 {
		id := fmt.Sprintf("a%d", i)
		mustNoErr(t, e.sim.Login(id, "Available"))
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 20 {
				st := []string{"st-available", "st-lunch"}[j%2]
				_, _ = e.sdk.PutUserStatus(context.Background(), &awsconnect.PutUserStatusInput{InstanceId: aws.String(e.sim.InstanceID()), UserId: aws.String(id), AgentStatusId: aws.String(st)})
			}
		}()
		go func() {
			defer wg.Done()
			for range 10 {
				if cid, err := e.sim.Place(id, connectsim.NewContact{Channel: agentevent.ChannelChat}); err == nil {
					_ = e.sim.Connect(cid)
					_ = e.sim.End(cid)
					_ = e.sim.Clear(cid)
				}
				_, _ = e.sim.Agent(id)
				_ = e.sim.Events()
			}
		}()
	}
	wg.Wait()
	for _, r := range e.sim.Events() {
		if _, err := agentevent.Decode(r.Data); err != nil {
			t.Fatal(err)
		}
	}
	if e.sim.Calls("PutUserStatus") != 200 {
		t.Errorf("PutUserStatus calls %d, want 200", e.sim.Calls("PutUserStatus"))
	}
}
