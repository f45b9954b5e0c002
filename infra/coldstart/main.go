// Command coldstart measures the admin-api Lambda's cold start on this machine: from exec of
// the bootstrap binary to its first response, the way the Lambda service starts a provided.al2023
// function. It runs a minimal fake Lambda Runtime API and an embedded DynamoDB with the table
// created and the config seeded, then starts each bootstrap N times, hands every process one
// API Gateway HTTP API event (GET /health by default) and times the response POST.
//
// A trivial Lambda (infra/coldstart/hello) is measured in the same run, interleaved, as the
// baseline, so the result reads "admin-api X ms vs minimal Lambda Y ms".
//
//	go run ./infra/coldstart [-n 20] [-admin PATH] [-hello PATH] [-event FILE] [-config FILE]
//
// Run it from the repository root. Without -admin/-hello it builds both for the host (the
// functions ship as linux/arm64, which cannot run here) with the release flags
// `-tags lambda.norpc -trimpath -ldflags "-s -w"` into bin/coldstart/.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart: "+err.Error())
		os.Exit(1)
	}
}

// target is one bootstrap under test.
type target struct {
	name string // as printed, and as AWS_LAMBDA_FUNCTION_NAME
	pkg  string // package to build when no path is given
	path string
	init []time.Duration // exec → first GET /next
	cold []time.Duration // exec → response POST
}

const table = "omnibridge-coldstart"

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("coldstart", flag.ContinueOnError)
	n := fs.Int("n", 20, "measured starts per bootstrap")
	adminPath := fs.String("admin", "", "admin-api bootstrap to run (default: build ./functions/admin-api for the host)")
	helloPath := fs.String("hello", "", "baseline bootstrap to run (default: build ./infra/coldstart/hello for the host)")
	eventFile := fs.String("event", "events/admin-api/get-health.json", "API Gateway HTTP API event handed to each process")
	configFile := fs.String("config", "infra/local/config.sample.json", "config document to seed")
	timeout := fs.Duration("timeout", 10*time.Second, "limit for one start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 {
		return fmt.Errorf("-n must be at least 1")
	}
	event, err := os.ReadFile(*eventFile)
	if err != nil {
		return fmt.Errorf("read event: %w", err)
	}
	targets := []*target{
		{name: "admin-api", pkg: "./functions/admin-api", path: *adminPath},
		{name: "minimal Lambda", pkg: "./infra/coldstart/hello", path: *helloPath},
	}
	for _, t := range targets {
		if t.path == "" {
			if t.path, err = build(ctx, t.pkg, stdout); err != nil {
				return err
			}
		}
	}

	db, err := seedTable(ctx, *configFile)
	if err != nil {
		return err
	}
	defer db.Close()
	api, err := startRuntimeAPI()
	if err != nil {
		return err
	}
	defer api.close()

	home, err := os.MkdirTemp("", "coldstart-home")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	fmt.Fprintf(stdout, "host %s/%s, %d CPUs, %s; %d measured starts each, interleaved, after one warm-up each\n",
		goruntime.GOOS, goruntime.GOARCH, goruntime.NumCPU(), goruntime.Version(), *n)
	seq := 0
	for i := -1; i < *n; i++ { // i == -1 is the warm-up: it pages the binaries in
		order := targets
		if i%2 != 0 { // alternate who goes first, so neither always runs on a just-woken CPU
			order = []*target{targets[1], targets[0]}
		}
		for _, t := range order {
			seq++
			env := lambdaEnv(t.name, api.addr, db.URL, home)
			initD, coldD, err := api.start(ctx, t.path, env, fmt.Sprintf("coldstart-%04d", seq), event, *timeout)
			if err != nil {
				return fmt.Errorf("%s start %d: %w", t.name, i+1, err)
			}
			if i >= 0 {
				t.init = append(t.init, initD)
				t.cold = append(t.cold, coldD)
			}
		}
	}
	report(stdout, targets)
	return nil
}

// build compiles pkg for the host with the release flags and returns the binary's path.
func build(ctx context.Context, pkg string, stdout io.Writer) (string, error) {
	out := filepath.Join("bin", "coldstart", filepath.Base(pkg), "bootstrap")
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg}
	fmt.Fprintf(stdout, "CGO_ENABLED=0 go %s\n", strings.Join(quoteArgs(args), " "))
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	if fi, err := os.Stat(out); err == nil {
		fmt.Fprintf(stdout, "  %s: %d bytes\n", out, fi.Size())
	}
	return filepath.Abs(out)
}

func quoteArgs(args []string) []string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = a
		if strings.ContainsAny(a, " \"") {
			q[i] = strconv.Quote(a)
		}
	}
	return q
}

// seedTable starts the embedded DynamoDB and creates and seeds the table the function reads.
func seedTable(ctx context.Context, configFile string) (*dynamolocal.Server, error) {
	raw, err := os.ReadFile(configFile)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	doc, err := config.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("config %s: %s %v", configFile, apperr.MessageOf(err), apperr.ProblemsOf(err))
	}
	db, err := dynamolocal.Start()
	if err != nil {
		return nil, fmt.Errorf("start embedded DynamoDB: %w", err)
	}
	store := dynamo.New(dynamo.NewClient(dynamolocal.Config(), db.URL), table)
	if err := store.CreateTable(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("create table: %w", err)
	}
	if _, err := store.PutConfig(ctx, doc, 0, "coldstart"); err != nil {
		db.Close()
		return nil, fmt.Errorf("seed config: %w", err)
	}
	return db, nil
}

