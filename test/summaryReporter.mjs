// A node:test reporter that closes the run with one plain line, "Tests: N passed, N failed",
// counting tests (not suites); a test file that crashed counts as a failed test.
export default async function* summaryReporter(source) {
  let passed = 0;
  let failed = 0;
  for await (const event of source) {
    const type = event.data?.details?.type;
    if (event.type === 'test:pass' && type !== 'suite') passed += 1;
    if (event.type === 'test:fail' && type !== 'suite') failed += 1;
  }
  yield `Tests: ${passed} passed, ${failed} failed\n`;
}
