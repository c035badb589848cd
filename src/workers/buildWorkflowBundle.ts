/**
 * The second half of `npm run build`: bundles the compiled workflow code (dist/workflows) into
 * dist/workflow-bundle.js, which compiled workers load instead of running webpack at every start,
 * and records the build id (NOTIFY_BUILD_ID, else the git commit) in dist/build-id, which a
 * versioned worker of this build runs as (src/workers/versioning.ts).
 */
import { rm, writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { BUILD_ID_FILE, gitBuildId } from './versioning';
import { PREBUILT_WORKFLOW_BUNDLE, RUNNING_COMPILED, WORKFLOW_BUNDLE_OPTIONS } from './workflowCode';

async function main(): Promise<void> {
  if (!RUNNING_COMPILED) throw new Error('run this through `npm run build` (node dist/workers/buildWorkflowBundle.js), not from the sources');
  const started = Date.now();
  const { code } = await bundleWorkflowCode(WORKFLOW_BUNDLE_OPTIONS);
  await writeFile(PREBUILT_WORKFLOW_BUNDLE, code);
  console.log(`workflow bundle ${PREBUILT_WORKFLOW_BUNDLE} (${Math.round(code.length / 1024)} KiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const buildId = process.env.NOTIFY_BUILD_ID || gitBuildId();
  if (buildId) {
    await writeFile(BUILD_ID_FILE, `${buildId}\n`);
    console.log(`build id ${buildId} (${BUILD_ID_FILE})`);
  } else {
    // No git checkout (a Docker build) and no NOTIFY_BUILD_ID: a versioned worker then needs NOTIFY_BUILD_ID at run time.
    await rm(BUILD_ID_FILE, { force: true });
    console.log('no build id recorded (no git checkout, NOTIFY_BUILD_ID unset)');
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
