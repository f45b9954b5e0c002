/**
 * The Omnibridge console's logic, in plain JavaScript (no lightning/* imports), so jest tests it
 * directly. The Aura wrapper (aura/Omnibridge_Console) owns the Omni-Channel toolkit and its
 * events; the LWC omnibridgeConsole owns the empApi subscription and the Apex call; both only
 * hand their inputs to a PresenceBridge made here.
 *
 * What it does (contracts/presence-webhook.v1.schema.json, contracts/README.md):
 * - applies the bridge's presence commands (Omnibridge_Presence_Command__e) meant for the running
 *   user through the toolkit: setServicePresenceStatus(statusId), or logout() for Offline;
 * - applies each CommandId__c at most once, and ignores a command issued (IssuedAt__c) before the
 *   status the console already shows;
 * - acknowledges every command it acts on (commandAck applied or failed, with the reason);
 * - forwards the console's own events (statusChanged, logout, workAccepted, workloadChanged);
 * - sends all of them in contract v1 batches: the events of a short window go in one batch, a
 *   batch that got no answer or a 429/5xx is sent again with exponential backoff (each attempt is
 *   a new Apex call, so the controller signs it afresh), a 4xx is logged and dropped.
 */

/** The platform event channel the bridge publishes commands on. */
export const COMMAND_CHANNEL = '/event/Omnibridge_Presence_Command__e';

/** StatusId__c values that mean "log out of Omni-Channel" (shared/engine publishes Offline). */
export const OFFLINE_STATUS_IDS = ['Offline', '0'];

/** Contract limits on one request (contracts/README.md). */
export const MAX_EVENTS = 500;
export const MAX_BODY_BYTES = 262144;
/** Room left in MAX_BODY_BYTES for the envelope Apex wraps the events in. */
const ENVELOPE_BYTES = 256;
/** How many command ids are remembered for at-most-once (oldest forgotten first). */
const REMEMBERED_COMMANDS = 1000;
/** A command's echo (the toolkit's status event) is expected within this time after applying. */
const ECHO_WINDOW_MS = 10000;

const CHECKSUM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ID_SHAPE = /^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/;
const OPAQUE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const API_NAME = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;
const ISSUED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Returns the 18-character form of a 15- or 18-character Salesforce id (an 18-character id
 * whose case was lost is repaired from its suffix, as Salesforce does), or null for anything
 * that is not an id. Mirrors shared/sfevents.CaseSafeID.
 */
export function caseSafeId(id) {
    if (typeof id !== 'string' || !ID_SHAPE.test(id)) {
        return null;
    }
    const chars = id.slice(0, 15).split('');
    if (id.length === 18) {
        for (let chunk = 0; chunk < 3; chunk++) {
            const mask = CHECKSUM_ALPHABET.indexOf(id[15 + chunk].toUpperCase());
            if (mask < 0) {
                return null;
            }
            for (let j = 0; j < 5; j++) {
                const i = chunk * 5 + j;
                const upper = (mask & (1 << j)) !== 0;
                if (/[A-Za-z]/.test(chars[i])) {
                    chars[i] = upper ? chars[i].toUpperCase() : chars[i].toLowerCase();
                } else if (upper) {
                    return null; // a digit cannot be upper case: the suffix is another id's
                }
            }
        }
    }
    let suffix = '';
    for (let chunk = 0; chunk < 3; chunk++) {
        let mask = 0;
        for (let j = 0; j < 5; j++) {
            if (/[A-Z]/.test(chars[chunk * 5 + j])) {
                mask |= 1 << j;
            }
        }
        suffix += CHECKSUM_ALPHABET[mask];
    }
    return chars.join('') + suffix;
}

/** Whether a and b are the same Salesforce id, in any mix of 15- and 18-character forms. */
export function sameId(a, b) {
    const x = caseSafeId(a);
    return x !== null && x === caseSafeId(b);
}

/** Formats epoch milliseconds as the contract's RFC 3339 UTC timestamp with milliseconds. */
export function timestamp(ms) {
    return new Date(ms).toISOString();
}

