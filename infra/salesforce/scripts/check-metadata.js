#!/usr/bin/env node
// Offline metadata checks of the Salesforce package (no org needed). Fails, naming file and line,
// when:
//   - a -meta.xml file is not well-formed XML (fast-xml-parser's XMLValidator);
//   - an API version is below 62.0 (sfdx-project.json, and the apiVersion every class, trigger,
//     flow, LWC and Aura bundle must carry), or a class or trigger lacks its -meta.xml;
//   - Apex, a trigger, a flow or the console's JavaScript or markup (aura/, lwc/) names a custom field (X__c) or
//     platform event (X__e) that the package's object metadata does not define (namespaced names,
//     such as a managed package's, are not ours and are skipped);
//   - a permission set grants a custom object or field the package does not define, or field
//     permissions on a required or master-detail field (the platform refuses those: such fields
//     are always readable and editable with their object);
//   - a session-*.json or case-*.json contract example is not pinned by an Apex test, or the string an Apex test
//     embeds after "// contract-example: <file>" differs from contracts/examples/<file> (Apex
//     tests cannot read repository files, so the test asserts the builders against the embedded
//     string, and this check ties that string to the file);
//   - a permission set grants access to the settings that hold the signing secret.
//
//   node scripts/check-metadata.js              check the package
//   node scripts/check-metadata.js --self-test  prove each check rejects a bad file
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { XMLValidator, XMLParser } = require('fast-xml-parser');
const { walk } = require('./lib/files');

const MIN_API = 62.0;
const PACKAGE_DIRS = ['force-app', 'force-app-distribution-engine'];
const SKIP = new Set(['node_modules', '.sfdx', '.sf', 'coverage', '__tests__']);
/** The custom setting holding the webhook secret: no permission set may grant it. */
const SECRET_SETTINGS = ['Omnibridge_Settings__c'];
/** Permissions that read every custom setting or all data: none of ours may carry them. */
const SECRET_READING_PERMISSIONS = ['ViewAllCustomSettings', 'CustomizeApplication', 'ModifyAllData', 'ViewAllData', 'AuthorApex'];
/** A managed package's name (ns__Name__c): not the package's own, so not checked. */
const NAMESPACED = /^[A-Za-z0-9]+__[A-Za-z0-9_]+__[ce]$/;
/** Metadata files that must name an API version. */
const VERSIONED = ['.cls-meta.xml', '.trigger-meta.xml', '.flow-meta.xml', '.js-meta.xml', '.cmp-meta.xml', '.app-meta.xml', '.evt-meta.xml', '.intf-meta.xml'];

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: () => true });

/** Returns the 1-based line of offset in text. */
function lineOf(text, offset) {
  return text.slice(0, offset).split('\n').length;
}

/** Collects problems as "file:line: message", relative to the working directory. */
class Problems {
  constructor() {
    this.list = [];
  }
  add(file, line, msg) {
    this.list.push(`${path.relative(process.cwd(), file)}:${line}: ${msg}`);
  }
}

/** Every file of the package directories under root. */
function packageFiles(root) {
  return PACKAGE_DIRS.filter((d) => fs.existsSync(path.join(root, d))).flatMap((d) => walk(path.join(root, d), SKIP));
}

function checkWellFormed(files, problems) {
  for (const f of files.filter((f) => f.endsWith('-meta.xml'))) {
    const res = XMLValidator.validate(fs.readFileSync(f, 'utf8'));
    if (res !== true) problems.add(f, res.err.line, `malformed XML: ${res.err.msg}`);
  }
}

function checkApiVersions(root, files, problems) {
  const project = path.join(root, 'sfdx-project.json');
  const v = parseFloat(JSON.parse(fs.readFileSync(project, 'utf8')).sourceApiVersion);
  if (!(v >= MIN_API)) problems.add(project, 1, `sourceApiVersion ${v} is below ${MIN_API.toFixed(1)}`);
  for (const f of files.filter((f) => f.endsWith('-meta.xml'))) {
    const text = fs.readFileSync(f, 'utf8');
    const re = /<apiVersion>\s*([^<]*?)\s*<\/apiVersion>/g;
    let m;
    let found = false;
    while ((m = re.exec(text))) {
      found = true;
      if (!(parseFloat(m[1]) >= MIN_API)) problems.add(f, lineOf(text, m.index), `apiVersion ${m[1]} is below ${MIN_API.toFixed(1)}`);
    }
    if (!found && VERSIONED.some((s) => f.endsWith(s))) problems.add(f, 1, 'no <apiVersion>');
  }
  for (const f of files.filter((f) => f.endsWith('.cls') || f.endsWith('.trigger'))) {
    if (!fs.existsSync(f + '-meta.xml')) problems.add(f, 1, `no ${path.basename(f)}-meta.xml beside it`);
  }
}

