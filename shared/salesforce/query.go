package salesforce

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// Page is one page of SOQL results.
type Page[T any] struct {
	// TotalSize is the number of records the whole query matched (the count for COUNT()).
	TotalSize int
	// Done is true on the last page.
	Done bool
	// Records are this page's records, decoded into T.
	Records []T
}

// QueryPages runs soql and yields its result one page at a time, following nextRecordsUrl only
// when the caller asks for the next page, so at most one page is held in memory. T is the record
// type: Record, or a struct with json tags. An error ends the sequence.
//
// Build soql with Format or Select: never paste unescaped input into it.
func QueryPages[T any](ctx context.Context, c *Client, soql string) iter.Seq2[Page[T], error] {
	return func(yield func(Page[T], error) bool) {
		path, q := c.dataPath("query"), url.Values{"q": {soql}}
		for {
			var res struct {
				TotalSize      int    `json:"totalSize"`
				Done           bool   `json:"done"`
				NextRecordsURL string `json:"nextRecordsUrl"`
				Records        []T    `json:"records"`
			}
			if _, err := c.callJSON(ctx, call{op: "query", method: http.MethodGet, path: path, query: q}, nil, &res); err != nil {
				yield(Page[T]{}, err)
				return
			}
			if !yield(Page[T]{TotalSize: res.TotalSize, Done: res.Done, Records: res.Records}, nil) || res.Done {
				return
			}
			// Follow only paths on the same instance: the URL comes from the network.
			if !strings.HasPrefix(res.NextRecordsURL, "/services/data/") || strings.ContainsAny(res.NextRecordsURL, "?#") || strings.Contains(res.NextRecordsURL, "..") {
				yield(Page[T]{}, wrap("query", fmt.Errorf("unexpected nextRecordsUrl on a page that is not done")))
				return
			}
			path, q = res.NextRecordsURL, nil
		}
	}
}

// Query runs soql and yields its records one at a time as Record values, fetching pages lazily
// as QueryPages does. An error ends the sequence.
func (c *Client) Query(ctx context.Context, soql string) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for page, err := range QueryPages[Record](ctx, c, soql) {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, r := range page.Records {
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}
