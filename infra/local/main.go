// Command local runs Omnibridge on one machine, with no AWS account: an embedded DynamoDB, the
// table created, the config seeded, and every HTTP function served on one address.
//
//	go run ./infra/local [-addr 127.0.0.1:8080] [--config FILE]
//	go run ./infra/local invoke <function> --event <file>
//	go run ./infra/local scenario <file>
//
// invoke runs one function's real Lambda handler on an event file against the same embedded
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

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "invoke" {
		return invoke(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "scenario" {
		return scenarioCommand(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to serve the HTTP functions on")
	configFile := fs.String("config", "", "config document to seed (default: the embedded infra/local/config.sample.json)")
	seedFile := fs.String("seed", "", "simulator seed: Salesforce records and Connect users/statuses (default: the embedded infra/local/seed.json)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serve(ctx, *addr, stackOptions{configFile: *configFile, seedFile: *seedFile, logOut: stderr}, stdout, nil)
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
	if len(args) == 0 {
		return fmt.Errorf("usage: invoke <function> --event <file> (functions: %s)", functionNames())
	}
	name := args[0]
	f, ok := functions[name]
	if !ok {
		return fmt.Errorf("unknown function %q (functions: %s)", name, functionNames())
	}
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	eventFile := fs.String("event", "", "event JSON file")
	configFile := fs.String("config", "", "config document to seed")
	seedFile := fs.String("seed", "", "simulator seed file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
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