/** Contract examples that Apex builders produce, so an Apex test must pin each (prefixes). */
const APEX_EXAMPLE_PREFIXES = ['session-', 'case-'];

/** The package's objects and their fields: Map<object API name, Set<field API name>>. */
function objectSchema(files) {
  const schema = new Map();
  for (const f of files) {
    const m = f.split(path.sep).join('/').match(/\/objects\/([^/]+)\/(?:([^/]+)\.object-meta\.xml|fields\/([^/]+)\.field-meta\.xml)$/);
    if (!m) continue;
    if (!schema.has(m[1])) schema.set(m[1], new Set());
    if (m[3]) schema.get(m[1]).add(m[3]);
  }
  return schema;
}

/**
 * Whether f is source whose field references are checked: Apex, triggers, flows, and the console
 * component's JavaScript and markup (Aura .js/.cmp, LWC .js/.html).
 */
function isReferencingSource(f) {
  const p = f.split(path.sep).join('/');
  return f.endsWith('.cls') || f.endsWith('.trigger') || f.endsWith('.flow-meta.xml') ||
    (/\/(aura|lwc)\//.test(p) && /\.(js|cmp|html)$/.test(f));
}

function checkFieldReferences(files, problems) {
  const schema = objectSchema(files);
  const allFields = new Set([...schema.values()].flatMap((s) => [...s]));
  for (const f of files.filter(isReferencingSource)) {
    const text = fs.readFileSync(f, 'utf8');
    // An optional "Object." qualifier, then a custom name; a namespace prefix ("ns__X__c") is skipped.
    const re = /(?:\b([A-Za-z][A-Za-z0-9_]*?__[ce])\s*\.\s*)?\b([A-Za-z][A-Za-z0-9_]*?__[ce])\b/g;
    let m;
    while ((m = re.exec(text))) {
      const [, qualifier, name] = m;
      const line = lineOf(text, m.index);
      if (NAMESPACED.test(name)) continue;
      if (qualifier && schema.has(qualifier)) {
        if (!schema.get(qualifier).has(name) && !schema.has(name)) problems.add(f, line, `${qualifier} has no field ${name}`);
        continue;
      }
      if (qualifier && !NAMESPACED.test(qualifier)) {
        problems.add(f, line, `${qualifier} is not an object of the package`);
      }
      if (name.endsWith('__e') && !schema.has(name)) problems.add(f, line, `${name} is not a platform event of the package`);
      if (name.endsWith('__c') && !schema.has(name) && !allFields.has(name)) problems.add(f, line, `no object of the package has a field ${name}`);
    }
  }
}

/** Decodes an Apex single-quoted string literal's body. */
function apexString(body) {
  return body.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e) => {
    if (e[0] === 'u' && e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' }[e] ?? e;
  });
}

function checkEmbeddedExamples(root, files, problems) {
  const examplesDir = path.join(root, 'contracts', 'examples');
  const pinned = new Set();
  for (const f of files.filter((f) => f.endsWith('.cls'))) {
    const text = fs.readFileSync(f, 'utf8');
    const re = /\/\/\s*contract-example:\s*(\S+)\s*\n\s*(?:(?:private|public|static|final)\s+)*String\s+\w+\s*=\s*'((?:[^'\\\n]|\\.)*)'\s*;/g;
    let m;
    while ((m = re.exec(text))) {
      const [, name, literal] = m;
      const line = lineOf(text, m.index);
      const file = path.join(examplesDir, name);
      pinned.add(name);
      if (!fs.existsSync(file)) {
        problems.add(f, line, `contract example ${name} does not exist in contracts/examples`);
        continue;
      }
      let want;
      try {
        want = JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8')));
      } catch (e) {
        problems.add(file, 1, `not JSON: ${e.message}`);
        continue;
      }
      const got = apexString(literal);
      if (got !== want) {
        let i = 0;
        while (i < got.length && got[i] === want[i]) i++;
        problems.add(f, line, `embedded ${name} differs from contracts/examples/${name} at character ${i}: ` +
          `test has ${JSON.stringify(got.slice(i, i + 40))}, file has ${JSON.stringify(want.slice(i, i + 40))}`);
      }
    }
    const markers = (text.match(/\/\/\s*contract-example:/g) || []).length;
    const matched = (text.match(re) || []).length;
    if (markers !== matched) problems.add(f, 1, `${markers - matched} contract-example marker(s) not followed by a String constant`);
  }
  if (fs.existsSync(examplesDir)) {
    for (const name of fs.readdirSync(examplesDir).filter((n) => APEX_EXAMPLE_PREFIXES.some((p) => n.startsWith(p))).sort()) {
      if (!pinned.has(name)) problems.add(path.join(examplesDir, name), 1, `no Apex test pins this ${name.split('-')[0]} example (// contract-example:)`);
    }
  }
}

