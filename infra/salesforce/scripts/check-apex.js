#!/usr/bin/env node
// Parses every Apex class (.cls) and trigger (.trigger) of the Salesforce package with
// @apexdevtools/apex-parser, the grammar of the platform compiler, and fails with file:line:column
// on any lexer or parser error. No org is needed.
//
//   node scripts/check-apex.js              check the package
//   node scripts/check-apex.js --self-test  prove the check rejects broken Apex
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { ApexParserFactory, ApexErrorListener } = require('@apexdevtools/apex-parser');
const { walk } = require('./lib/files');

const root = path.resolve(__dirname, '..');
const skip = new Set(['node_modules', '.sfdx', '.sf', 'coverage', 'scripts']);

/** Collects syntax errors as "line:column message". */
class Collector extends ApexErrorListener {
  constructor() {
    super();
    this.errors = [];
  }
  apexSyntaxError(line, column, msg) {
    this.errors.push(`${line}:${column} ${msg}`);
  }
}

/** Returns the syntax errors of one Apex source; kind is "cls" or "trigger". */
function parseErrors(source, kind) {
  const listener = new Collector();
  const { parser } = ApexParserFactory.createLexerAndParser(source, listener);
  if (kind === 'trigger') parser.triggerUnit();
  else parser.compilationUnit();
  return listener.errors;
}

/** Checks the files and returns one "file:line:column message" per error. */
function check(files) {
  const out = [];
  for (const file of files) {
    const kind = path.extname(file).slice(1);
    for (const e of parseErrors(fs.readFileSync(file, 'utf8'), kind)) {
      out.push(`${path.relative(process.cwd(), file)}:${e}`);
    }
  }
  return out;
}

/** Proves the parser catches what it must: a broken class and a broken trigger fail. */
function selfTest() {
  const cases = [
    { name: 'valid class', kind: 'cls', src: 'public class A { public static Integer f() { return 1; } }', bad: false },
    { name: 'valid trigger', kind: 'trigger', src: 'trigger T on Account (after insert) { System.debug(Trigger.new); }', bad: false },
    { name: 'missing semicolon', kind: 'cls', src: 'public class A { Integer x = 1 }', bad: true },
    { name: 'unclosed class', kind: 'cls', src: 'public class A { void f() {}', bad: true },
    { name: 'bad string escape', kind: 'cls', src: "public class A { String s = 'a\\qb'; }", bad: true },
    { name: 'trigger without event', kind: 'trigger', src: 'trigger T on Account () {}', bad: true },
  ];
  let failed = 0;
  for (const c of cases) {
    const errors = parseErrors(c.src, c.kind);
    if ((errors.length > 0) !== c.bad) {
      failed++;
      console.error(`self-test ${c.name}: expected ${c.bad ? 'errors' : 'none'}, got ${JSON.stringify(errors)}`);
    }
  }
  if (failed) {
    console.error(`check-apex self-test: ${failed} case(s) failed`);
    process.exit(1);
  }
  console.log(`check-apex self-test: ${cases.length} cases ok`);
}

if (process.argv.includes('--self-test')) {
  selfTest();
} else {
  const files = walk(root, skip).filter((f) => f.endsWith('.cls') || f.endsWith('.trigger'));
  if (files.length === 0) {
    console.error('check-apex: no .cls or .trigger files found under ' + root);
    process.exit(1);
  }
  const errors = check(files);
  if (errors.length) {
    for (const e of errors) console.error(e);
    console.error(`check-apex: ${errors.length} syntax error(s)`);
    process.exit(1);
  }
  console.log(`check-apex: ${files.length} Apex files parse`);
}

module.exports = { parseErrors, check };
