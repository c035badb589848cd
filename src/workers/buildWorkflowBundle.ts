/**
 * The second half of `npm run build`: bundles the compiled workflow code (dist/workflows) into
 * dist/workflow-bundle.js, which compiled workers load instead of running webpack at every start.
 */
import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PREBUILT_WORKFLOW_BUNDLE, RUNNING_COMPILED, WORKFLOW_BUNDLE_OPTIONS } from './workflowCode';

async function main(): Promise<void> {
  if (!RUNNING_COMPILED) throw new Error('run this through `npm run build` (node dist/workers/buildWorkflowBundle.js), not from the sources');
  const started = Date.now();
  const { code } = await bundleWorkflowCode(WORKFLOW_BUNDLE_OPTIONS);
  await writeFile(PREBUILT_WORKFLOW_BUNDLE, code);
  console.log(`workflow bundle ${PREBUILT_WORKFLOW_BUNDLE} (${Math.round(code.length / 1024)} KiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