function checkSecretAccess(files, problems) {
  for (const f of files.filter((f) => f.endsWith('.permissionset-meta.xml'))) {
    const text = fs.readFileSync(f, 'utf8');
    const ps = (parser.parse(text).PermissionSet || [{}])[0];
    for (const a of ps.customSettingAccesses || []) {
      const name = (a.name || [''])[0];
      if (SECRET_SETTINGS.includes(name)) problems.add(f, lineOf(text, text.indexOf(name)), `grants access to ${name}, which holds the signing secret`);
    }
    for (const p of ps.userPermissions || []) {
      const name = (p.name || [''])[0];
      if (SECRET_READING_PERMISSIONS.includes(name) && (p.enabled || [''])[0] === 'true') {
        problems.add(f, lineOf(text, text.indexOf(`<name>${name}</name>`)), `grants ${name}, which can read the signing secret`);
      }
    }
  }
}

/** The package's custom fields: Map<"Object.Field__c", {type, required}> from their -meta.xml. */
function fieldDefinitions(files) {
  const out = new Map();
  for (const f of files) {
    const m = f.split(path.sep).join('/').match(/\/objects\/([^/]+)\/fields\/([^/]+)\.field-meta\.xml$/);
    if (!m) continue;
    let field = {};
    try {
      field = (parser.parse(fs.readFileSync(f, 'utf8')).CustomField || [{}])[0];
    } catch (e) {
      // checkWellFormed reports it.
    }
    out.set(`${m[1]}.${m[2]}`, { type: (field.type || [''])[0], required: (field.required || [''])[0] === 'true' });
  }
  return out;
}

function checkPermissionSetReferences(files, problems) {
  const schema = objectSchema(files);
  const fields = fieldDefinitions(files);
  const custom = (name) => /__[ce]$/.test(name) && !NAMESPACED.test(name);
  for (const f of files.filter((f) => f.endsWith('.permissionset-meta.xml'))) {
    const text = fs.readFileSync(f, 'utf8');
    const ps = (parser.parse(text).PermissionSet || [{}])[0];
    const line = (s) => lineOf(text, Math.max(0, text.indexOf(s)));
    for (const o of ps.objectPermissions || []) {
      const name = (o.object || [''])[0];
      if (custom(name) && !schema.has(name)) problems.add(f, line(`<object>${name}</object>`), `grants ${name}, which is not an object of the package`);
    }
    for (const p of ps.fieldPermissions || []) {
      const name = (p.field || [''])[0];
      const [object, field] = name.split('.');
      if (!field || !custom(field)) continue;
      const def = fields.get(name);
      if (!def) {
        problems.add(f, line(`<field>${name}</field>`), `grants ${name}, which is not a field of the package`);
      } else if (def.required || def.type === 'MasterDetail') {
        problems.add(f, line(`<field>${name}</field>`), `field permissions on ${name}, a ${def.type === 'MasterDetail' ? 'master-detail' : 'required'} field, which the platform refuses`);
      } else if (custom(object) && !schema.has(object)) {
        problems.add(f, line(`<field>${name}</field>`), `${object} is not an object of the package`);
      }
    }
  }
}

/** Runs every check on the project at root; returns the problems. */
function checkProject(root) {
  const problems = new Problems();
  const files = packageFiles(root);
  checkWellFormed(files, problems);
  checkApiVersions(root, files, problems);
  checkFieldReferences(files, problems);
  checkEmbeddedExamples(root, files, problems);
  checkSecretAccess(files, problems);
  checkPermissionSetReferences(files, problems);
  return { files, problems: problems.list };
}

/** Writes files (path → content) under a fresh temporary project and returns its root. */
function fixture(files) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'omnibridge-check-'));
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), content);
  }
  return root;
}