/** A random (version 4) UUID for console-made event ids. */
export function newEventId() {
    const c = globalThis.crypto;
    if (c && typeof c.randomUUID === 'function') {
        return c.randomUUID();
    }
    const b = new Uint8Array(16);
    c.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The service channel DeveloperNames of a status, from the toolkit's channels: a JSON string
 * (the events and getServicePresenceStatusChannels) or an array of {channelId, developerName}.
 * Returns null when the toolkit gave none.
 */
export function channelNames(channels) {
    if (channels === undefined || channels === null || channels === '') {
        return null;
    }
    const list = typeof channels === 'string' ? JSON.parse(channels) : channels;
    if (!Array.isArray(list)) {
        throw new Error(`channels must be a list of channels, got ${JSON.stringify(channels)}`);
    }
    return list.map((c) => (typeof c === 'string' ? c : c.developerName));
}

function withCommand(event, commandId) {
    if (commandId) {
        event.commandId = commandId;
    }
    return event;
}

function count(name, value) {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
        throw new Error(`${name} must be a number of at least 0, got ${JSON.stringify(value)}`);
    }
    return n;
}

function required(name, value, pattern) {
    if (typeof value !== 'string' || !pattern.test(value)) {
        throw new Error(`${name} is missing or malformed: ${JSON.stringify(value)}`);
    }
    return value;
}

/**
 * Builders of contract v1 events, keys in the schema's order. `base` is {id, userId, time}: the
 * event id, the running user, and the time as epoch milliseconds. Each throws, naming the field,
 * when the toolkit's input cannot make a valid event.
 */
export function statusChangedEvent(base, { statusId, statusApiName, channels }, commandId) {
    const event = {
        id: base.id,
        type: 'statusChanged',
        userId: base.userId,
        time: timestamp(base.time),
        statusId: required('statusId', statusId, ID_SHAPE),
        statusDeveloperName: required('statusApiName', statusApiName, API_NAME)
    };
    const names = channelNames(channels);
    if (names !== null) {
        event.channels = names;
    }
    return withCommand(event, commandId);
}

export function logoutEvent(base, commandId) {
    return withCommand({ id: base.id, type: 'logout', userId: base.userId, time: timestamp(base.time) }, commandId);
}

export function workAcceptedEvent(base, { workItemId, serviceChannel }) {
    return {
        id: base.id,
        type: 'workAccepted',
        userId: base.userId,
        time: timestamp(base.time),
        workItemId: required('workItemId', workItemId, ID_SHAPE),
        serviceChannel: required('serviceChannel', serviceChannel, API_NAME)
    };
}

export function workloadChangedEvent(base, { configuredCapacity, previousWorkload, newWorkload }) {
    return {
        id: base.id,
        type: 'workloadChanged',
        userId: base.userId,
        time: timestamp(base.time),
        configuredCapacity: count('configuredCapacity', configuredCapacity),
        previousWorkload: count('previousWorkload', previousWorkload),
        newWorkload: count('newWorkload', newWorkload)
    };
}

export function commandAckEvent(base, commandId, result, reason) {
    const event = { id: base.id, type: 'commandAck', userId: base.userId, time: timestamp(base.time), commandId, result };
    if (reason) {
        event.reason = String(reason).slice(0, 1000);
    }
    return event;
}

/**
 * Reads a command from an empApi message ({data: {payload: {UserId__c, …}}}). Returns
 * {command} or {problem} naming what is wrong; commandId is set in both when it is usable, so a
 * malformed command can still be acknowledged as failed.
 */
export function parseCommand(payload) {
    const p = payload || {};
    const commandId = typeof p.CommandId__c === 'string' && OPAQUE_ID.test(p.CommandId__c) ? p.CommandId__c : null;
    if (!commandId) {
        return { problem: `CommandId__c is missing or malformed: ${JSON.stringify(p.CommandId__c)}` };
    }
    const statusId = p.StatusId__c;
    const offline = OFFLINE_STATUS_IDS.includes(statusId);
    if (!offline && !(caseSafeId(statusId) || '').startsWith('0N5')) {
        return { commandId, problem: `StatusId__c must be a ServicePresenceStatus id (0N5…) or Offline, got ${JSON.stringify(statusId)}` };
    }
    const issuedAt = typeof p.IssuedAt__c === 'string' && ISSUED_AT.test(p.IssuedAt__c) ? Date.parse(p.IssuedAt__c) : NaN;
    if (Number.isNaN(issuedAt)) {
        return { commandId, problem: `IssuedAt__c must be an RFC 3339 time, got ${JSON.stringify(p.IssuedAt__c)}` };
    }
    return { commandId, command: { commandId, statusId: offline ? null : statusId, offline, issuedAt, issuedAtText: p.IssuedAt__c, reason: p.Reason__c || '' } };
}

