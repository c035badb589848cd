// Preloaded into every test process (see the test script in package.json): the Temporal runtime
// logs warnings and errors only, so that a failing assertion is not buried under "worker state
// changed" lines. Plain JavaScript, and only on the main thread: Node passes --import on to the
// SDK's workflow threads too. Workers started as child processes log as in production.
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  const { DefaultLogger, Runtime } = await import('@temporalio/worker');
  Runtime.install({ logger: new DefaultLogger('WARN') });
}
