package connect

import (
	"context"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// StatusResult says what became of one coalesced status request.
type StatusResult struct {
	// Status is the resolved status this request asked for.
	Status AgentStatus
	// Sent is true when this request's PutUserStatus was sent and Connect accepted it.
	Sent bool
	// SupersededBy is the key of the newer request for the same agent that replaced this one
	// before it was sent; empty when Sent. A superseded request is a success, not a failure:
	// the newer status is the one the agent must end up in, so callers must not retry.
	SupersededBy string
}

// Superseded reports whether a newer request replaced this one before it was sent.
func (r StatusResult) Superseded() bool { return r.SupersededBy != "" }

// String renders the result for audit entries: "sent Lunch", "superseded by <key>", or
// "not sent Lunch" when the request failed.
func (r StatusResult) String() string {
	switch {
	case r.Superseded():
		return "superseded by " + r.SupersededBy
	case r.Sent:
		return "sent " + r.Status.Name
	}
	return "not sent " + r.Status.Name
}

// StatusOutcome is delivered once on the channel returned by SubmitStatus.
type StatusOutcome struct {
	Result StatusResult
	Err    error
}

// statusSlot is the coalescing state of one agent: at most one request waiting to be sent
// (the newest) and at most one sender goroutine.
type statusSlot struct {
	pending *statusRequest
	running bool
}

type statusRequest struct {
	ctx    context.Context
	status AgentStatus
	key    string
	out    chan StatusOutcome // buffered 1; written exactly once by whoever removes the request from its slot
	stop   func() bool        // stops the context.AfterFunc that withdraws the request on cancellation
}

func (r *statusRequest) deliver(o StatusOutcome) {
	r.stop()
	r.out <- o
}

// SetStatusCoalesced sets the agent's status like SetStatus, but if newer requests for the same
// user arrive while this one waits for the rate limiter, only the newest is sent. Every
// replaced caller gets a StatusResult with SupersededBy set to the key of the request that
// replaced it, and a nil error. key identifies the request (typically the idempotency key of the
// event that caused it) and is only reported back, never sent to Connect.
//
// Guarantees: requests for one user are sent one at a time and in submission order, and the
// last request submitted is always sent (unless its own context ends first), so the agent's
// final status is the newest requested. Unknown status names fail at once with NotFound and do
// not displace a pending request.
func (c *Client) SetStatusCoalesced(ctx context.Context, userID, statusName, key string) (StatusResult, error) {
	ch, err := c.SubmitStatus(ctx, userID, statusName, key)
	if err != nil {
		return StatusResult{}, err
	}
	o := <-ch
	return o.Result, o.Err
}

// SubmitStatus is SetStatusCoalesced without waiting: the request has taken its place in the
// agent's slot when SubmitStatus returns, so submission order is the caller's call order, and
// the outcome arrives later on the returned channel (exactly one value). If ctx ends before
// the request is sent, the outcome is an Unavailable error and the request is withdrawn.
func (c *Client) SubmitStatus(ctx context.Context, userID, statusName, key string) (<-chan StatusOutcome, error) {
	if userID == "" {
		return nil, apperr.Invalidf([]apperr.Problem{{Path: "userID", Message: "required"}}, "Connect user id is required")
	}
	st, err := c.ResolveStatus(ctx, statusName)
	if err != nil {
		return nil, err
	}
	req := &statusRequest{ctx: ctx, status: st, key: key, out: make(chan StatusOutcome, 1)}
	// Registered before the request is visible so that req.stop is set for every deliverer.
	req.stop = context.AfterFunc(ctx, func() { c.withdraw(userID, req) })

	c.slotMu.Lock()
	slot := c.slots[userID]
	if slot == nil {
		slot = &statusSlot{}
		c.slots[userID] = slot
	}
	if old := slot.pending; old != nil {
		old.deliver(StatusOutcome{Result: StatusResult{Status: old.status, SupersededBy: key}})
	}
	slot.pending = req
	start := !slot.running
	slot.running = true
	c.slotMu.Unlock()

	if start {
		go c.sendStatuses(userID, slot)
	}
	return req.out, nil
}

// withdraw removes a request whose context ended before it was sent.
func (c *Client) withdraw(userID string, req *statusRequest) {
	c.slotMu.Lock()
	defer c.slotMu.Unlock()
	if slot := c.slots[userID]; slot != nil && slot.pending == req {
		slot.pending = nil
		req.out <- StatusOutcome{Result: StatusResult{Status: req.status}, Err: mapError("PutUserStatus", req.ctx.Err())}
	}
}

// sendStatuses is the one sender of a user's slot. It waits for a limiter token first and only
// then takes whatever request is newest, which is where coalescing happens: everything that
// arrived during the wait collapsed into one pending request. It exits when the slot is empty.
func (c *Client) sendStatuses(userID string, slot *statusSlot) {
	for {
		c.slotMu.Lock()
		req := slot.pending
		if req == nil {
			slot.running = false
			delete(c.slots, userID)
			c.slotMu.Unlock()
			return
		}
		c.slotMu.Unlock()

		// Wait on behalf of the request that is newest now; if it is replaced meanwhile, the
		// token serves its replacement.
		if err := c.limiter.Wait(req.ctx); err != nil {
			c.slotMu.Lock()
			if slot.pending == req {
				slot.pending = nil
				c.slotMu.Unlock()
				req.deliver(StatusOutcome{Result: StatusResult{Status: req.status}, Err: limiterError(req.ctx, "PutUserStatus", err)})
				continue
			}
			c.slotMu.Unlock()
			continue
		}

		c.slotMu.Lock()
		req = slot.pending
		slot.pending = nil
		c.slotMu.Unlock()
		if req == nil {
			continue // withdrawn while waiting; the loop finds the slot empty and exits
		}
		err := c.putUserStatus(req.ctx, userID, req.status.ID)
		req.deliver(StatusOutcome{Result: StatusResult{Status: req.status, Sent: err == nil}, Err: err})
	}
}