/** The message of whatever a toolkit promise was rejected with. */
export function reasonOf(error) {
    if (error === undefined || error === null) {
        return 'the Omni-Channel toolkit gave no reason';
    }
    if (typeof error === 'string') {
        return error;
    }
    if (error.message) {
        return error.message;
    }
    if (error.body && error.body.message) {
        return error.body.message;
    }
    try {
        return JSON.stringify(error);
    } catch (e) {
        return String(error);
    }
}

function utf8Length(s) {
    let n = 0;
    for (const ch of s) {
        const c = ch.codePointAt(0);
        n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    }
    return n;
}

/** Whether a controller answer is worth sending the same batch again: no answer, 429 or 5xx. */
export function isRetryable(statusCode) {
    return statusCode === 0 || statusCode === 429 || statusCode >= 500;
}

/**
 * Outbox batches events and sends them, one batch at a time and in order, through send
 * (eventsJson → Promise<{statusCode, body}>, the Apex controller).
 *
 * The first event of a batch opens a window of windowMs; everything added within it goes in the
 * same batch (at most MAX_EVENTS events and MAX_BODY_BYTES with the envelope). Events added while
 * a batch is in flight wait for it, then go in the next. A batch that got no answer (statusCode
 * 0, a rejected call) or a 429/5xx is sent again after baseDelayMs·2^(attempt-1), capped at
 * maxDelayMs, with "equal jitter" (half the delay fixed, half random) so that every console
 * does not retry at the same instant after an outage; after maxAttempts it is logged and
 * dropped. Any other status (a 4xx) is logged with console.error and not retried: the bridge
 * refused the batch and sending it again cannot help.
 */
export class Outbox {
    constructor({ send, windowMs = 500, baseDelayMs = 1000, maxDelayMs = 30000, maxAttempts = 8, random = Math.random, log = console }) {
        this.send = send;
        this.windowMs = windowMs;
        this.baseDelayMs = baseDelayMs;
        this.maxDelayMs = maxDelayMs;
        this.maxAttempts = maxAttempts;
        this.random = random;
        this.log = log;
        this.queue = [];
        this.timer = null;
        this.retryTimer = null;
        this.inFlight = false;
        this.closed = false;
    }

    /** Queues one event for the next batch. */
    add(event) {
        if (this.closed) {
            return;
        }
        this.queue.push(event);
        if (!this.timer && !this.inFlight) {
            this.timer = setTimeout(() => this.flush(), this.windowMs);
        }
    }

    /** Stops sending: pending timers are cleared and nothing more is queued. */
    close() {
        this.closed = true;
        clearTimeout(this.timer);
        clearTimeout(this.retryTimer);
        this.timer = null;
        this.retryTimer = null;
    }

    /** The delay before attempt n + 1, after attempt n failed. */
    backoff(n) {
        const delay = Math.min(this.baseDelayMs * 2 ** (n - 1), this.maxDelayMs);
        return Math.round(delay / 2 + (this.random() * delay) / 2);
    }

    /** Takes the next batch off the queue, within the contract's limits. */
    nextBatch() {
        const batch = [];
        let bytes = ENVELOPE_BYTES + 2;
        while (this.queue.length && batch.length < MAX_EVENTS) {
            const size = utf8Length(JSON.stringify(this.queue[0])) + 1;
            if (batch.length && bytes + size > MAX_BODY_BYTES) {
                break;
            }
            bytes += size;
            batch.push(this.queue.shift());
        }
        return batch;
    }

    flush() {
        this.timer = null;
        if (this.inFlight || this.closed || !this.queue.length) {
            return;
        }
        this.inFlight = true;
        this.attempt(this.nextBatch(), 1);
    }

