package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/connect/connectsim"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"

	_ "embed"
)

//go:embed seed.json
var sampleSeed []byte

// Local simulator credentials. They guard nothing real: the simulators hold only seed data and
// listen on loopback.
const (
	localSalesforceClientID     = "omnibridge-local-client"
	localSalesforceClientSecret = "omnibridge-local-client-secret"
	localSalesforceUser         = "omnibridge.integration@example.com"
)

// simSeed is the local seed file: one section per simulator.
type simSeed struct {
	Salesforce json.RawMessage `json:"salesforce"`
	Connect    json.RawMessage `json:"connect"`
}

// sims are the Salesforce and Amazon Connect simulators, each on its own loopback port.
type sims struct {
	salesforce    *sfsim.Org
	connect       *connectsim.Sim
	salesforceURL string
	connectURL    string
	servers       []*http.Server
	// toggles is the distribution package's availability toggle: the invocable action the
	// config's session.targets.distribution names, recording every input. Nil when the config
	// names none.
	toggles *sfsim.ActionRecorder
	// toggle is the distribution target the recorder stands in for (action and input names).
	toggle config.DistributionTarget
}

// registerToggle serves the distribution target's invocable action with an ActionRecorder that
// accepts every input, so session-driven availability has a working toggle locally. A target
// without an action name registers nothing.
func (s *sims) registerToggle(t config.DistributionTarget) {
	if t.Action == "" {
		return
	}
	s.toggle = t
	s.toggles = sfsim.NewActionRecorder(t.UserIDField)
	s.salesforce.RegisterAction(t.Action, s.toggles.Handle)
}

// startSims starts both simulators from the seed file (empty: the embedded seed). now and newID,
// when set, are the simulators' clock and the Connect simulator's id source.
func startSims(seedFile string, now func() time.Time, newID func() string) (*sims, error) {
	raw := sampleSeed
	if seedFile != "" {
		b, err := os.ReadFile(seedFile)
		if err != nil {
			return nil, fmt.Errorf("read seed file: %w", err)
		}
		raw = b
	}
	var seed simSeed
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seed); err != nil {
		return nil, fmt.Errorf("seed file: %w", err)
	}
	s := &sims{salesforce: sfsim.New(sfsim.Config{
		ClientID:              localSalesforceClientID,
		ClientSecret:          localSalesforceClientSecret,
		ClientCredentialsUser: localSalesforceUser,
		Now:                   now,
	})}
	if len(seed.Salesforce) > 0 {
		if err := s.salesforce.LoadSeed(bytes.NewReader(seed.Salesforce)); err != nil {
			return nil, fmt.Errorf("salesforce seed: %w", err)
		}
	}
	connectSeed := seed.Connect
	if len(connectSeed) == 0 {
		connectSeed = []byte("{}")
	}
	cs, err := connectsim.NewFromJSON(connectSeed, connectsim.Options{Now: now, NewID: newID})
	if err != nil {
		return nil, fmt.Errorf("connect seed: %w", err)
	}
	s.connect = cs
	if s.salesforceURL, err = s.serve(s.salesforce); err != nil {
		s.close()
		return nil, err
	}
	if s.connectURL, err = s.serve(s.connect); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *sims) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen for simulator: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "local: simulator stopped:", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

func (s *sims) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
}

// printCalls lists every request the simulators received, in arrival order per simulator:
// method, path and body. Token requests carry credentials, so their bodies are withheld.
func (s *sims) printCalls(w io.Writer) {
	sf, cn := s.salesforce.Requests(), s.connect.Requests()
	fmt.Fprintf(w, "Outgoing calls recorded by the simulators: %d to Salesforce, %d to Amazon Connect\n", len(sf), len(cn))
	for _, r := range sf {
		body := string(r.Body)
		if r.Kind == sfsim.KindToken {
			body = "(withheld: OAuth credentials)"
		}
		printCall(w, "salesforce", r.Method, r.Path, r.RawQuery, body)
	}
	for _, r := range cn {
		printCall(w, "connect   ", r.Method, r.Path, r.Query, string(r.Body))
	}
	if s.toggles == nil {
		return
	}
	if ins := s.toggles.Inputs(); len(ins) > 0 {
		t := s.toggle
		fmt.Fprintf(w, "Inputs the invocable action %s received (the distribution toggle): %d\n", t.Action, len(ins))
		for _, in := range ins {
			fmt.Fprintf(w, "  %s %v, %s %v, %s %q\n", t.UserIDField, in[t.UserIDField], t.OnlineField, in[t.OnlineField], t.ReasonField, in[t.ReasonField])
		}
	}
}

func printCall(w io.Writer, system, method, path, query, body string) {
	if query != "" {
		if q, err := url.QueryUnescape(query); err == nil {
			query = q
		}
		path += "?" + query
	}
	fmt.Fprintf(w, "  %s %-5s %s\n", system, method, path)
	if body = strings.TrimSpace(body); body != "" {
		fmt.Fprintf(w, "             %s\n", body)
	}
}
