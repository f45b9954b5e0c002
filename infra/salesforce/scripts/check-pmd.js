#!/usr/bin/env node
// Static analysis of the package's Apex with PMD (the Apex rules Salesforce Code Analyzer runs),
// offline: the PMD jars come with the pinned npm package @salesforce/code-analyzer-pmd-engine and
// run on the machine's Java (17 or later). Rules: scripts/pmd/ruleset.xml. Fails on any violation.
'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const lib = path.join(path.dirname(require.resolve('@salesforce/code-analyzer-pmd-engine/package.json')), 'dist', 'java-lib');
const args = [
  '-cp', path.join(lib, '*'),
  path.join(__dirname, 'pmd', 'RunPmd.java'),
  path.join(__dirname, 'pmd', 'ruleset.xml'),
  path.join(root, 'force-app'),
  path.join(root, 'force-app-distribution-engine'),
];
const res = spawnSync('java', args, { encoding: 'utf8' });
if (res.error) {
  console.error(`check-pmd: cannot run java (${res.error.message}); PMD needs Java 17 or later`);
  process.exit(1);
}
process.stdout.write(res.stdout.split(root + path.sep).join(''));
process.stderr.write(res.stderr);
process.exit(res.status === 0 ? 0 : 1);