    async attempt(batch, n) {
        let res;
        try {
            res = await this.send(JSON.stringify(batch));
        } catch (error) {
            res = { statusCode: 0, body: reasonOf(error) };
        }
        if (this.closed) {
            return;
        }
        const status = res && typeof res.statusCode === 'number' ? res.statusCode : 0;
        if (status >= 200 && status < 300) {
            this.reportRejections(batch, res.body);
        } else if (isRetryable(status) && n < this.maxAttempts) {
            this.log.warn(`Omnibridge: presence batch of ${batch.length} got ${status || 'no answer'} (${res.body}); attempt ${n + 1} of ${this.maxAttempts} follows`);
            this.retryTimer = setTimeout(() => this.attempt(batch, n + 1), this.backoff(n));
            return;
        } else if (isRetryable(status)) {
            this.log.error(`Omnibridge: presence batch of ${batch.length} dropped after ${n} attempts; last answer ${status || 'none'}: ${res.body}`);
        } else {
            this.log.error(`Omnibridge: the bridge refused a presence batch of ${batch.length} with ${status}, not retried: ${res.body}`);
        }
        this.inFlight = false;
        if (this.queue.length) {
            this.flush();
        }
    }

    /** Logs the events a 202 says the bridge rejected for good (outcome "rejected"). */
    reportRejections(batch, body) {
        let results;
        try {
            results = JSON.parse(body).results;
        } catch (e) {
            return;
        }
        for (const r of Array.isArray(results) ? results : []) {
            if (r && r.outcome === 'rejected') {
                const e = batch[r.index] || {};
                this.log.error(`Omnibridge: the bridge rejected ${e.type} ${e.id}: ${r.detail}`);
            }
        }
    }
}

/**
 * PresenceBridge is the console's side of Omnibridge for one running user.
 *
 * deps:
 *   userId     the running user's id (15 or 18 characters);
 *   toolkit    {setServicePresenceStatus(statusId), logout()}, each returning a Promise (the
 *              Aura wrapper adapts lightning:omniToolkitAPI to this); may be set later;
 *   send       eventsJson → Promise<{statusCode, body}> (Omnibridge_ConsoleController);
 *   serviceChannelOf  workId → Promise<DeveloperName or null> (the toolkit's work events do not
 *              name the channel);
 *   now, newId, random, log, and the Outbox timings: injectable for tests.
 *
 * Ordering: the console shows a status since some time ("shownAt"): the IssuedAt__c of the last
 * command it applied, or the console's clock when the agent (or Omni-Channel) changed the status
 * itself. A command issued before that is stale: it is acknowledged as failed and not applied.
 * Commands are applied one at a time in arrival order.
 */
export class PresenceBridge {
    constructor({ userId, toolkit = null, send, serviceChannelOf = null, now = Date.now, newId = newEventId, log = console, onActivity = () => {}, ...outbox }) {
        this.userId = userId;
        this.toolkit = toolkit;
        this.serviceChannelOf = serviceChannelOf;
        this.now = now;
        this.newId = newId;
        this.log = log;
        this.onActivity = onActivity;
        this.outbox = new Outbox({ send, log, ...outbox });
        this.seen = new Set();
        this.shownAt = -Infinity;
        this.applying = Promise.resolve();
        this.expectedEcho = null;
    }

    base(time = this.now()) {
        return { id: this.newId(), userId: this.userId, time };
    }

    /** Builds an event with build(base) and queues it; a build error is logged, not thrown. */
    emit(what, build) {
        let event;
        try {
            event = build(this.base());
        } catch (error) {
            this.log.error(`Omnibridge: ${what} not forwarded: ${reasonOf(error)}`);
            return null;
        }
        this.outbox.add(event);
        return event;
    }

    /**
     * Handles one empApi message of COMMAND_CHANNEL. Returns a Promise that settles when the
     * command has been dealt with (tests wait on it).
     */
    handleCommand(message) {
        const payload = message && message.data ? message.data.payload : null;
        if (!payload || !sameId(payload.UserId__c, this.userId)) {
            return this.applying; // another agent's command
        }
        const { command, commandId, problem } = parseCommand(payload);
        if (!commandId) {
            this.log.error(`Omnibridge: presence command ignored: ${problem}`);
            return this.applying;
        }
        if (this.seen.has(commandId)) {
            return this.applying; // a replayed event: applied (or refused) already
        }
        this.remember(commandId);
        this.applying = this.applying.then(() => (problem ? this.acknowledge(commandId, 'failed', problem) : this.apply(command)));
        return this.applying;
    }

