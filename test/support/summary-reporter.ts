/**
 * Ends every test run with one plain line, `tests: N passed, N failed, N skipped`, that CI and
 * people can read without parsing vitest's colourful summary. A file that failed outside its
 * tests (a failing beforeAll leaves its tests "skipped") and every unhandled error count as
 * failures, so the line never says "0 failed" for a red run.
 */
import type { Reporter, SerializedError, TestModule } from 'vitest/node'

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const counts = { passed: 0, failed: unhandledErrors.length, skipped: 0 }
    for (const module of testModules) {
      let failedHere = 0
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') counts.passed++
        else if (state === 'failed') failedHere++
        else counts.skipped++
      }
      if (module.state() === 'failed' && failedHere === 0) failedHere = 1
      counts.failed += failedHere
    }
    process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`)
  }
}
