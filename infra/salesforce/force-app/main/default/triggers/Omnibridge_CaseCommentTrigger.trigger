/**
 * Sends new CaseComments (case.comment_added, by the case owner or not) to the bridge's case webhook.
 * Omnibridge_CaseEvents decides what to send (nothing for the integration user's changes);
 * triggers cannot call out, so the events go to a Queueable (Omnibridge_CaseSender).
 */
trigger Omnibridge_CaseCommentTrigger on CaseComment (after insert) {
    Omnibridge_CaseSender.enqueue(Omnibridge_CaseEvents.fromComments(Trigger.new));
}
