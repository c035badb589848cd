/**
 * The production worker (src/workers/main.ts) as a child process, so that a test can kill it
 * with SIGKILL the way a crashed host would, and start another. The end-to-end tests of the fast
 * suite run it from the TypeScript sources (no build needed); the cluster tests run the compiled
 * build, as the cluster does (src/stack/workerProcess.ts, which this wraps).
 */
import { existsSync } from 'node:fs';
import { spawnWorkerProcess, workerEnvironment, type WorkerProcess } from '../../src/stack/workerProcess';

export { workerEnvironment, type WorkerProcess };

/** Debian's libfaketime (package faketime), which shifts a process's wall clock. */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'];

/**
 * A worker from the sources with this environment (see workerEnvironment). With
 * `clockOffsetSeconds` its wall clock runs that far ahead (or, negative, behind) of this machine's,
 * as on a host whose time synchronisation failed; its monotonic clock is left alone, as NTP leaves it.
 */
export function spawnWorker(env: NodeJS.ProcessEnv, options: { clockOffsetSeconds?: number; name?: string } = {}): WorkerProcess {
  if (!options.clockOffsetSeconds) return spawnWorkerProcess({ env, code: 'sources', name: options.name });
  const library = LIBFAKETIME.find((path) => existsSync(path));
  if (!library) throw new Error(`libfaketime is missing (${LIBFAKETIME.join(' or ')}): install Debian's faketime package`);
  const offset = `${options.clockOffsetSeconds > 0 ? '+' : ''}${options.clockOffsetSeconds}s`;
  return spawnWorkerProcess({
    env: { ...env, LD_PRELOAD: library, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    code: 'sources',
    name: options.name,
  });
}
