/**
 * The compiled worker (`npm run build`: dist/ and dist/workflow-bundle.js), which the cluster's
 * worker processes run. Rebuilt when missing or older than any source file, so that a cluster
 * never runs yesterday's code by mistake.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath, runCommand, ToolchainMissingError } from './commands';
import { PROJECT_ROOT } from './cluster/files';
import type { Log } from './progress';
import { timedStep } from './progress';

export const COMPILED_WORKER_MAIN = join(PROJECT_ROOT, 'dist', 'workers', 'main.js');
export const SOURCE_WORKER_MAIN = join(PROJECT_ROOT, 'src', 'workers', 'main.ts');
const BUNDLE = join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');
/** What the build reads besides src/. */
const BUILD_INPUTS = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Why the build must run, or undefined when dist/ is complete and newer than every input. */
export function staleBuildReason(): string | undefined {
  if (!existsSync(COMPILED_WORKER_MAIN) || !existsSync(BUNDLE)) return 'no build yet';
  const built = statSync(BUNDLE).mtimeMs;
  const inputs = [join(PROJECT_ROOT, 'src'), ...BUILD_INPUTS.map((name) => join(PROJECT_ROOT, name)).filter(existsSync)];
  const newest = Math.max(...inputs.map(newestMtime));
  return newest > built ? 'sources changed since the last build' : undefined;
}

/** Runs `npm run build` unless the build is up to date. */
export async function ensureWorkerBuild(log: Log): Promise<void> {
  const reason = staleBuildReason();
  if (!reason) return;
  const npm = findOnPath('npm');
  if (!npm) throw new ToolchainMissingError('npm', 'build the worker (npm run build)');
  await timedStep(log, `building the worker (npm run build: ${reason})`, () => runCommand(npm, ['run', 'build'], { cwd: PROJECT_ROOT }));
}
