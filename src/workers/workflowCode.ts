/**
 * Where a worker gets its workflow code. Compiled (`npm run build`, what the worker process,
 * the Dockerfile and the cluster run) it loads the bundle built ahead of time, as Temporal advises
 * for production: no webpack at start, less memory, and every replica runs the same bytes. From
 * the TypeScript sources (tsx: `npm start`, tests, development) it bundles them at start, so an
 * edit needs no build.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** True when this module runs as compiled JavaScript (dist/), false under tsx. */
export const RUNNING_COMPILED = __filename.endsWith('.js');

/** dist/workflow-bundle.js, written by `npm run build` (src/workers/buildWorkflowBundle.ts). */
export const PREBUILT_WORKFLOW_BUNDLE = join(__dirname, '..', 'workflow-bundle.js');

export class WorkflowBundleMissingError extends Error {
  override readonly name = 'WorkflowBundleMissingError';
}

export function workflowCodeOptions(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (!RUNNING_COMPILED) return { workflowsPath: WORKFLOWS_PATH };
  if (!existsSync(PREBUILT_WORKFLOW_BUNDLE)) {
    throw new WorkflowBundleMissingError(`${PREBUILT_WORKFLOW_BUNDLE} is missing: run \`npm run build\`, which compiles the worker and writes its workflow bundle`);
  }
  return { workflowBundle: { codePath: PREBUILT_WORKFLOW_BUNDLE } };
}
