package app

import (
	"bufio"
	"os"
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
