// Prints a plain closing line ("Tests: N passed, N failed, N skipped") that CI tooling can read in any language.
// Jest prints its own summary after custom reporters run, so the line is written when the process exits.
// With JEST_TRACE_FILES set (CI), it also prints each test file as it starts, so a run stopped by a watchdog
// shows which file was running.
class SummaryReporter {
  onTestFileStart(test) {
    if (!process.env.JEST_TRACE_FILES) return;
    process.stderr.write(`[${new Date().toISOString()}] start ${test.path.replace(`${process.cwd()}/`, '')}\n`);
  }

  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `\nTests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`;
    process.once('exit', () => process.stderr.write(line));
  }
}
module.exports = SummaryReporter;
