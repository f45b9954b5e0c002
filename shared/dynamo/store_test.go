package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/audit"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamotest"
)

func doc(name string) config.Document {
	return config.Document{
		SchemaVersion: config.SchemaVersion,
		StatusMappings: []config.StatusMapping{
			{SalesforceStatus: name, ConnectStatus: name, ToConnect: true, ToSalesforce: true},
		},
		Settings: config.Defaults(),
	}
}

func TestConfigVersioning(t *testing.T) {
	ctx := context.Background()
	s := dynamotest.NewStore(t)

	if _, err := s.GetConfig(ctx); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("GetConfig on empty table: got %v, want not_found", err)
	}
	v1, err := s.PutConfig(ctx, doc("Available"), 0, "alice")
	if err != nil || v1 != 1 {
		t.Fatalf("first put: version %d, err %v", v1, err)
	}
	v2, err := s.PutConfig(ctx, doc("Lunch"), 1, "bob")
	if err != nil || v2 != 2 {
		t.Fatalf("second put: version %d, err %v", v2, err)
	}
	got, err := s.GetConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.UpdatedBy != "bob" || got.Document.StatusMappings[0].ConnectStatus != "Lunch" {
		t.Fatalf("GetConfig = %+v", got)
	}

	t.Run("stale expected version conflicts", func(t *testing.T) {
		_, err := s.PutConfig(ctx, doc("Away"), 1, "carol")
		if !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("got %v, want conflict", err)
		}
	})
	t.Run("create over an existing document conflicts", func(t *testing.T) {
		_, err := s.PutConfig(ctx, doc("Away"), 0, "carol")
		if !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("got %v, want conflict", err)
		}
	})
	t.Run("history keeps every version for rollback", func(t *testing.T) {
		old, err := s.ConfigVersion(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if old.Document.StatusMappings[0].ConnectStatus != "Available" || old.UpdatedBy != "alice" {
			t.Fatalf("version 1 = %+v", old)
		}
		hist, err := s.ConfigHistory(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 || hist[0].Version != 2 || hist[1].Version != 1 {
			t.Fatalf("history = %+v, want versions 2, 1", hist)
		}
		v3, err := s.PutConfig(ctx, old.Document, 2, "rollback")
		if err != nil || v3 != 3 {
			t.Fatalf("rollback put: %d %v", v3, err)
		}
	})
	t.Run("unknown version is not found", func(t *testing.T) {
		if _, err := s.ConfigVersion(ctx, 99); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestConfigConcurrentWritersOneWins(t *testing.T) {
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	if _, err := s.PutConfig(ctx, doc("A"), 0, "seed"); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.PutConfig(ctx, doc(fmt.Sprint("W", i)), 1, fmt.Sprint("writer", i))
			switch {
			case err == nil:
				wins.Add(1)
			case apperr.Is(err, apperr.Conflict):
				conflicts.Add(1)
			default:
				t.Errorf("writer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != writers-1 {
		t.Fatalf("wins=%d conflicts=%d, want 1 and %d", wins.Load(), conflicts.Load(), writers-1)
	}
}

func TestClaimIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := dynamotest.NewStore(t).WithClock(clock)

	t.Run("first claim wins, repeat loses", func(t *testing.T) {
		first, err := s.Claim(ctx, "evt-1", time.Hour)
		if err != nil || !first {
			t.Fatalf("first claim = %v, %v", first, err)
		}
		again, err := s.Claim(ctx, "evt-1", time.Hour)
		if err != nil || again {
			t.Fatalf("second claim = %v, %v", again, err)
		}
	})
	t.Run("concurrent claimers: exactly one wins", func(t *testing.T) {
		const n = 20
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.Claim(ctx, "evt-race", time.Hour)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d winners, want exactly 1", wins.Load())
		}
	})
	t.Run("expired key can be claimed again", func(t *testing.T) {
		if ok, _ := s.Claim(ctx, "evt-ttl", time.Minute); !ok {
			t.Fatal("first claim lost")
		}
		later := s.WithClock(func() time.Time { return now.Add(2 * time.Minute) })
		ok, err := later.Claim(ctx, "evt-ttl", time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim after expiry = %v, %v", ok, err)
		}
	})
	t.Run("released key can be claimed again", func(t *testing.T) {
		if ok, _ := s.Claim(ctx, "evt-rel", time.Hour); !ok {
			t.Fatal("first claim lost")
		}
		if err := s.Release(ctx, "evt-rel"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.Claim(ctx, "evt-rel", time.Hour); !ok {
			t.Fatal("claim after release lost")
		}
	})
	t.Run("ttl attribute holds the expiry in epoch seconds", func(t *testing.T) {
		if _, err := s.Claim(ctx, "evt-attr", 90*time.Second); err != nil {
			t.Fatal(err)
		}
		item := rawItem(t, s, "IDEM#evt-attr", "IDEM")
		n, ok := item["ttl"].(*types.AttributeValueMemberN)
		if !ok || n.Value != fmt.Sprint(now.Add(90*time.Second).Unix()) {
			t.Fatalf("ttl attribute = %#v", item["ttl"])
		}
	})
	t.Run("bad input", func(t *testing.T) {
		if _, err := s.Claim(ctx, "", time.Hour); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("empty key: %v", err)
		}
		if _, err := s.Claim(ctx, "k", 0); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("zero ttl: %v", err)
		}
	})
}

func TestAuditQueryPagination(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	s := dynamotest.NewStore(t).WithClock(func() time.Time { return base.Add(time.Hour) })
	subject := audit.Subject(audit.KindAgent, "agent-1")
	for i := range 25 {
		e := audit.Entry{
			Subject: subject, Time: base.Add(time.Duration(i) * time.Minute), ID: fmt.Sprintf("e%02d", i),
			Outcome: "applied", Message: fmt.Sprint("decision ", i), Details: map[string]any{"n": float64(i), "rules": []any{"r1"}},
		}
		if err := s.AppendAudit(ctx, e, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	// Another subject's entries must never show up.
	if err := s.AppendAudit(ctx, audit.Entry{Subject: "agent/other", Time: base, ID: "x", Outcome: "applied"}, time.Hour); err != nil {
		t.Fatal(err)
	}

	t.Run("newest first across pages", func(t *testing.T) {
		var ids []string
		tok := ""
		pages := 0
		for {
			p, err := s.QueryAudit(ctx, audit.Query{Subject: subject, Limit: 10, PageToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, e := range p.Entries {
				ids = append(ids, e.ID)
			}
			if p.NextPageToken == "" || pages > 10 {
				break
			}
			tok = p.NextPageToken
		}
		if len(ids) != 25 || ids[0] != "e24" || ids[24] != "e00" {
			t.Fatalf("got %d ids %v", len(ids), ids)
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] >= ids[i-1] {
				t.Fatalf("not newest first at %d: %v", i, ids)
			}
		}
	})
	t.Run("time range is inclusive", func(t *testing.T) {
		p, err := s.QueryAudit(ctx, audit.Query{Subject: subject, Since: base.Add(5 * time.Minute), Until: base.Add(9 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) != 5 || p.Entries[0].ID != "e09" || p.Entries[4].ID != "e05" || p.NextPageToken != "" {
			t.Fatalf("range = %+v", p)
		}
		if p.Entries[0].Details["n"] != float64(9) || p.Entries[0].Message != "decision 9" {
			t.Fatalf("details did not round-trip: %+v", p.Entries[0])
		}
	})
	t.Run("expired entries are hidden", func(t *testing.T) {
		late := s.WithClock(func() time.Time { return base.Add(48 * time.Hour) })
		p, err := late.QueryAudit(ctx, audit.Query{Subject: subject})
		if err != nil || len(p.Entries) != 0 {
			t.Fatalf("got %d entries, err %v", len(p.Entries), err)
		}
	})
	t.Run("malformed page token is invalid", func(t *testing.T) {
		_, err := s.QueryAudit(ctx, audit.Query{Subject: subject, PageToken: "%%%"})
		if !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ttl attribute is time plus retention", func(t *testing.T) {
		item := rawItem(t, s, "AUDIT#"+subject, "2026-11-21T08:00:00.000000000Z#e00")
		n, ok := item["ttl"].(*types.AttributeValueMemberN)
		if !ok || n.Value != fmt.Sprint(base.Add(24*time.Hour).Unix()) {
			t.Fatalf("ttl = %#v", item["ttl"])
		}
	})
}

type agentMirror struct {
	Status string `dynamodbav:"status"`
}

func TestPutIfNewer(t *testing.T) {
	ctx := context.Background()
	s := dynamotest.NewStore(t)
	k := dynamo.Key{PK: "AGENT#a1", SK: "STATE"}
	steps := []struct {
		name    string
		stamp   int64
		status  string
		applied bool
		want    string
	}{
		{"first write applies", 100, "Available", true, "Available"},
		{"newer applies", 200, "Lunch", true, "Lunch"},
		{"older is dropped", 150, "Busy", false, "Lunch"},
		{"equal stamp (redelivery) is dropped", 200, "Offline", false, "Lunch"},
		{"newer again applies", 300, "Offline", true, "Offline"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			applied, err := s.PutIfNewer(ctx, k, st.stamp, agentMirror{Status: st.status}, 0)
			if err != nil || applied != st.applied {
				t.Fatalf("applied=%v err=%v, want %v", applied, err, st.applied)
			}
			var got agentMirror
			if _, err := s.GetItem(ctx, k, &got); err != nil || got.Status != st.want {
				t.Fatalf("stored %q err %v, want %q", got.Status, err, st.want)
			}
		})
	}
	t.Run("missing item is not found", func(t *testing.T) {
		var got agentMirror
		if _, err := s.GetItem(ctx, dynamo.Key{PK: "AGENT#none", SK: "STATE"}, &got); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestErrorsAreApplicationCodes(t *testing.T) {
	url, _ := dynamotest.Endpoint(t)
	s := dynamo.New(dynamo.NewClient(dynamolocal.Config(), url), "no-such-table")
	err := s.Ping(context.Background())
	if apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("ping missing table: %v (code %s)", err, apperr.CodeOf(err))
	}
	if msg := apperr.MessageOf(err); msg != "describe table: table not found" {
		t.Fatalf("user message leaks detail: %q", msg)
	}
}

func rawItem(t *testing.T, s *dynamo.Store, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	url, _ := dynamotest.Endpoint(t)
	out, err := dynamo.NewClient(dynamolocal.Config(), url).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(s.Table()),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}},
	})
	if err != nil || len(out.Item) == 0 {
		t.Fatalf("raw get %s/%s: %v (found %d attrs)", pk, sk, err, len(out.Item))
	}
	return out.Item
}