    remember(commandId) {
        this.seen.add(commandId);
        if (this.seen.size > REMEMBERED_COMMANDS) {
            this.seen.delete(this.seen.values().next().value);
        }
    }

    acknowledge(commandId, result, reason) {
        this.emit(`acknowledgement of ${commandId}`, (base) => commandAckEvent(base, commandId, result, reason));
        this.onActivity(`Command ${commandId} ${result}${reason ? `: ${reason}` : ''}`);
    }

    async apply(command) {
        if (command.issuedAt < this.shownAt) {
            this.acknowledge(command.commandId, 'failed', `stale: issued at ${command.issuedAtText}, before the status the console shows (since ${timestamp(this.shownAt)})`);
            return;
        }
        if (!this.toolkit) {
            this.acknowledge(command.commandId, 'failed', 'the Omni-Channel toolkit is not available in this console');
            return;
        }
        this.expectedEcho = { commandId: command.commandId, statusId: command.statusId, offline: command.offline, until: Infinity };
        try {
            if (command.offline) {
                const ok = await this.toolkit.logout();
                if (ok === false) {
                    throw new Error('Omni-Channel logout returned false');
                }
            } else {
                await this.toolkit.setServicePresenceStatus(command.statusId);
            }
        } catch (error) {
            this.expectedEcho = null;
            this.acknowledge(command.commandId, 'failed', reasonOf(error));
            return;
        }
        this.shownAt = Math.max(this.shownAt, command.issuedAt);
        if (this.expectedEcho && this.expectedEcho.commandId === command.commandId) {
            this.expectedEcho.until = this.now() + ECHO_WINDOW_MS;
        }
        this.acknowledge(command.commandId, 'applied', null);
    }

    /**
     * Returns the command id if this status change is the echo of the command being applied (same
     * status, or a logout for Offline), and forgets the expectation; null otherwise.
     */
    echoOf(offline, statusId) {
        const e = this.expectedEcho;
        if (!e || this.now() > e.until || e.offline !== offline || (!offline && !sameId(e.statusId, statusId))) {
            return null;
        }
        this.expectedEcho = null;
        return e.commandId;
    }

    /** A status change the console made itself (not an echo) moves shownAt to now. */
    shown(commandId) {
        if (!commandId) {
            this.shownAt = Math.max(this.shownAt, this.now());
        }
    }

    /** lightning:omniChannelStatusChanged: {statusId, channels, statusName, statusApiName, reason}. */
    statusChanged(params) {
        const p = params || {};
        const commandId = this.echoOf(false, p.statusId);
        this.shown(commandId);
        this.emit('status change', (base) => statusChangedEvent(base, p, commandId));
        this.onActivity(`Status ${p.statusApiName || p.statusId}`);
    }

    /** lightning:omniChannelLogout. */
    loggedOut() {
        const commandId = this.echoOf(true, null);
        this.shown(commandId);
        this.emit('logout', (base) => logoutEvent(base, commandId));
        this.onActivity('Logged out of Omni-Channel');
    }

    /**
     * lightning:omniChannelWorkAccepted: {workItemId, workId}. The channel is looked up first
     * (serviceChannelOf), so the event's time is when the work was accepted, not when the lookup
     * answered. Returns a Promise that settles when the event is queued or dropped.
     */
    async workAccepted(params) {
        const p = params || {};
        const time = this.now();
        let serviceChannel = null;
        try {
            serviceChannel = this.serviceChannelOf ? await this.serviceChannelOf(p.workId) : null;
        } catch (error) {
            this.log.error(`Omnibridge: could not look up the service channel of work ${p.workId}: ${reasonOf(error)}`);
        }
        this.emit(`accepted work ${p.workItemId}`, (base) => workAcceptedEvent({ ...base, time }, { workItemId: p.workItemId, serviceChannel }));
    }

    /** lightning:omniChannelWorkloadChanged: {configuredCapacity, previousWorkload, newWorkload}. */
    workloadChanged(params) {
        this.emit('workload change', (base) => workloadChangedEvent(base, params || {}));
    }

    /** Stops sending (the component was removed). */
    close() {
        this.outbox.close();
    }
}
