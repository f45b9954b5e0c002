/**
 * The Omnibridge console's screen pops, in plain JavaScript (no lightning/* imports), so jest
 * tests it directly. The bridge publishes Omnibridge_Screen_Pop__e (shared/screenpop) when a
 * routed case's task or a call connects to an agent; every console receives every pop, and this
 * module decides which to open and opens them:
 *
 * - only pops whose UserId__c is the running user (15- and 18-character ids compared by their
 *   case-safe form);
 * - only pops issued (IssuedAt__c, the bridge's clock) at most MAX_POP_AGE_MS before the browser's
 *   clock, and not more than MAX_POP_AGE_MS after it: a console opened late never replays earlier
 *   pops, and a pop from a clock far ahead is not trusted either;
 * - each PopId__c once (the bridge derives it from the cause, so a retried publish or a CometD
 *   redelivery pops once); the last REMEMBERED_POPS ids are kept for the page's lifetime;
 * - RecordId__c in a console tab, focused: workspace.openTab({recordId, focus: true}), where
 *   workspace is the Aura shell's lightning:workspaceAPI. A failure is logged, never thrown.
 */
import { caseSafeId, sameId, reasonOf } from 'c/omnibridgePresence';

/** The platform event channel the bridge publishes screen pops on. */
export const SCREEN_POP_CHANNEL = '/event/Omnibridge_Screen_Pop__e';

/** How far IssuedAt__c may be from the browser's clock, either way (shared/screenpop.MaxAge). */
export const MAX_POP_AGE_MS = 60000;

/** How many pop ids are remembered for opening each once (oldest forgotten first). */
const REMEMBERED_POPS = 1000;

const POP_ID = /^[^\s]{1,255}$/;
const ISSUED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * What to do with one empApi message of SCREEN_POP_CHANNEL for userId at browser time now
 * (epoch ms), given the pop ids already handled (seen, a Set). Returns
 * {action: 'open', pop: {popId, recordId, connectContactId, reason, issuedAt}} or
 * {action: 'ignore', why, log}: why is 'other-user', 'invalid', 'duplicate', 'stale' or
 * 'future', and log says whether the console should log it (another user's pop is not worth a
 * line: every console receives every pop).
 */
export function decidePop(message, { userId, now, seen }) {
    const p = message && message.data && message.data.payload ? message.data.payload : null;
    if (!p) {
        return { action: 'ignore', why: 'invalid', log: true, detail: 'the message has no payload' };
    }
    if (caseSafeId(p.UserId__c) === null) {
        return { action: 'ignore', why: 'invalid', log: true, detail: `UserId__c is missing or malformed: ${JSON.stringify(p.UserId__c)}` };
    }
    if (!sameId(p.UserId__c, userId)) {
        return { action: 'ignore', why: 'other-user', log: false };
    }
    if (typeof p.PopId__c !== 'string' || !POP_ID.test(p.PopId__c)) {
        return { action: 'ignore', why: 'invalid', log: true, detail: `PopId__c is missing or malformed: ${JSON.stringify(p.PopId__c)}` };
    }
    const recordId = caseSafeId(p.RecordId__c);
    if (recordId === null) {
        return { action: 'ignore', why: 'invalid', log: true, detail: `RecordId__c is missing or malformed: ${JSON.stringify(p.RecordId__c)}` };
    }
    const issuedAt = typeof p.IssuedAt__c === 'string' && ISSUED_AT.test(p.IssuedAt__c) ? Date.parse(p.IssuedAt__c) : NaN;
    if (Number.isNaN(issuedAt)) {
        return { action: 'ignore', why: 'invalid', log: true, detail: `IssuedAt__c must be an RFC 3339 time, got ${JSON.stringify(p.IssuedAt__c)}` };
    }
    if (seen.has(p.PopId__c)) {
        return { action: 'ignore', why: 'duplicate', log: false };
    }
    if (now - issuedAt > MAX_POP_AGE_MS) {
        return { action: 'ignore', why: 'stale', log: true, detail: `issued at ${p.IssuedAt__c}, ${Math.round((now - issuedAt) / 1000)} s before this console's clock` };
    }
    if (issuedAt - now > MAX_POP_AGE_MS) {
        return { action: 'ignore', why: 'future', log: true, detail: `issued at ${p.IssuedAt__c}, ${Math.round((issuedAt - now) / 1000)} s after this console's clock` };
    }
    return {
        action: 'open',
        pop: { popId: p.PopId__c, recordId, connectContactId: p.ConnectContactId__c || '', reason: p.Reason__c || '', issuedAt }
    };
}

/**
 * ScreenPopper opens the running user's screen pops in console tabs.
 *
 * deps:
 *   userId     the running user's id (15 or 18 characters);
 *   workspace  {openTab({recordId, focus})} returning a Promise (the Aura wrapper adapts
 *              lightning:workspaceAPI to this); may be set later;
 *   now, log, onActivity: injectable for tests.
 */
export class ScreenPopper {
    constructor({ userId, workspace = null, now = Date.now, log = console, onActivity = () => {} }) {
        this.userId = userId;
        this.workspace = workspace;
        this.now = now;
        this.log = log;
        this.onActivity = onActivity;
        this.seen = new Set();
    }

    /**
     * Handles one empApi message of SCREEN_POP_CHANNEL. Returns a Promise of what happened:
     * 'opened', 'failed' (openTab rejected or no workspace API; logged), or the reason it was
     * ignored (see decidePop). Never rejects.
     */
    async handlePop(message) {
        const d = decidePop(message, { userId: this.userId, now: this.now(), seen: this.seen });
        if (d.action !== 'open') {
            if (d.log) {
                this.log.warn(`Omnibridge: screen pop ignored (${d.why}): ${d.detail}`);
            }
            return d.why;
        }
        const { pop } = d;
        this.remember(pop.popId);
        if (!this.workspace) {
            this.log.error(`Omnibridge: screen pop ${pop.popId} of ${pop.recordId} not opened: the workspace API is not available (is this a console app?)`);
            return 'failed';
        }
        try {
            await this.workspace.openTab({ recordId: pop.recordId, focus: true });
        } catch (error) {
            this.log.error(`Omnibridge: screen pop ${pop.popId} could not open ${pop.recordId}: ${reasonOf(error)}`);
            this.onActivity(`Could not open ${pop.recordId}: ${reasonOf(error)}`);
            return 'failed';
        }
        this.onActivity(`Opened ${pop.recordId}${pop.reason ? ` (${pop.reason})` : ''}`);
        return 'opened';
    }

    remember(popId) {
        this.seen.add(popId);
        if (this.seen.size > REMEMBERED_POPS) {
            this.seen.delete(this.seen.values().next().value);
        }
    }
}
