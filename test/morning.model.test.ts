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
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { Advance, Cancel, checkMorningModel, ModelHarness, Outage, runSequence, Schedule, ScheduleAtEdge, type Scenario } from './model/morningCommands';
import type { NotificationSpec } from './model/morningModel';
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

const LEAD_MS = 900_000;
const ad = (name: string, extra: Partial<NotificationSpec> = {}): NotificationSpec => ({ name, category: 'advertising', priority: 0, ...extra });
const scenario = (cap: number, overflow: 'drop' | 'digest', specs: NotificationSpec[], clockSkewMs = 0): Scenario => ({ rules: { cap, overflow, leadMs: LEAD_MS }, clockSkewMs, specs });
let named = 0;
const sequence = (scenarioOf: Scenario, commands: Parameters<typeof runSequence>[2]) => runSequence(harness, scenarioOf, commands, `named-${(named += 1)}`);

describe('named sequences: what reviews and the model found, each against the model', () => {
  test("a producer's retry after a cancel registers nothing: the cancelled ad is in no digest, and takes no place", async () => {
    const model = await sequence(scenario(1, 'digest', [ad('n0'), ad('n1'), ad('n2')]), [
      new Schedule(0), new Schedule(1), new Schedule(2), new Cancel(0), new Schedule(0), new Advance([8, 6, 0]),
    ]);
    assert.deepEqual(['n0', 'n1', 'n2'].map((name) => model.expectedStatus(name)), ['cancelled', 'digested', 'digested']);
  });

  test('a cancel between the freeze and the staging lead leaves the digest with the rest; a late one gets no place', async () => {
    const model = await sequence(scenario(1, 'digest', [ad('n0'), ad('n1'), ad('n2'), ad('n3')]), [
      new Schedule(0), new Schedule(1), new Schedule(2), new Advance([7, 44, 30]), new Cancel(1), new Schedule(3), new Advance([8, 6, 0]),
    ]);
    assert.deepEqual(['n0', 'n1', 'n2', 'n3'].map((name) => model.expectedStatus(name)), ['digested', 'cancelled', 'digested', 'capped']);
  });

  test('an SQS outage from the evening to past 21:00 the next day keeps the digest open and sends it the morning after', async () => {
    const model = await sequence(scenario(1, 'digest', [ad('n0'), ad('n1')]), [
      new Schedule(0), new Schedule(1), new Outage(true), new Advance([8, 6, 0]), new Advance([21, 5, 0]), new Outage(false), new Advance([8, 6, 0]),
    ]);
    assert.deepEqual(['n0', 'n1'].map((name) => model.expectedStatus(name)), ['digested', 'digested']);
  });

  test('a notification that failed in three windows may be scheduled again under its id, and starts afresh', async () => {
    const model = await sequence(scenario(1, 'drop', [ad('n0'), ad('n1')]), [
      new Outage(true), new Schedule(0), new Advance([22, 0, 0]), new Advance([22, 0, 0]), new Advance([22, 0, 0]), new Outage(false), new Schedule(0), new Advance([8, 6, 0]),
    ]);
    assert.equal(model.expectedStatus('n0'), 'delivered');
  });

  test("a producer 5 s slow scheduling at 21:00:02 by the server's clock: counted in the morning's gate, one ad under a cap of 1", async () => {
    const model = await sequence(scenario(1, 'drop', [ad('n0'), ad('n1')], -5_000), [new ScheduleAtEdge(0, [21, 0, 2]), new Schedule(1), new Advance([8, 6, 0])]);
    assert.deepEqual(['n0', 'n1'].map((name) => model.expectedStatus(name)), ['capped', 'delivered']);
  });

  test("a producer 2 s fast scheduling an order at 20:59:58 by the server's clock: sent at once, not held overnight", async () => {
    const model = await sequence(scenario(1, 'drop', [{ name: 'n0', category: 'order', priority: 0 }], 2_000), [new ScheduleAtEdge(0, [20, 59, 58])]);
    assert.equal(model.expectedStatus('n0'), 'delivered');
  });
});