/** Proves each check catches its fault: a clean fixture passes, and each bad one fails as expected. */
function selfTest() {
  const cls = (api) => `<?xml version="1.0" encoding="UTF-8"?>\n<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>${api}</apiVersion><status>Active</status></ApexClass>\n`;
  const obj = 'force-app/main/default/objects/Thing__e/';
  const good = {
    'sfdx-project.json': '{"sourceApiVersion":"62.0"}',
    [obj + 'Thing__e.object-meta.xml']: '<CustomObject><label>T</label></CustomObject>',
    [obj + 'fields/Known__c.field-meta.xml']: '<CustomField><fullName>Known__c</fullName></CustomField>',
    'force-app/main/default/classes/A.cls': "public class A { Object f(Thing__e t) { return t.Known__c; } Object g() { return n2de__Other__c.x; } }",
    'force-app/main/default/classes/A.cls-meta.xml': cls('62.0'),
    'force-app/main/default/classes/A_Test.cls': "@IsTest class A_Test {\n    // contract-example: session-x.json\n    static final String X = '{\"a\":\"it\\'s\"}';\n}",
    'force-app/main/default/classes/A_Test.cls-meta.xml': cls('63.0'),
    'contracts/examples/session-x.json': '{\n  "a": "it\'s"\n}\n',
    'force-app/main/default/permissionsets/P.permissionset-meta.xml': '<PermissionSet><label>P</label></PermissionSet>',
  };
  const cases = [
    { name: 'clean project', change: {}, want: [] },
    { name: 'malformed XML', change: { [obj + 'Thing__e.object-meta.xml']: '<CustomObject><label>T</CustomObject>' }, want: ['Thing__e.object-meta.xml:1: malformed XML'] },
    { name: 'old class API', change: { 'force-app/main/default/classes/A.cls-meta.xml': cls('61.0') }, want: ['A.cls-meta.xml:2: apiVersion 61.0 is below 62.0'] },
    { name: 'old project API', change: { 'sfdx-project.json': '{"sourceApiVersion":"58.0"}' }, want: ['sfdx-project.json:1: sourceApiVersion 58 is below 62.0'] },
    { name: 'missing apiVersion', change: { 'force-app/main/default/classes/A.cls-meta.xml': '<ApexClass><status>Active</status></ApexClass>' }, want: ['A.cls-meta.xml:1: no <apiVersion>'] },
    { name: 'class without meta', change: { 'force-app/main/default/classes/B.cls': 'public class B {}' }, want: ['B.cls:1: no B.cls-meta.xml beside it'] },
    { name: 'unknown field', change: { 'force-app/main/default/classes/B.cls': 'public class B {\n Object f(Thing__e t) { return t.Missing__c; } }', 'force-app/main/default/classes/B.cls-meta.xml': cls('62.0') }, want: ['B.cls:2: no object of the package has a field Missing__c'] },
    { name: 'qualified unknown field', change: { 'force-app/main/default/classes/B.cls': 'public class B { String s = Schema.SObjectType.Thing__e.fields.Known__c.getName(); Object o = Thing__e.Nope__c; }', 'force-app/main/default/classes/B.cls-meta.xml': cls('62.0') }, want: ['B.cls:1: Thing__e has no field Nope__c'] },
    { name: 'unknown event', change: { 'force-app/main/default/lwc/c/c.js': "const CHANNEL = '/event/Other__e';" }, want: ['c.js:1: Other__e is not a platform event of the package'] },
    { name: 'field in an Aura controller', change: { 'force-app/main/default/aura/C/CController.js': "({ f: function (m) {\n return m.data.payload.Gone__c; } })" }, want: ['CController.js:2: no object of the package has a field Gone__c'] },
    { name: 'field in Aura markup', change: { 'force-app/main/default/aura/C/C.cmp': '<aura:component>\n<aura:attribute name="x" default="Thing__e.Nope__c"/></aura:component>' }, want: ['C.cmp:2: Thing__e has no field Nope__c'] },
    { name: 'field in an LWC template', change: { 'force-app/main/default/lwc/c/c.html': '<template>{record.Gone__c}</template>' }, want: ['c.html:1: no object of the package has a field Gone__c'] },
    { name: 'known fields in console JS', change: { 'force-app/main/default/lwc/c/c.js': "const CHANNEL = '/event/Thing__e'; const f = (p) => p.Known__c;" }, want: [] },
    { name: 'field in a flow', change: { 'force-app/main/default/flows/F.flow-meta.xml': '<Flow><apiVersion>62.0</apiVersion>\n<field>Gone__c</field></Flow>' }, want: ['F.flow-meta.xml:2: no object of the package has a field Gone__c'] },
    { name: 'example drift', change: { 'contracts/examples/session-x.json': '{"a":"its"}' }, want: ['A_Test.cls:2: embedded session-x.json differs'] },
    { name: 'unpinned example', change: { 'contracts/examples/session-y.json': '{}' }, want: ['session-y.json:1: no Apex test pins this session example'] },
    { name: 'marker without constant', change: { 'force-app/main/default/classes/A_Test.cls': "@IsTest class A_Test {\n // contract-example: session-x.json\n static String x() { return ''; } }" }, want: ['A_Test.cls:1: 1 contract-example marker(s) not followed by a String constant', 'session-x.json:1: no Apex test pins'] },
    { name: 'unpinned case example', change: { 'contracts/examples/case-y.json': '{}' }, want: ['case-y.json:1: no Apex test pins this case example'] },
    { name: 'permission set grants a field of the package', change: { 'force-app/main/default/permissionsets/P.permissionset-meta.xml': '<PermissionSet><fieldPermissions><editable>false</editable><field>Thing__e.Known__c</field><readable>true</readable></fieldPermissions><objectPermissions><allowRead>true</allowRead><object>Thing__e</object></objectPermissions><objectPermissions><allowRead>true</allowRead><object>Case</object></objectPermissions></PermissionSet>' }, want: [] },
    { name: 'permission set grants unknown object and field', change: { 'force-app/main/default/permissionsets/P.permissionset-meta.xml': '<PermissionSet>\n<fieldPermissions><editable>false</editable><field>Case.Gone__c</field><readable>true</readable></fieldPermissions>\n<objectPermissions><allowRead>true</allowRead><object>Gone__c</object></objectPermissions></PermissionSet>' }, want: ['P.permissionset-meta.xml:2: grants Case.Gone__c, which is not a field', 'P.permissionset-meta.xml:3: grants Gone__c, which is not an object'] },
    { name: 'field permissions on required and master-detail fields', change: {
      [obj + 'fields/Must__c.field-meta.xml']: '<CustomField><fullName>Must__c</fullName><required>true</required><type>Text</type></CustomField>',
      [obj + 'fields/Parent__c.field-meta.xml']: '<CustomField><fullName>Parent__c</fullName><type>MasterDetail</type></CustomField>',
      'force-app/main/default/permissionsets/P.permissionset-meta.xml': '<PermissionSet>\n<fieldPermissions><editable>true</editable><field>Thing__e.Must__c</field><readable>true</readable></fieldPermissions>\n<fieldPermissions><editable>true</editable><field>Thing__e.Parent__c</field><readable>true</readable></fieldPermissions></PermissionSet>' },
      want: ['P.permissionset-meta.xml:2: field permissions on Thing__e.Must__c, a required field', 'P.permissionset-meta.xml:3: field permissions on Thing__e.Parent__c, a master-detail field'] },
    { name: 'secret granted', change: { 'force-app/main/default/permissionsets/P.permissionset-meta.xml': '<PermissionSet>\n<customSettingAccesses><enabled>true</enabled><name>Omnibridge_Settings__c</name></customSettingAccesses>\n<userPermissions><enabled>true</enabled><name>ViewAllCustomSettings</name></userPermissions></PermissionSet>' }, want: ['P.permissionset-meta.xml:2: grants access to Omnibridge_Settings__c', 'P.permissionset-meta.xml:3: grants ViewAllCustomSettings'] },
  ];
  let failed = 0;
  for (const c of cases) {
    const root = fixture({ ...good, ...c.change });
    const cwd = process.cwd();
    process.chdir(root);
    let got;
    try {
      got = checkProject(root).problems;
    } finally {
      process.chdir(cwd);
      fs.rmSync(root, { recursive: true, force: true });
    }
    const missing = c.want.filter((w) => !got.some((g) => g.includes(w)));
    const extra = got.filter((g) => !c.want.some((w) => g.includes(w)));
    if (missing.length || extra.length) {
      failed++;
      console.error(`self-test ${c.name}: missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(extra)}`);
    }
  }
  if (failed) {
    console.error(`check-metadata self-test: ${failed} case(s) failed`);
    process.exit(1);
  }
  console.log(`check-metadata self-test: ${cases.length} cases ok`);
}

if (require.main === module) {
  if (process.argv.includes('--self-test')) {
    selfTest();
  } else {
    const root = path.resolve(__dirname, '..');
    const { files, problems } = checkProject(root);
    if (problems.length) {
      for (const p of problems) console.error(p);
      console.error(`check-metadata: ${problems.length} problem(s)`);
      process.exit(1);
    }
    console.log(`check-metadata: ${files.length} package files ok`);
  }
}

module.exports = { checkProject };
