/**
 * Worker Versioning: which Worker Deployment and build id a worker runs as. The build id is the
 * build's: NOTIFY_BUILD_ID when set; else what `npm run build` recorded in dist/build-id (the git
 * commit it was built from, or NOTIFY_BUILD_ID at build time, as the Dockerfile passes it); else,
 * from the sources, their git commit, with `-dirty` when src/ has changes not committed.
 *
 * The versioning behaviour of each workflow type is set with the workflow code
 * (src/workflows/versioningBehaviors.ts); a worker's default applies only to a type that sets none.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import type { Config } from '../config';
import { RUNNING_COMPILED } from './workflowCode';

/** dist/build-id: written by `npm run build` next to the workflow bundle. */
export const BUILD_ID_FILE = join(__dirname, '..', 'build-id');

const PROJECT_ROOT = join(__dirname, '..', '..');

export class BuildIdUnknownError extends Error {
  override readonly name = 'BuildIdUnknownError';
}

/** The git commit of the working tree (12 hex digits), `-dirty` when src/ or the lock file changed; undefined outside a git checkout. */
export function gitBuildId(root = PROJECT_ROOT): string | undefined {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changes = execFileSync('git', ['status', '--porcelain', '--', 'src', 'package-lock.json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return changes ? `${commit}-dirty` : commit;
  } catch {
    return undefined;
  }
}

/** The build id this worker runs as (see the file's comment); throws BuildIdUnknownError when none can be found. */
export function resolveBuildId(configured: string | undefined): string {
  if (configured) return configured;
  if (RUNNING_COMPILED && existsSync(BUILD_ID_FILE)) {
    const recorded = readFileSync(BUILD_ID_FILE, 'utf8').trim();
    if (recorded) return recorded;
  }
  const fromGit = gitBuildId();
  if (fromGit) return fromGit;
  throw new BuildIdUnknownError(
    'NOTIFY_WORKER_DEPLOYMENT_NAME is set but no build id was found: set NOTIFY_BUILD_ID, or build with `npm run build` in a git checkout ' +
      '(or with NOTIFY_BUILD_ID set at build time), so that dist/build-id names the build',
  );
}

/**
 * The worker's deployment options, or undefined for an unversioned worker (NOTIFY_WORKER_DEPLOYMENT_NAME
 * unset). Every workflow type sets its own behaviour; the default covers one added without it, as
 * AUTO_UPGRADE, the behaviour that never strands a workflow on workers that are gone.
 */
export function workerDeploymentOptions(versioning: Config['versioning']): WorkerDeploymentOptions | undefined {
  if (!versioning) return undefined;
  return {
    version: { deploymentName: versioning.deploymentName, buildId: resolveBuildId(versioning.buildId) },
    useWorkerVersioning: true,
    defaultVersioningBehavior: 'AUTO_UPGRADE',
  };
}
