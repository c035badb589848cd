/**
 * The production worker (src/workers/main.ts) as a child process, so that a test can kill it
 * with SIGKILL the way a crashed host would, and start another. The end-to-end tests of the fast
 * suite run it from the TypeScript sources (no build needed); the cluster tests run the compiled
 * build, as the cluster does (src/stack/workerProcess.ts, which this wraps).
 */
import { spawnWorkerProcess, workerEnvironment, type WorkerProcess } from '../../src/stack/workerProcess';

export { workerEnvironment, type WorkerProcess };

/** A worker from the sources with this environment (see workerEnvironment). */
export function spawnWorker(env: NodeJS.ProcessEnv): WorkerProcess {
  return spawnWorkerProcess({ env, code: 'sources' });
}
