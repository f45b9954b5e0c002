// Package engine is the imperative shell around presence.Decide: everything presence sync does
// that is not a pure decision. It de-duplicates events, links Connect and Salesforce users,
// loads and conditionally writes agent state, delivers commands through an outbox, audits
// every decision, expires unacknowledged commands, and answers dry runs (Simulate).
//
// # One event (Batch.ProcessConnect, Batch.ProcessSalesforce)
//
//  1. Seen: an event id marked processed is a duplicate; it is audited as such (under
//     "<event id>/duplicate", so the decision's own entry stays) and decides nothing, but the
//     agent's outbox is still drained: a redelivered batch is how a failed send is retried.
//  2. Link: Connect events name the Connect user (agent ARN), Salesforce events the Salesforce
//     user; the link gives the other id (resolved once through the APIs, then cached in
//     DynamoDB both ways for 24 h, "no such user" for 15 min). An agent without a link is
//     decided anyway, so the audit says "unlinked"; nothing is retried.
//  3. Load the agent item (once per batch), keyed by Connect user id. A Salesforce user linked
//     to no Connect user has no item: its events are audited under "user/<id>" and not stored.
//  4. Expire overdue pending commands, then Decide with the batch's config version.
//  5. Audit (subject "agent/<connect user id>", id = event id, time = event time: writing it
//     again overwrites it).
//  6. Write state and outbox (decision's commands appended) in one put conditional on the
//     loaded version; on conflict reload and decide again, a bounded number of times. Decide
//     reports an event not newer than the stored one as stale, so with the version condition a
//     stale event never overwrites newer state. Stale and invalid events write nothing.
//  7. Mark the event id processed (Claim, 24 h). Marking after the write means a crash leaves
//     the event unmarked and it is redone; if the write did happen, Decide finds the event
//     stale and the state names it as its last event, which is treated as a duplicate.
//  8. Deliver Connect commands at once, oldest first (ConnectStatus, keyed by command id).
//     Salesforce commands wait for Flush, which publishes every agent's in as few calls as
//     the API allows and then writes each touched agent once to remove delivered commands.
//
// Commands are never decided twice: a failed delivery leaves the command in the outbox, and it
// is retried by the agent's next batch (even one of duplicates) or by SweepOutbox, until it is
// delivered or no longer wanted (a Salesforce command no longer pending, a Connect command
// whose echo window passed); then it is dropped with a "not-applied" audit.
//
// # DynamoDB items (package dynamo)
//
//	AGENT#<connectUserId>   STATE                              state + outbox + version (TTL 30 d)
//	LINK#C#<connectUserId>  FIELD#<field>                      link or negative link (TTL)
//	LINK#S#<sfUserId>       FIELD#<field>                      link or negative link (TTL)
//	PENDING                 <deadline>#<connectUserId>#<cmd>   ack deadline, for SweepPending
//	OUTBOX                  <connectUserId>                    agent with undelivered commands
//	IDEM#presence/<eventId> IDEM                               processed marker (TTL 24 h)
//	AUDIT#agent/<id>        <event time>#<event id>            decision audit
package engine
