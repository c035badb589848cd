/**
 * The morning cap's promises (docs/guarantees.md, "The morning cap") over generated sequences of
 * schedules and producers' retries, cancels, consent given and withdrawn, reschedules, time passing
 * the freeze, the staging lead and the release, SQS outages, worker restarts, and producers' clocks
 * a few seconds off, each compared with a small model of the rules (test/model/morningModel.ts).
 *
 * Real: the time-skipping server, the workflows (notifications and morning gates), the worker, the
 * client and the gate activities. Stubbed: the delivery queue's send (test/model/morningCommands.ts).
 * `npm run test:model -- --runs N --seed S` runs more.
 */
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { checkMorningModel, ModelHarness } from './model/morningCommands';
import { startTimeSkippingEnv } from './helpers/stack';

const RUNS = 200;
const SEED = 20_261_207;

let env: TestWorkflowEnvironment;
let harness: ModelHarness;

before(async () => {
  env = await startTimeSkippingEnv();
  harness = new ModelHarness(env);
  await harness.startWorker();
});

after(async () => {
  await harness?.stop();
  await env?.teardown();
});

test(`the morning cap keeps its promises over ${RUNS} generated sequences (seed ${SEED}), compared with a model`, { timeout: 1_800_000 }, async () => {
  await checkMorningModel(harness, { runs: RUNS, seed: SEED });
});
