// Package engine is the imperative shell around presence.Decide: everything presence sync does
// that is not a pure decision. It de-duplicates events, links Connect and Salesforce users,
// loads and conditionally writes agent state, delivers commands through an outbox, audits
// every decision, expires unacknowledged commands, and answers dry runs (Simulate).
//
// # One event (Batch.ProcessConnect, Batch.ProcessSalesforce)
//
//  0. Prefetch (Kinesis batches): PrefetchAgents reads every agent item and every event's
//     processed marker of the batch in BatchGetItem calls, so steps 1 and 3 read nothing.
//  1. Seen: an event id marked processed, or listed in the agent item's journal (stored, not
//     yet marked), is a duplicate; it is audited as such (under "<event id>/duplicate", so the
//     decision's own entry stays) and decides nothing, but the agent's outbox is still
//     drained: a redelivered batch is how a failed send is retried.
//  2. Link: Connect events name the Connect user (agent ARN), Salesforce events the Salesforce
//     user; the link gives the other id (resolved once through the APIs, then cached in
//     DynamoDB both ways for 24 h, "no such user" for 15 min). An agent without a link is
//     decided anyway, so the audit says "unlinked"; nothing is retried.
//  3. Load the agent item (once per batch), keyed by Connect user id. A Salesforce user linked
//     to no Connect user has no item: its events are audited under "user/<id>" and not stored.
//  4. Expire overdue pending commands, then Decide with the batch's config version.
//  5. Write state, outbox (decision's commands appended) and journal in one put conditional
//     on the loaded version; on conflict reload and decide again, a bounded number of times.
//     Decide reports an event not newer than the stored one as stale, so with the version
//     condition a stale event never overwrites newer state. The journal (dynamo.AgentJournal)
//     lists what the decision writes elsewhere: its audit entries (subject
//     "agent/<connect user id>", id = event id, time = event time: writing one again
//     overwrites it), the pending-index entries of its Salesforce commands and the event's
//     idempotency key. Stale and invalid events store nothing: their audit is written at once
//     and their marker waits in the batch for Flush.
//  6. Deliver Connect commands at once, oldest first (ConnectStatus, keyed by command id).
//     Salesforce commands wait for Flush, which publishes every agent's in as few calls as
//     the API allows, writes the journals' items meanwhile (BatchWriteItem, 25 a call), and
//     then writes each touched agent once to remove delivered commands and clear what the
//     journal listed. A crash before that leaves the journal in the item: the event's
//     redelivery finds its key there (a duplicate), and its Flush writes the journal; a failed
//     journal write keeps the agent listed for SweepOutbox, which does the same.
//
// Commands are never decided twice: a failed delivery leaves the command in the outbox, and it
// is retried by the agent's next batch (even one of duplicates) or by SweepOutbox, until it is
// delivered or no longer wanted (a Salesforce command no longer pending, a Connect command
// whose echo window passed); then it is dropped with a "not-applied" audit.
//
// # DynamoDB items (package dynamo)
//
//	AGENT#<connectUserId>   STATE                              state + outbox + journal + version (TTL 30 d)
//	LINK#C#<connectUserId>  FIELD#<field>                      link or negative link (TTL)
//	LINK#S#<sfUserId>       FIELD#<field>                      link or negative link (TTL)
//	PENDING                 <deadline>#<connectUserId>#<cmd>   ack deadline, for SweepPending
//	OUTBOX                  <connectUserId>                    agent with undelivered commands
//	IDEM#presence/<eventId> IDEM                               processed marker (TTL 24 h)
//	AUDIT#agent/<id>        <event time>#<event id>            decision audit
package engine
