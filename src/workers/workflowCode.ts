/**
 * Where a worker gets its workflow code. Compiled (`npm run build`, what the worker process,
 * the Dockerfile and the cluster run) it loads the bundle built ahead of time, as Temporal advises
 * for production: no webpack at start, less memory, and every replica runs the same bytes. From
 * the TypeScript sources (tsx: `npm start`, tests, development) it bundles them at start, so an
 * edit needs no build.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleOptions, WorkerOptions } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../security/dataConverter';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Evaluated once per workflow thread and shared by every workflow, instead of once for each new
 * workflow: what src/workflows/sharedModules.ts imports, and why each is safe to share.
 */
export const SHARED_WORKFLOW_MODULES = [require.resolve('../workflows/sharedModules')];

/**
 * How the workflow code is bundled, at start and by `npm run build` alike. A worker given a
 * prebuilt bundle adds nothing to it: the failure converter that encrypts failure messages must be
 * bundled in, or a compiled worker would write them in plain text.
 */
export const WORKFLOW_BUNDLE_OPTIONS = {
  workflowsPath: WORKFLOWS_PATH,
  failureConverterPath: FAILURE_CONVERTER_PATH,
  preloadModules: SHARED_WORKFLOW_MODULES,
} satisfies BundleOptions;

/** True when this module runs as compiled JavaScript (dist/), false under tsx. */
export const RUNNING_COMPILED = __filename.endsWith('.js');

/** dist/workflow-bundle.js, written by `npm run build` (src/workers/buildWorkflowBundle.ts). */
export const PREBUILT_WORKFLOW_BUNDLE = join(__dirname, '..', 'workflow-bundle.js');

export class WorkflowBundleMissingError extends Error {
  override readonly name = 'WorkflowBundleMissingError';
}

export function workflowCodeOptions(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'bundlerOptions'> {
  // Bundled at start, the worker adds its data converter's failure converter itself.
  if (!RUNNING_COMPILED) return { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: SHARED_WORKFLOW_MODULES } };
  if (!existsSync(PREBUILT_WORKFLOW_BUNDLE)) {
    throw new WorkflowBundleMissingError(`${PREBUILT_WORKFLOW_BUNDLE} is missing: run \`npm run build\`, which compiles the worker and writes its workflow bundle`);
  }
  return { workflowBundle: { codePath: PREBUILT_WORKFLOW_BUNDLE } };
}
