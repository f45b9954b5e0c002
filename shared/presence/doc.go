// Package presence is the functional core of presence sync: it decides, for one agent and one
// event, what to send to Connect and Salesforce, and remembers what it needs to recognise the
// consequences. It is a domain package: no I/O, no clock (time is passed in), no AWS SDK.
//
// # The shell's contract
//
// The shell (the Lambda handlers) does the I/O around Decide, for each event:
//
//  1. Drop an event whose id the idempotency store has seen; audit it with Duplicate.
//  2. Resolve the identity link and load the agent's AgentState (with the store's version).
//     Optionally call ExpireCommands first (or on a schedule at AgentState.NextDeadline) and
//     write its audits.
//  3. Call Decide with the compiled rules.Set and the settings of the same config version.
//  4. Persist Decision.State with a conditional write on the loaded version (and on the
//     event's side time, so a stale event never overwrites a newer one). On a condition
//     failure, reload and decide again: Decide itself reports the event as stale if the other
//     writer applied a newer one. For stale and invalid events the returned state equals the
//     input and the write can be skipped.
//  5. Only after the write, send Decision.Commands. Command.ID is derived from the event id
//     and destination (CommandID), so re-sending is harmless: it is the command id of the
//     Salesforce platform event and the limiter/coalescing key (and ClientToken where the API
//     takes one) for Connect. A Command with Mode ModeNextStatus sets Connect's next status.
//     Retry a failed send from the decision itself (keep the commands, e.g. in an outbox):
//     deciding the same event again finds it stale once its state is written.
//  6. Write Decision.Audit, then mark the event id as processed.
//
// Acknowledgements from the Salesforce console go through Acknowledge, with the same load,
// conditional write and audit.
//
// # What the state remembers, and why
//
//   - Mirrors of both sides with the newest event time applied per side: ordering.
//   - Expected echoes (ExpectedEcho) for commands applied now, valid for
//     settings.echoWindowSeconds, and the Deferred next status: a change the bridge commanded
//     that comes back is consumed as an echo and fires no rule, since every rule would point
//     back at the system that caused it.
//   - Pending Salesforce commands until acknowledged, echoed, failed or expired (only an open
//     console can set presence, so silence means "not applied: console not open").
//   - The causal Chain for the loop guard (see Chain).
//
// Before sending, Decide compares the target with the state the destination is in or headed
// to (the newest command still in flight, else the mirror) and sends nothing when they agree
// ("already-in-state"); together with echo suppression this is what keeps symmetric mappings
// from ping-ponging. An event that repeats the known state ("unchanged", a poll or heartbeat)
// runs no rules, so a periodic report cannot undo an agent's newer choice on the other side.
package presence
