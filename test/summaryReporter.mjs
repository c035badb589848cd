// A node:test reporter that closes the run with one plain line, "Tests: N passed, N failed",
// counting tests (not suites); a test file that crashed counts as a failed test. A `todo` test
// runs but does not fail the run (an assertion that waits for work in progress elsewhere): it is
// counted apart, with whether it passed yet, so that it is seen and not mistaken for a failure.
export default async function* summaryReporter(source) {
  let passed = 0;
  let failed = 0;
  const todo = { passing: 0, failing: 0 };
  for await (const event of source) {
    const type = event.data?.details?.type;
    if (type === 'suite' || (event.type !== 'test:pass' && event.type !== 'test:fail')) continue;
    if (event.data.todo !== undefined && event.data.todo !== false) todo[event.type === 'test:pass' ? 'passing' : 'failing'] += 1;
    else if (event.type === 'test:pass') passed += 1;
    else failed += 1;
  }
  const todoText = todo.passing + todo.failing > 0 ? `, ${todo.passing + todo.failing} todo (${todo.failing} still failing)` : '';
  yield `Tests: ${passed} passed, ${failed} failed${todoText}\n`;
}
