// Writes test/durations.json, the per-file durations scripts/jest-sequencer.js orders a fresh machine's run by, from
// the output of a full run: `npx jest --json --outputFile=/tmp/jest.json && node scripts/record-test-durations.js
// /tmp/jest.json`. Only the order matters (longest first), so a run on a loaded machine serves as well as an idle
// one; re-record when files are added or a file's cost changes a lot.
const { readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const input = process.argv[2];
if (!input) {
  console.error('usage: node scripts/record-test-durations.js <jest --json output file>');
  process.exit(2);
}
const run = JSON.parse(readFileSync(input, 'utf8'));
const seconds = {};
for (const file of run.testResults.sort((a, b) => (b.endTime - b.startTime) - (a.endTime - a.startTime))) {
  seconds[relative(root, file.name).split('\\').join('/')] = Math.round((file.endTime - file.startTime) / 100) / 10;
}
const out = join(root, 'test', 'durations.json');
writeFileSync(out, `${JSON.stringify({ about: 'seconds per test file, longest first: the order scripts/jest-sequencer.js runs them in on a machine without jest\'s cache (written by scripts/record-test-durations.js)', seconds }, null, 1)}\n`);
console.error(`wrote ${relative(root, out)}: ${Object.keys(seconds).length} files`);
