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
    session: compilerFor(loadJSON(path.join(contractsDir, 'session-webhook.v1.schema.json')))
};

function schemaFor(file) {
    const kind = file.split('-')[0];
    if (!schemas[kind]) {
        throw new Error(`example ${file} must be named presence-*.json or session-*.json`);
    }
    return schemas[kind];
}

const examples = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.json')).sort();

describe('contract examples', () => {
    it('exist for both webhooks', () => {
        expect(examples.some((f) => f.startsWith('session-'))).toBe(true);
        expect(examples.some((f) => f.startsWith('presence-'))).toBe(true);
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
