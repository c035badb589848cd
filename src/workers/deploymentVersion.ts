/**
 * Making a Worker Deployment Version current, for the one place that does it by itself: `npm start`,
 * whose single in-process worker is the whole local stack. In production an operator decides when a
 * build becomes current (`temporal worker deployment set-current-version`, docs/operations.md).
 */
import type { Client } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sets `version` current once the server knows it (a version exists from its workers' first poll),
 * retrying for `timeoutMs`. Throws the server's last answer when it never succeeds.
 */
export async function makeVersionCurrent(client: Client, namespace: string, version: WorkerDeploymentVersion, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.workflowService.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: version.deploymentName,
        buildId: version.buildId,
        identity: 'npm start',
      });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`could not make ${version.deploymentName} build ${version.buildId} current: ${(error as Error).message}`);
      await sleep(500);
    }
  }
}
