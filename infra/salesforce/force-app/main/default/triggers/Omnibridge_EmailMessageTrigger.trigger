/**
 * Sends new emails on Cases (case.email_added, incoming or outgoing) to the bridge's case webhook.
 * Omnibridge_CaseEvents decides what to send (nothing for the integration user's changes);
 * triggers cannot call out, so the events go to a Queueable (Omnibridge_CaseSender).
 */
trigger Omnibridge_EmailMessageTrigger on EmailMessage (after insert) {
    Omnibridge_CaseSender.enqueue(Omnibridge_CaseEvents.fromEmails(Trigger.new));
}
