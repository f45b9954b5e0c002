package webhook_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/presence"
	"github.com/omnibridge/omnibridge/shared/sfevents"
	"github.com/omnibridge/omnibridge/shared/webhook"
)

// fakeSecrets serves a secret value; value and err may be swapped between requests.
type fakeSecrets struct {
	mu    sync.Mutex
	value string
	err   error
	calls int
}

func (f *fakeSecrets) SecretValue(_ context.Context, id string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if id != secretID {
		return nil, errNoSuchSecret
	}
	if f.err != nil {
		return nil, f.err
	}
	return []byte(f.value), nil
}

func (f *fakeSecrets) set(value string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.value, f.err = value, err
}

// memReplay is an in-memory ReplayGuard; claim overrides Claim when set.
type memReplay struct {
	mu       sync.Mutex
	keys     map[string]time.Duration
	released []string
	claim    func(key string) (bool, error)
}

func (m *memReplay) Claim(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if m.claim != nil {
		return m.claim(key)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[string]time.Duration{}
	}
	if _, ok := m.keys[key]; ok {
		return false, nil
	}
	m.keys[key] = ttl
	return true, nil
}

func (m *memReplay) Release(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
	m.released = append(m.released, key)
	return nil
}

// call is one processor invocation, as the fake processor recorded it.
type call struct {
	userID string
	event  presence.Event
	ack    *sfevents.Ack
}

// fakeProcessor records calls; process and ack decide the answers (default: "applied").
type fakeProcessor struct {
	mu      sync.Mutex
	calls   []call
	process func(ctx context.Context, userID string, ev presence.Event) (webhook.Result, error)
	ack     func(ctx context.Context, a sfevents.Ack) (webhook.Result, error)
}

func (p *fakeProcessor) ProcessSalesforce(ctx context.Context, userID string, ev presence.Event) (webhook.Result, error) {
	p.mu.Lock()
	p.calls = append(p.calls, call{userID: userID, event: ev})
	p.mu.Unlock()
	if p.process != nil {
		return p.process(ctx, userID, ev)
	}
	return webhook.Result{Outcome: string(presence.OutcomeApplied), Detail: "processed " + ev.ID}, nil
}

func (p *fakeProcessor) Acknowledge(ctx context.Context, a sfevents.Ack) (webhook.Result, error) {
	p.mu.Lock()
	p.calls = append(p.calls, call{userID: a.UserID, ack: &a})
	p.mu.Unlock()
	if p.ack != nil {
		return p.ack(ctx, a)
	}
	return webhook.Result{Outcome: string(presence.OutcomeAcknowledged), Detail: "ack " + a.CommandID}, nil
}

func (p *fakeProcessor) recorded() []call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]call(nil), p.calls...)
}

// syncBuffer is a log sink safe for the handler's concurrent workers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(t *testing.T) (*slog.Logger, *syncBuffer) {
	t.Helper()
	var buf syncBuffer
	return slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}
