package app

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/omnibridge/omnibridge/shared/adminapi"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

// templatePaths returns the HTTP API paths template.yaml routes on the API named api, in
// "{}"-normalised form (/calls/{contactId} → /calls/{}).
func templatePaths(t *testing.T, api string) []string {
	t.Helper()
	f, err := os.Open("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	onAPI := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "ApiId: "):
			onAPI = line == "ApiId: !Ref "+api
		case onAPI && strings.HasPrefix(line, "Path: "):
			out = append(out, normalisePath(strings.TrimPrefix(line, "Path: ")))
			onAPI = false
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func normalisePath(p string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i] + "{}")
		p = p[i+j+1:]
	}
}

// TestTemplateRoutesEveryHandlerPath checks that template.yaml routes exactly the paths the
// admin API and the webhooks serve, so no route answers locally and 404s in AWS.
func TestTemplateRoutesEveryHandlerPath(t *testing.T) {
	r := newRoutingRig(t, routingRigOptions{})
	api, ok := AdminAPI(r.deps).(*adminapi.API)
	if !ok {
		t.Fatal("AdminAPI is not an *adminapi.API")
	}
	var admin []string
	for _, p := range api.Patterns() {
		_, path, _ := strings.Cut(p, " ")
		admin = append(admin, normalisePath(path))
	}
	slices.Sort(admin)
	admin = slices.Compact(admin)
	if got := templatePaths(t, "AdminHttpApi"); !slices.Equal(got, admin) {
		t.Errorf("template routes the admin API's\n%v\nthe handler serves\n%v", got, admin)
	}
	hooks := []string{webhook.CasesPath, webhook.Path, webhook.SessionPath}
	slices.Sort(hooks)
	if got := templatePaths(t, "WebhookHttpApi"); !slices.Equal(got, hooks) {
		t.Errorf("template routes the webhooks'\n%v\nthe handler serves\n%v", got, hooks)
	}
}

// TestTemplatePresencePolicyAllowsTheStoresCalls checks that PresencePolicy, which every
// function working on the table holds, allows each DynamoDB data-plane operation the store
// calls (shared/dynamo's calls on its client: db.Op, bw.BatchWriteItem, bg.BatchGetItem).
// Table set-up (CreateTable, UpdateTimeToLive) is the local stack's, and DescribeTable the admin
// API's health check, which has its own policy.
func TestTemplatePresencePolicyAllowsTheStoresCalls(t *testing.T) {
	used := map[string]bool{}
	files, err := filepath.Glob("../dynamo/*.go")
	if err != nil {
		t.Fatal(err)
	}
	call := regexp.MustCompile(`\b(?:db|bw|bg)\.([A-Z][A-Za-z]+)\(ctx`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = true
		}
	}
	for _, setup := range []string{"CreateTable", "UpdateTimeToLive", "DescribeTable"} {
		delete(used, setup)
	}
	if !used["BatchWriteItem"] || !used["GetItem"] {
		t.Fatalf("found calls %v: the scan of shared/dynamo no longer sees the store's calls", used)
	}
	allowed := policyActions(t, "PresencePolicy")
	for op := range used {
		if !slices.Contains(allowed, "dynamodb:"+op) {
			t.Errorf("the store calls %s but PresencePolicy does not allow dynamodb:%s (allowed: %v)", op, op, allowed)
		}
	}
}

// policyActions returns the actions listed under the template resource named resource (until
// the next top-level resource).
func policyActions(t *testing.T, resource string) []string {
	t.Helper()
	src, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(src), "\n") {
		switch {
		case strings.HasPrefix(line, "  "+resource+":"):
			in = true
		case in && len(line) > 2 && line[2] != ' ' && line[2] != '#' && strings.HasSuffix(strings.TrimSpace(line), ":"):
			in = false
		case in:
			if a, ok := strings.CutPrefix(strings.TrimSpace(line), "- "); ok && strings.Contains(a, ":") && !strings.Contains(a, " ") {
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("template.yaml: no actions found under %s", resource)
	}
	return out
}
