package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// MaxCompositeSubrequests is Salesforce's limit of subrequests per /composite call.
const MaxCompositeSubrequests = 25

// Subrequest is one request inside a composite call. Later subrequests may refer to earlier
// results with "@{ReferenceID.field}" in URL or Body.
type Subrequest struct {
	// Method is the HTTP method, such as "POST".
	Method string `json:"method"`
	// URL is a full REST path ("/services/data/v62.0/sobjects/Case") or one relative to the
	// client's data root ("sobjects/Case").
	URL string `json:"url"`
	// ReferenceID names the subrequest: letters, digits and underscores, unique in the call.
	ReferenceID string `json:"referenceId"`
	// Body is encoded as JSON; nil sends none.
	Body any `json:"body,omitempty"`
	// Headers are extra HTTP headers for the subrequest.
	Headers map[string]string `json:"httpHeaders,omitempty"`
}

// SubResponse is the result of one subrequest, in request order.
type SubResponse struct {
	ReferenceID string            `json:"referenceId"`
	StatusCode  int               `json:"httpStatusCode"`
	Headers     map[string]string `json:"httpHeaders"`
	Body        json.RawMessage   `json:"body"`
}

// Err returns the subrequest's failure as an *APIError, or nil when it succeeded.
func (r SubResponse) Err() error {
	if r.StatusCode < 300 {
		return nil
	}
	return parseAPIError(r.StatusCode, r.Body, redactPatterns)
}

var referenceIDRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)

// Composite sends up to MaxCompositeSubrequests subrequests in one API call. With allOrNone, a
// failure rolls back every subrequest. A subrequest's own failure is in its SubResponse, not in the
// returned error.
func (c *Client) Composite(ctx context.Context, allOrNone bool, subrequests []Subrequest) ([]SubResponse, error) {
	if len(subrequests) == 0 {
		return nil, nil
	}
	if len(subrequests) > MaxCompositeSubrequests {
		return nil, apperr.New(apperr.Invalid, "salesforce: composite takes at most %d subrequests, got %d", MaxCompositeSubrequests, len(subrequests))
	}
	reqs := slices.Clone(subrequests)
	seen := make(map[string]int, len(reqs))
	for i := range reqs {
		r := &reqs[i]
		if !referenceIDRE.MatchString(r.ReferenceID) {
			return nil, apperr.New(apperr.Invalid, "salesforce: subrequest %d: referenceId %q must be letters, digits and underscores", i, r.ReferenceID)
		}
		if _, dup := seen[r.ReferenceID]; dup {
			return nil, apperr.New(apperr.Invalid, "salesforce: subrequest %d: duplicate referenceId %q", i, r.ReferenceID)
		}
		seen[r.ReferenceID] = i
		u, err := url.Parse(r.URL)
		if err != nil || u.Scheme != "" || u.Host != "" || strings.Contains(u.Path, "..") {
			return nil, apperr.New(apperr.Invalid, "salesforce: subrequest %d: url must be a REST path", i)
		}
		if !strings.HasPrefix(r.URL, "/services/") {
			r.URL = c.dataPath(strings.TrimPrefix(r.URL, "/"))
		}
	}
	req := struct {
		AllOrNone bool         `json:"allOrNone"`
		Requests  []Subrequest `json:"compositeRequest"`
	}{allOrNone, reqs}
	var res struct {
		Responses []SubResponse `json:"compositeResponse"`
	}
	if _, err := c.callJSON(ctx, call{op: "composite", method: http.MethodPost, path: c.dataPath("composite")}, req, &res); err != nil {
		return nil, err
	}
	if len(res.Responses) != len(reqs) {
		return nil, wrap("composite", fmt.Errorf("salesforce returned %d results for %d subrequests", len(res.Responses), len(reqs)))
	}
	// Salesforce answers in request order; ordering by referenceId makes that a guarantee.
	out := make([]SubResponse, len(reqs))
	for _, r := range res.Responses {
		i, ok := seen[r.ReferenceID]
		if !ok {
			return nil, wrap("composite", fmt.Errorf("salesforce returned unknown referenceId %q", r.ReferenceID))
		}
		out[i] = r
	}
	return out, nil
}

func redactPatterns(s string) string {
	return jwtRE.ReplaceAllString(sessionIDRE.ReplaceAllString(s, "[REDACTED]"), "[REDACTED]")
}
