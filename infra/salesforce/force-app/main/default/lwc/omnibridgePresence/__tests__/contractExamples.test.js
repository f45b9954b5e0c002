// The presence contract examples (contracts/examples/presence-*.json) are what the console
// produces: each is made here by a PresenceBridge fed toolkit events and platform-event messages
// on a fixed clock with fixed ids, and must equal the file byte for byte (the events array as the
// console serializes it). The envelope around the events is Apex's (Omnibridge_WebhookClient):
// Omnibridge_ConsoleController_Test pins presence-batch-mixed.json's envelope, ajv validates every
// example against the schema (contracts/__tests__), and the Go decoder decodes each
// (shared/sfevents TestContractExamplesDecode).
//
// After a deliberate change of the builders: UPDATE_CONTRACT_EXAMPLES=1 npm run test:unit, then
// review the diff (and re-embed presence-batch-mixed.json in the Apex test; check:metadata says
// when it differs).
import fs from 'fs';
import path from 'path';
import { PresenceBridge } from 'c/omnibridgePresence';

const EXAMPLES = path.resolve(__dirname, '../../../../../../contracts/examples');
// Fixed inputs: the org's id and send time are Apex's part of the body.
const ORG_ID = '00D5e000000Hkp2EAC';
const SENT_AT = '2026-11-21T08:59:59.500Z';
const USER = '0055e000003AbCdAAK';
const OTHER_USER = '0055e000004QrStAAK';
const BUSY = '0N55e000000ABCE';
const AVAILABLE = '0N55e000000ABCD';
const CHANNELS = '[{"channelId":"0N95e0000000001","developerName":"sfdc_phone"},{"channelId":"0N95e0000000002","developerName":"Case_Channel"}]';

function at(time) {
    jest.setSystemTime(Date.parse(time));
}

/** Runs scenario against a bridge on the fixed clock; returns the one events array it sent. */
async function produce(scenario) {
    jest.useFakeTimers();
    at('2026-11-21T08:59:58.000Z');
    const sent = [];
    const errors = [];
    let n = 0;
    const bridge = new PresenceBridge({
        userId: USER,
        send: (eventsJson) => {
            sent.push(eventsJson);
            return Promise.resolve({ statusCode: 202, body: '{"results":[]}' });
        },
        serviceChannelOf: (workId) => Promise.resolve(workId === '0Bz5e000000AbCd' ? 'Case_Channel' : null),
        newId: () => `7c1e2d3f-0a4b-4c5d-9e6f-${String(++n).padStart(12, '0')}`,
        log: { error: (m) => errors.push(m), warn: (m) => errors.push(m) },
        random: () => 1
    });
    bridge.toolkit = {
        setServicePresenceStatus: (statusId) => {
            // Omni-Channel fires its status event while the call is under way.
            bridge.statusChanged({ statusId, statusName: 'Busy', statusApiName: 'Busy', channels: '[{"channelId":"0N95e0000000001","developerName":"sfdc_phone"}]', reason: 'OmniToolkitStatusChange' });
            return Promise.resolve({ statusId });
        },
        logout: () => Promise.resolve(true)
    };
    await scenario(bridge);
    await jest.advanceTimersByTimeAsync(10000);
    jest.useRealTimers();
    expect(errors).toEqual([]);
    expect(sent).toHaveLength(1);
    return sent[0];
}

function command(over) {
    return { data: { payload: { UserId__c: USER, StatusId__c: BUSY, CommandId__c: '1b7c0e6a2f9d4c3e8a5b6d7e8f9a0b1c', Reason__c: 'rule busy-on-call', IssuedAt__c: '2026-11-21T08:59:58.050Z', ...over } } };
}

const scenarios = {
    'presence-status-changed.json': (bridge) => {
        at('2026-11-21T08:59:58.120Z');
        bridge.statusChanged({ statusId: AVAILABLE, statusName: 'Available', statusApiName: 'Available', channels: CHANNELS, reason: 'OmniManualStatusChange' });
    },
    'presence-logout.json': (bridge) => {
        at('2026-11-21T08:59:55.000Z');
        bridge.loggedOut({});
    },
    'presence-work-accepted.json': (bridge) => {
        at('2026-11-21T08:59:51.100Z');
        return bridge.workAccepted({ workItemId: '5005e00000XyZwQ', workId: '0Bz5e000000AbCd' });
    },
    'presence-workload-changed.json': (bridge) => {
        at('2026-11-21T08:59:51.100Z');
        bridge.workloadChanged({ configuredCapacity: 10, previousWorkload: 5, newWorkload: 10, configuredInterruptibleCapacity: 0 });
    },
    'presence-command-ack.json': async (bridge) => {
        bridge.toolkit.setServicePresenceStatus = () => Promise.reject(new Error('Agent does not have access to the presence status'));
        at('2026-11-21T08:59:58.900Z');
        await bridge.handleCommand(command({ CommandId__c: '9d5ed678fe57bcca610140957afab571' }));
    },
    // One window of a busy console: accepted work and its workload, a command applied (its echo
    // carries the command id), the same command replayed (nothing), an older command (stale), and
    // another agent's command (not ours).
    'presence-batch-mixed.json': async (bridge) => {
        await bridge.workAccepted({ workItemId: '5005e00000XyZwQ', workId: '0Bz5e000000AbCd' });
        bridge.workloadChanged({ configuredCapacity: 10, previousWorkload: 5, newWorkload: 10 });
        at('2026-11-21T08:59:58.100Z');
        await bridge.handleCommand(command());
        at('2026-11-21T08:59:58.150Z');
        await bridge.handleCommand(command());
        at('2026-11-21T08:59:58.200Z');
        await bridge.handleCommand(command({ CommandId__c: '6e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b', StatusId__c: AVAILABLE, IssuedAt__c: '2026-11-21T08:59:57.000Z' }));
        at('2026-11-21T08:59:58.250Z');
        await bridge.handleCommand(command({ UserId__c: OTHER_USER, CommandId__c: '0f0e0d0c0b0a09080706050403020100' }));
    }
};

describe('presence contract examples', () => {
    it('cover every presence example file', () => {
        const files = fs.readdirSync(EXAMPLES).filter((f) => f.startsWith('presence-')).sort();
        expect(files).toEqual(Object.keys(scenarios).sort());
    });

    it.each(Object.keys(scenarios))('%s is what the console sends', async (file) => {
        const eventsJson = await produce(scenarios[file]);
        const body = { schemaVersion: '1', orgId: ORG_ID, sentAt: SENT_AT, events: JSON.parse(eventsJson) };
        const target = path.join(EXAMPLES, file);
        if (process.env.UPDATE_CONTRACT_EXAMPLES) {
            fs.writeFileSync(target, JSON.stringify(body, null, 2) + '\n');
        }
        const example = JSON.parse(fs.readFileSync(target, 'utf8'));
        expect(body).toEqual(example);
        // Byte for byte, keys in the same order: the console's serialization is what Apex embeds.
        expect(eventsJson).toBe(JSON.stringify(example.events));
    });
});
