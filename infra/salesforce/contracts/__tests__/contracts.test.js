// Contract checks that need no org: every example body validates against its JSON schema, and the
// signing test vector in contracts/README.md holds for Node's HMAC (the Apex test class checks the
// same vector with Crypto.generateMac).
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const Ajv2020 = require('ajv/dist/2020');
const Ajv = require('ajv');
const addFormats = require('ajv-formats');

const contractsDir = path.join(__dirname, '..');
const examplesDir = path.join(contractsDir, 'examples');

function loadJSON(file) {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function compilerFor(schema) {
    const draft2020 = String(schema.$schema || '').includes('2020-12');
    const ajv = draft2020 ? new Ajv2020({ strict: false, allErrors: true }) : new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    return ajv.compile(schema);
}

const schemas = {
    presence: compilerFor(loadJSON(path.join(contractsDir, 'presence-webhook.v1.schema.json'))),
    session: compilerFor(loadJSON(path.join(contractsDir, 'session-webhook.v1.schema.json'))),
    case: compilerFor(loadJSON(path.join(contractsDir, 'case-webhook.v1.schema.json')))
};

function schemaFor(file) {
    const kind = file.split('-')[0];
    if (!schemas[kind]) {
        throw new Error(`example ${file} must be named presence-*.json, session-*.json or case-*.json`);
    }
    return schemas[kind];
}

const examples = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.json')).sort();

describe('contract examples', () => {
    it('exist for every webhook', () => {
        for (const kind of Object.keys(schemas)) {
            expect(examples.some((f) => f.startsWith(`${kind}-`))).toBe(true);
        }
    });

    it('cover every case event type', () => {
        const types = new Set(examples.filter((f) => f.startsWith('case-')).flatMap((f) => loadJSON(path.join(examplesDir, f)).events.map((e) => e.type)));
        expect([...types].sort()).toEqual(['case.comment_added', 'case.created', 'case.email_added', 'case.owner_changed']);
    });

    it.each(examples)('%s validates against its schema', (file) => {
        const validate = schemaFor(file);
        const ok = validate(loadJSON(path.join(examplesDir, file)));
        expect(validate.errors).toBeNull();
        expect(ok).toBe(true);
    });

    it('the schemas reject a body that breaks the contract', () => {
        const body = loadJSON(path.join(examplesDir, 'session-login.json'));
        delete body.events[0].userId;
        expect(schemas.session(body)).toBe(false);
    });

    it('the schemas check date-time formats', () => {
        const body = loadJSON(path.join(examplesDir, 'session-login.json'));
        body.events[0].eventDate = 'yesterday';
        expect(schemas.session(body)).toBe(false);
    });
});

describe('case webhook schema', () => {
    const example = (file) => loadJSON(path.join(examplesDir, file));
    const first = (file, change) => {
        const body = example(file);
        change(body.events[0]);
        return body;
    };

    it.each([
        ['an owner change without its previous owner', () => first('case-owner-changed.json', (e) => delete e.previousOwnerId)],
        ['an owner change with a null previous owner', () => first('case-owner-changed.json', (e) => (e.previousOwnerId = null))],
        ['a comment without byOwner', () => first('case-comment-added.json', (e) => delete e.byOwner)],
        ['an email without incoming', () => first('case-email-added.json', (e) => delete e.incoming)],
        ['an email with a comment field', () => first('case-email-added.json', (e) => (e.byOwner = true))],
        ['a created case naming a previous owner', () => first('case-created.json', (e) => (e.previousOwnerId = '00G5e000001Bil1EAC'))],
        ['an unknown event type', () => first('case-created.json', (e) => (e.type = 'case.closed'))],
        ['an unknown field', () => first('case-created.json', (e) => (e.origin = 'Email'))],
        ['a created event id of another shape', () => first('case-created.json', (e) => (e.eventId = 'created'))],
        ['an owner change id without the modstamp', () => first('case-owner-changed.json', (e) => (e.eventId = `${e.caseId}:owner:`))],
        ['a comment id that is no CaseComment id', () => first('case-comment-added.json', (e) => (e.eventId = '02s5e00000Em001AAB'))],
        ['a case id that is no Case id', () => first('case-created.json', (e) => (e.caseId = '0055e000003AbCdAAK'))],
        ['an owner that is neither user nor queue', () => first('case-created.json', (e) => (e.ownerId = '0015e00000Acc01AAA'))],
        ['an actor that is a queue', () => first('case-created.json', (e) => (e.actorId = '00G5e000001QueUEAS'))],
        ['a missing status', () => first('case-created.json', (e) => delete e.status)],
        ['isClosed as a string', () => first('case-created.json', (e) => (e.isClosed = 'false'))],
        ['an empty subject', () => first('case-created.json', (e) => (e.subject = ''))],
        ['skills over 255 characters', () => first('case-created.json', (e) => (e.skills = 'a'.repeat(256)))],
        ['an event date without a zone', () => first('case-created.json', (e) => (e.eventDate = '2026-12-07T09:00:00.000'))],
        ['no events', () => Object.assign(example('case-created.json'), { events: [] })],
        ['501 events', () => Object.assign(example('case-created.json'), { events: Array(501).fill(example('case-created.json').events[0]) })],
        ['another schema version', () => Object.assign(example('case-created.json'), { schemaVersion: '2' })]
    ])('rejects %s', (_, make) => {
        expect(schemas.case(make())).toBe(false);
    });

    it('accepts null subject, priority and skills, and skills it leaves to the bridge to judge', () => {
        expect(schemas.case(first('case-created.json', (e) => Object.assign(e, { subject: null, priority: null, skills: ' Billing|x' })))).toBe(true);
        expect(schemas.case.errors).toBeNull();
    });

    it('keeps previousOwnerId to owner changes, even as null, as the bridge does', () => {
        expect(schemas.case(first('case-created.json', (e) => (e.previousOwnerId = null)))).toBe(false);
    });
});

describe('signature test vector', () => {
    it('matches contracts/README.md', () => {
        const readme = fs.readFileSync(path.join(contractsDir, 'README.md'), 'utf8');
        const m = readme.match(/secret `([^`]+)`, t `(\d+)`, body `([^`]+)` →\s*`v1=([0-9a-f]{64})`/);
        expect(m).not.toBeNull();
        const [, secret, t, body, want] = m;
        const got = crypto.createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
        expect(got).toBe(want);
    });
});
