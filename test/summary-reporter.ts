/**
 * Prints one line at the very end of a run, `tests: N passed, N failed, N skipped`, for CI to
 * parse; used in addition to the default reporter.
 *
 * Counts test cases, not files. A test file that fails outside any test (import error, failing
 * `beforeAll`/`afterAll` whose tests didn't fail) and each unhandled error count as one failed, so
 * the line never reports 0 failed for a failed run. Tests left pending by an interrupted run
 * count as skipped.
 */
import type { Reporter, SerializedError, TestModule, TestRunEndReason, Vitest } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  async onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    _reason: TestRunEndReason,
  ): Promise<void> {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const testModule of testModules) {
      let failedTests = 0;
      for (const test of testModule.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed += 1;
        else if (state === 'failed') {
          counts.failed += 1;
          failedTests += 1;
        } else counts.skipped += 1;
      }
      const moduleFailed = testModule.state() === 'failed' || testModule.errors().length > 0;
      if (moduleFailed && failedTests === 0) counts.failed += 1;
    }
    counts.failed += unhandledErrors.length;
    // Vitest 3 prints the default summary in `onFinished`, started right after `onTestRunEnd`:
    // yield once so this line comes after it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const line = `tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
    if (this.vitest) this.vitest.logger.log(line);
    else process.stdout.write(`${line}\n`);
  }
}
