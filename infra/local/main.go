// Command local runs Omnibridge on one machine, with no AWS account: an embedded DynamoDB, the
// table created, the config seeded, and every HTTP function served on one address.
//
//	go run ./infra/local [-addr 127.0.0.1:8080] [--config FILE] [--seed FILE]
//	go run ./infra/local invoke <function> --event <file> [--sign]
//	go run ./infra/local scenario <file> [--explain]
//	go run ./infra/local -h
//
// invoke runs one function's real Lambda handler on an event file against a fresh embedded
// stack, like `sam local invoke -e`, and prints the handler's response JSON on stdout.
//
// scenario plays a scripted day (infra/local/scenarios/presence-day.json, session-day.json)
// through the Connect and Salesforce simulators and the real handlers on one scripted clock, and
// prints a timeline of events, decisions and commands.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "local: "+err.Error())
		os.Exit(1)
	}
}

// usage is the tool's help: each command with its flags and an example.
const usage = `Usage: go run ./infra/local [command] [flags]

Omnibridge on one machine, with no AWS account: an embedded DynamoDB, the Salesforce and Amazon
Connect simulators, and the real Lambda handlers.

Commands:
  (none)    serve the local stack: every HTTP function on one address until Ctrl-C
              flags: -addr HOST:PORT (default 127.0.0.1:8080), --config FILE, --seed FILE
              example: go run ./infra/local -addr 127.0.0.1:9090
  invoke    run one function's real Lambda handler once on an event file, on a fresh embedded
            stack of its own (nothing is shared with a running stack or an earlier invoke)
              usage: invoke <function> --event FILE [--sign] [--config FILE] [--seed FILE]
              functions: %s
              --sign signs a salesforce-webhook event's body with the local webhook secret
              example: go run ./infra/local invoke agent-events --event events/agent-events/login.json
  scenario  play a scripted day through the simulators and the real handlers, printing a
            timeline and a summary per agent
              usage: scenario <file> [--explain] [--config FILE] [--seed FILE]
              example: go run ./infra/local scenario infra/local/scenarios/presence-day.json
  help      print this help (also -h)

Run "go run ./infra/local <command> -h" for a command's flags.
`

func printUsage(w io.Writer) { fmt.Fprintf(w, usage, functionNames()) }

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch cmd := args[0]; {
		case isHelp(cmd):
			printUsage(stdout)
			return nil
		case cmd == "invoke":
			return invoke(ctx, args[1:], stdout, stderr)
		case cmd == "scenario":
			return scenarioCommand(ctx, args[1:], stdout, stderr)
		case !strings.HasPrefix(cmd, "-"):
			return fmt.Errorf("unknown command %q: want invoke, scenario or help, or flags for the stack (see -h)", cmd)
		}
	}
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	addr := fs.String("addr", "127.0.0.1:8080", "address to serve the HTTP functions on")
	configFile := fs.String("config", "", "config document to seed (default: the embedded infra/local/config.sample.json)")
	seedFile := fs.String("seed", "", "simulator seed: Salesforce records and Connect users/statuses (default: the embedded infra/local/seed.json)")
	if err := fs.Parse(args); err != nil {
		return helpIsNoError(err, stdout, stderr, printUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: the stack takes only flags (see -h)", fs.Arg(0))
	}
	return serve(ctx, *addr, stackOptions{configFile: *configFile, seedFile: *seedFile, logOut: stderr}, stdout, nil)
}

// helpIsNoError turns a flag set's -h into the help on stdout and success; other parse errors
// (which the flag package has printed) get the help on stderr and stay errors. Flag sets leave
// their Usage empty so that the help is printed once, here.
func helpIsNoError(err error, stdout, stderr io.Writer, help func(io.Writer)) error {
	if errors.Is(err, flag.ErrHelp) {
		help(stdout)
		return nil
	}
	help(stderr)
	return err
}

// serve runs the stack until ctx ends. ready, if set, receives the bound address.
func serve(ctx context.Context, addr string, opts stackOptions, stdout io.Writer, ready chan<- string) error {
	st, err := startStack(ctx, opts)
	if err != nil {
		return err
	}
	defer st.close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	m, served, err := mux(ctx, st.deps)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "Omnibridge local stack\n  DynamoDB (embedded)  %s  table %s\n", st.dynamo.URL, localTable)
	fmt.Fprintf(stdout, "  Salesforce (sfsim)   %s  client credentials: %s / %s\n", st.sims.salesforceURL, localSalesforceClientID, localSalesforceClientSecret)
	fmt.Fprintf(stdout, "  Amazon Connect (sim) %s  instance %s\n", st.sims.connectURL, st.deps.Env.ConnectInstanceID)
	fmt.Fprintf(stdout, "  HTTP functions on   http://%s\n", ln.Addr())
	for _, s := range served {
		fmt.Fprintf(stdout, "    %s\n", s)
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(stdout, "stopped")
	return nil
}

// invoke prints the handler's response JSON on stdout and, on stderr, every call the function
// made to the simulators.
func invoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	invokeUsage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: invoke <function> --event FILE [--sign] [--config FILE] [--seed FILE]\nfunctions: %s\n"+
			"Each invoke starts a fresh embedded stack, seeded as `make run` is, and stops it afterwards.\n", functionNames())
	}
	if len(args) == 0 {
		return fmt.Errorf("usage: invoke <function> --event <file> (functions: %s)", functionNames())
	}
	if isHelp(args[0]) {
		invokeUsage(stdout)
		return nil
	}
	name := args[0]
	f, ok := functions[name]
	if !ok {
		return fmt.Errorf("unknown function %q (functions: %s)", name, functionNames())
	}
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	eventFile := fs.String("event", "", "event JSON file")
	sign := fs.Bool("sign", false, "sign the event's body with the local webhook secret at the current time (salesforce-webhook)")
	configFile := fs.String("config", "", "config document to seed")
	seedFile := fs.String("seed", "", "simulator seed file")
	if err := fs.Parse(args[1:]); err != nil {
		return helpIsNoError(err, stdout, stderr, invokeUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("invoke %s: unexpected argument %q", name, fs.Arg(0))
	}
	if *eventFile == "" {
		return fmt.Errorf("invoke %s: --event <file> is required", name)
	}
	raw, err := os.ReadFile(*eventFile)
	if err != nil {
		return fmt.Errorf("invoke %s: cannot read event: %w", name, err)
	}
	if !json.Valid(raw) {
		return fmt.Errorf("invoke %s: event file %s is not valid JSON", name, *eventFile)
	}
	if *sign {
		if name != "salesforce-webhook" {
			return fmt.Errorf("invoke %s: --sign is for salesforce-webhook events", name)
		}
		if raw, err = signLocal(raw, time.Now()); err != nil {
			return fmt.Errorf("invoke %s: --sign: %w", name, err)
		}
	}
	st, err := startStack(ctx, stackOptions{configFile: *configFile, seedFile: *seedFile, logOut: io.Discard})
	if err != nil {
		return err
	}
	defer st.close()
	st.deps.Logger = silentLogger()
	resp, err := f.invoke(ctx, st.deps, raw)
	if err != nil {
		return fmt.Errorf("invoke %s: %w", name, err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(resp); err != nil {
		return err
	}
	st.sims.printCalls(stderr)
	return nil
}
