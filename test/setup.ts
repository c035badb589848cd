// Preloaded into every test process (see the test script in package.json): the Temporal
// runtime logs warnings and errors only, so that a failing assertion is not buried under
// "worker state changed" lines. Workers started as child processes log as in production.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
