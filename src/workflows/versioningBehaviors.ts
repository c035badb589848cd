/**
 * The Worker Versioning behaviour of each workflow type, set with the workflow code
 * (`setWorkflowOptions`), so every worker that runs the bundle declares the same. Why each
 * (docs/operations.md, "Deploying"):
 *
 * - notificationWorkflow, AUTO_UPGRADE: a held notification has no history until its first task at
 *   its wake-up, so it runs whatever build is current then, whatever the behaviour. Those that have
 *   a history (changed during the hold, retrying, sending in the lead) move to the current build at
 *   their next task and replay their history there: the golden histories (test/histories) and
 *   `patched()` keep that deterministic. Pinned, a notification retrying for days would keep every
 *   build of those days running, and a fix to the send would never reach it.
 * - morningGateWorkflow, AUTO_UPGRADE: a gate lives from the evening's first registration until
 *   five minutes after its release; pinned, it would keep the build of the evening (and its workers)
 *   until the morning. Its continued-as-new runs start on the current build.
 * - reconcileLegacyQueueWorkflow and complianceReportWorkflow, PINNED: each run is short (under a
 *   minute; the report minutes) and its Schedule starts the next on the current build, so a run
 *   ends on the code it began with and its build drains within minutes, without replaying across builds
 *   (a reconciler run whose queue keeps failing gives up after five minutes, src/workflows/reconcileLegacyQueue.ts).
 * - smokeWorkflow, AUTO_UPGRADE: it sleeps for hours and does one thing.
 *
 * Declared only to a versioned worker: a server refuses a behaviour from an unversioned one ("versioning
 * behavior cannot be specified without deployment options"), which would fail every workflow task. The
 * options are a getter, which the SDK calls before a run's first activation, where
 * `workflowInfo().currentDeploymentVersion` says whether this worker (or, in a replay, the one that
 * ran that task) belongs to a Worker Deployment.
 */
import type { VersioningBehavior, WorkflowDefinitionOptionsOrGetter } from '@temporalio/common';
import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import { complianceReportWorkflow } from './complianceReport';
import { morningGateWorkflow } from './morningGate';
import { notificationWorkflow } from './notification';
import { reconcileLegacyQueueWorkflow } from './reconcileLegacyQueue';
import { smokeWorkflow } from './smoke';

export const VERSIONING_BEHAVIORS = {
  notificationWorkflow: 'AUTO_UPGRADE',
  morningGateWorkflow: 'AUTO_UPGRADE',
  reconcileLegacyQueueWorkflow: 'PINNED',
  complianceReportWorkflow: 'PINNED',
  smokeWorkflow: 'AUTO_UPGRADE',
} as const satisfies Record<string, VersioningBehavior>;

/** The behaviour, for a versioned worker only. */
export function whenVersioned(versioningBehavior: VersioningBehavior): WorkflowDefinitionOptionsOrGetter {
  // An unversioned worker reports its build id too (the bundle's checksum), but no deployment name.
  return () => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior } : {});
}

setWorkflowOptions(whenVersioned(VERSIONING_BEHAVIORS.notificationWorkflow), notificationWorkflow);
setWorkflowOptions(whenVersioned(VERSIONING_BEHAVIORS.morningGateWorkflow), morningGateWorkflow);
setWorkflowOptions(whenVersioned(VERSIONING_BEHAVIORS.reconcileLegacyQueueWorkflow), reconcileLegacyQueueWorkflow);
setWorkflowOptions(whenVersioned(VERSIONING_BEHAVIORS.complianceReportWorkflow), complianceReportWorkflow);
setWorkflowOptions(whenVersioned(VERSIONING_BEHAVIORS.smokeWorkflow), smokeWorkflow);
