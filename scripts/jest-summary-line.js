// Prints the plain closing line "N passed, N failed" (", N skipped") that CI reads; jest's own summary is not one it
// knows. Written when the process exits, so that it is the last line, after jest's summary.
class SummaryLineReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
    process.once('exit', () => process.stderr.write(line));
  }
}
module.exports = SummaryLineReporter;