// lambdaEnv is the environment the Lambda service gives a provided.al2023 function, plus
// Omnibridge's variables as template.yaml sets them. Nothing is inherited from this process.
func lambdaEnv(function, runtimeAPI, dynamoURL, home string) []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME=" + function,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + function,
		"AWS_LAMBDA_LOG_STREAM_NAME=coldstart",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDLOCALCOLDSTART",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_SESSION_TOKEN=local",
		"_HANDLER=bootstrap",
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + home,
		"OMNIBRIDGE_TABLE=" + table,
		"OMNIBRIDGE_DYNAMODB_ENDPOINT=" + dynamoURL,
		"OMNIBRIDGE_LOG_LEVEL=info",
	}
}

// runtimeAPI is a minimal Lambda Runtime API (2018-06-01): GET invocation/next hands out the
// current start's one event, and POST invocation/{id}/response or /error ends it. One start
// runs at a time.
type runtimeAPI struct {
	addr string
	srv  *http.Server

	mu  sync.Mutex
	cur *invocation
}

// invocation is one start's event and what the process did with it.
type invocation struct {
	id     string
	event  []byte
	handed bool
	next   chan time.Time // the first GET /next
	done   chan result
}

type result struct {
	at   time.Time
	body []byte
	err  string
}

func startRuntimeAPI() (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &runtimeAPI{addr: ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", a.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", a.handleResult(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", a.handleResult(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if inv := a.current(); inv != nil {
			inv.finish(result{at: time.Now(), err: "init error: " + string(body)})
		}
		w.WriteHeader(http.StatusAccepted)
	})
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	return a, nil
}

func (a *runtimeAPI) close() { _ = a.srv.Close() }

func (a *runtimeAPI) current() *invocation {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cur
}

func (inv *invocation) finish(r result) {
	select {
	case inv.done <- r:
	default:
	}
}

func (a *runtimeAPI) handleNext(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	a.mu.Lock()
	inv := a.cur
	give := inv != nil && !inv.handed
	if give {
		inv.handed = true
	}
	a.mu.Unlock()
	if inv != nil {
		select {
		case inv.next <- now:
		default:
		}
	}
	if !give {
		// The process asks for its next event after responding; it gets none and is killed.
		<-r.Context().Done()
		return
	}
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:omnibridge-admin-api")
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(inv.event)
}

func (a *runtimeAPI) handleResult(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		inv := a.current()
		if inv == nil || r.PathValue("id") != inv.id {
			http.Error(w, "unknown request id", http.StatusBadRequest)
			return
		}
		res := result{at: at, body: body}
		if isError {
			res.err = "function error: " + string(body)
		}
		inv.finish(res)
		w.WriteHeader(http.StatusAccepted)
	}
}

// start execs the bootstrap once with event queued, and returns how long it took to ask for
// its first event and to post the response.
func (a *runtimeAPI) start(ctx context.Context, path string, env []string, id string, event []byte, timeout time.Duration) (initD, coldD time.Duration, err error) {
	inv := &invocation{id: id, event: event, next: make(chan time.Time, 1), done: make(chan result, 1)}
	a.mu.Lock()
	a.cur = inv
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.cur = nil
		a.mu.Unlock()
	}()

	var logs strings.Builder
	cmd := exec.Command(path)
	cmd.Env, cmd.Dir = env, filepath.Dir(path)
	cmd.Stdout, cmd.Stderr = &syncWriter{w: &logs}, &syncWriter{w: &logs}
	exited := make(chan error, 1)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()

	var res result
	select {
	case res = <-inv.done:
	case err := <-exited:
		exited <- err // for the deferred wait
		return 0, 0, fmt.Errorf("process exited before responding (%v); output:\n%s", err, logs.String())
	case <-time.After(timeout):
		return 0, 0, fmt.Errorf("no response within %s; output:\n%s", timeout, logs.String())
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
	if res.err != "" {
		return 0, 0, errors.New(res.err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(res.body, &resp); err != nil || resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("unexpected response %s (%v); output:\n%s", res.body, err, logs.String())
	}
	select {
	case t := <-inv.next:
		initD = t.Sub(t0)
	default:
	}
	return initD, res.at.Sub(t0), nil
}

// syncWriter serialises a child's stdout and stderr into one buffer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// stats summarises durations: minimum, median and 90th percentile (nearest rank).
type stats struct{ min, median, p90, max time.Duration }

func summarize(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	rank := int(math.Ceil(0.9*float64(len(s)))) - 1
	return stats{min: s[0], median: med, p90: s[rank], max: s[len(s)-1]}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func report(w io.Writer, targets []*target) {
	fmt.Fprintf(w, "\n%-16s %10s %10s %10s %10s   %s\n", "exec → response", "min", "median", "p90", "max", "init (exec → first /next), median")
	for _, t := range targets {
		c, i := summarize(t.cold), summarize(t.init)
		fmt.Fprintf(w, "%-16s %10s %10s %10s %10s   %s\n", t.name, ms(c.min), ms(c.median), ms(c.p90), ms(c.max), ms(i.median))
	}
	a, b := summarize(targets[0].cold), summarize(targets[1].cold)
	fmt.Fprintf(w, "\n%s %s vs %s %s (median; +%s for Omnibridge's init and first DynamoDB calls)\n",
		targets[0].name, ms(a.median), targets[1].name, ms(b.median), ms(a.median-b.median))
}
