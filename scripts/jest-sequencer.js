// Jest test sequencer: longest test files first, also on a machine that has never run the suite.
//
// Two workers share ~120 files. Jest hands each free worker the next file in its sorted order, so a long file that
// comes late keeps one worker busy while the other idles: the run's tail. Jest's own sequencer sorts by the
// durations of the previous run in its cache (longest first), but CI starts from a clean machine without that cache,
// where jest falls back to file size; the long files here are not the big ones (test/package/layers.test.ts, 40
// lines, runs ESLint over the repository), so they landed last. This sequencer takes each file's duration from
// jest's cache when this machine has one, else from test/durations.json (recorded from a full run with
// `node scripts/record-test-durations.js <jest --json output>`), and keeps the rest of jest's order: files that
// failed last time first, files without any duration (new ones) next, largest first.
const { readFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const RECORDED = join(__dirname, '..', 'test', 'durations.json');

function recordedDurations() {
  try {
    return JSON.parse(readFileSync(RECORDED, 'utf8')).seconds;
  } catch {
    return {};
  }
}

class RecordedDurationSequencer extends Sequencer {
  constructor(options) {
    super(options);
    this.recorded = recordedDurations();
  }

  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const seconds = this.recorded[relative(test.context.config.rootDir, test.path).split('\\').join('/')];
    return seconds == null ? undefined : seconds * 1000;
  }
}

module.exports = RecordedDurationSequencer;
