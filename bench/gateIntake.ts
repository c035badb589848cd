/**
 * `npm run bench -- --only gate [--gate-n 5000]`: how many registrations per second one
 * recipient's morning gate takes. A burst of N registrations for one recipient (signal-with-start,
 * as each notification's own workflow sends them, 64 in flight) goes to one gate on a fresh dev
 * server, with the production worker in this process; the gate has taken them when its history
 * holds all N and its last workflow task is complete. Its continue-as-new runs count.
 *
 * What bounds the figure: the dev server's one SQLite connection (every signal is a write) and the
 * worker's CPU, on this machine; nothing else runs meanwhile.
 */
import { MorningGates } from '../src/client/morningGates';
import type { Config } from '../src/config';
import { DEFAULT_POLICY, NO_MORNING_CAP } from '../src/policy';
import { morningGateId } from '../src/workflows/morningGateMessages';
import { NotificationClient } from '../src/client';
import { recipientHashKeyFromConfig } from '../src/security/recipientHash';
import { inLanes } from '../src/inLanes';
import { ensureQueue } from '../src/sqs';
import { log, sleep } from './common';
import type { BenchSqs } from './downstream';
import { createBenchWorker } from './temporal';
import type { TemporalTargetFactory } from './temporalTarget';

export interface GateIntakeResult {
  n: number;
  /** From the first signal sent to the gate's last task complete, ms. */
  wallMs: number;
  perSecond: number;
  /** The gate's runs (it continues as new as its history grows). */
  runs: number;
  server: string;
}

export async function runGateIntake(options: { config: Config; bench: BenchSqs; target: TemporalTargetFactory; n: number }): Promise<GateIntakeResult> {
  const { config, bench, n } = options;
  const target = await options.target(config);
  const taskQueue = `bench-gate-${Date.now().toString(36)}`;
  const worker = await createBenchWorker({
    config,
    target,
    sqs: bench.sqs,
    taskQueue,
    queues: {
      deliveryQueueUrl: await ensureQueue(bench.sqs, 'bench-unused-delivery'),
      legacyWaitQueueUrl: await ensureQueue(bench.sqs, 'bench-unused-legacy-wait'),
      deadLetterQueueUrl: await ensureQueue(bench.sqs, 'bench-unused-dead-letter'),
    },
    schedulerFor: (temporal) => new NotificationClient({ client: temporal, taskQueue, policy: DEFAULT_POLICY, recipientHashKey: recipientHashKeyFromConfig(config) }),
  });
  const running = worker.run();
  try {
    const client = target.env.client;
    const gates = new MorningGates(client, taskQueue);
    // A morning an hour away: the burst arrives long before the freeze.
    const releaseAt = new Date(Math.ceil((Date.now() + 3_600_000) / 60_000) * 60_000);
    const gateId = morningGateId(`bench${Date.now().toString(36)}`, releaseAt);
    const input = { recipientId: 'bench-recipient', releaseAt: releaseAt.toISOString(), rules: { ...NO_MORNING_CAP, cap: 2 }, leadMs: 900_000, grounds: { zone: 'Asia/Seoul', window: '21:00-08:00' } };
    log(`gate: ${n} registrations for one recipient, 64 in flight`);
    const started = performance.now();
    await inLanes(Array.from({ length: n }, (_, index) => index), 64, async (index) => {
      await gates.join(gateId, input, { notificationId: `bench-gate-${index}`, seq: 1, category: 'advertising', channel: 'push', scheduledAtMs: Date.now() });
    });
    const sentMs = performance.now() - started;
    // Taken: every signal in the gate's runs, and no workflow task of its pending.
    for (;;) {
      let signals = 0;
      let settled = true;
      let runs = 0;
      for await (const execution of client.workflow.list({ query: `WorkflowId = '${gateId}'` })) {
        runs += 1;
        const handle = client.workflow.getHandle(gateId, execution.runId);
        signals += ((await handle.fetchHistory()).events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes).length;
        const description = await handle.describe();
        if (description.status.name === 'RUNNING' && description.raw.pendingWorkflowTask) settled = false;
      }
      if (signals >= n && settled) {
        const wallMs = performance.now() - started;
        log(`  sent in ${(sentMs / 1000).toFixed(1)} s; taken in ${(wallMs / 1000).toFixed(1)} s (${Math.round((n * 1000) / wallMs)}/s) over ${runs} runs`);
        return { n, wallMs, perSecond: (n * 1000) / wallMs, runs, server: target.description };
      }
      await sleep(250);
    }
  } finally {
    worker.shutdown();
    await running;
    await target.stop();
  }
}
