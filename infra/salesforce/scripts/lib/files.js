'use strict';
// File walking shared by the offline checks.

const fs = require('node:fs');
const path = require('node:path');

/** Returns every file under dir, sorted, skipping directories whose name is in skip. */
function walk(dir, skip = new Set()) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, skip));
    else out.push(p);
  }
  return out.sort();
}

module.exports = { walk };
