/**
 * The production topology under faults (`npm run test:cluster`; CI runs it as a stage after
 * `npm test`). One cluster for the file, as `npm run cluster` starts it: a private PostgreSQL, the
 * full Temporal server with 16 history shards, the Web UI, ElasticMQ, and worker processes running
 * the compiled build (each test starts its own two, on its own task queue and FIFO delivery queue).
 * Nothing is stubbed. Each worker reaches ElasticMQ through its own pass-through proxy
 * (helpers/sqsCountingProxy.ts), which is how a test tells which worker delivered what.
 *
 * Only the public API is used: notifications go in through NotificationClient with a quiet window
 * that ends at the release instant T, and what comes out is read from the delivery queue (attribute
 * notificationId). "Delivered at T" means: nothing receivable before T, everything received within
 * a bound after T that a loaded 2-core CI machine keeps. Exact counts: every notification once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { inRehearsalZone, nextWholeMinute, rehearsalEndingAt } from '../../src/policy';
import { NotificationClient } from '../../src/client';
import { loadConfig } from '../../src/config';
import type { NotificationInput } from '../../src/notification';
import { createSqsClient, ensureQueue } from '../../src/sqs';
import { startCluster, type RunningCluster } from '../../src/stack/cluster/startCluster';
import type { WorkerProcess } from '../../src/stack/workerProcess';
import { assertExactlyOnceNotBefore, collectMessages } from '../helpers/queues';
import { testDataConverter, testRecipientHashKey } from '../helpers/stack';
import { startSqsCountingProxy, type SqsCountingProxy } from '../helpers/sqsCountingProxy';

const SHARDS = 16;
/** A cold cache builds the Temporal server from source first (minutes). */
const START_TIMEOUT_MS = 20 * 60_000;

let cluster: RunningCluster;
let clusterDir: string;
let connection: Connection;
let sqs: SQSClient;
const run = Date.now().toString(36);

before(async () => {
  clusterDir = await mkdtemp(join(tmpdir(), 'kst-cluster-test-'));
  cluster = await startCluster({ config: loadConfig(), dir: clusterDir, shards: SHARDS, workers: 0, log: (line) => process.stderr.write(`  [cluster] ${line}\n`) });
  connection = await Connection.connect({ address: cluster.addresses.temporal });
  sqs = createSqsClient(cluster.config.sqs);
}, { timeout: START_TIMEOUT_MS });

after(async () => {
  sqs?.destroy();
  await connection?.close();
  await cluster?.stop();
  if (clusterDir) await rm(clusterDir, { recursive: true, force: true });
});

interface Release {
  name: string;
  releaseAtMs: number;
  /** The rehearsal's zone, in which every recipient is held until releaseAtMs. */
  timeZone: string;
  ids: string[];
  deliveryQueueUrl: string;
  client: NotificationClient;
  workers: WorkerProcess[];
  proxies: SqsCountingProxy[];
}

/**
 * A task queue and a FIFO delivery queue of the test's own, two worker processes on them (each
 * through its own counting proxy), and T far enough ahead for `leadMs` of scheduling and faults.
 */
async function prepareRelease(name: string, n: number, leadMs: number): Promise<Release> {
  const taskQueue = `cluster-${name}-${run}`;
  const deliveryQueue = `cluster-${name}-${run}.fifo`;
  const deliveryQueueUrl = await ensureQueue(sqs, deliveryQueue);
  const proxies = [await startSqsCountingProxy(cluster.addresses.sqs), await startSqsCountingProxy(cluster.addresses.sqs)];
  const workers = await Promise.all(
    proxies.map((proxy) => cluster.addWorker({ NOTIFY_TASK_QUEUE: taskQueue, NOTIFY_DELIVERY_QUEUE: deliveryQueue, AWS_ENDPOINT_URL_SQS: proxy.endpoint })),
  );
  const releaseAtMs = nextWholeMinute(leadMs, Date.now());
  const rehearsal = rehearsalEndingAt(releaseAtMs, cluster.config.policy);
  const client = new NotificationClient({
    client: new Client({ connection, namespace: cluster.config.temporal.namespace, dataConverter: testDataConverter() }),
    taskQueue,
    policy: rehearsal.policy,
    recipientHashKey: testRecipientHashKey(),
  });
  const ids = Array.from({ length: n }, (_, index) => `cluster-${name}-${run}-${index}`);
  return { name, releaseAtMs, timeZone: rehearsal.timeZone, ids, deliveryQueueUrl, client, workers, proxies };
}

/** Advertising without night-time consent: held by the quiet window until T. */
function notifications(ids: string[]): NotificationInput[] {
  return ids.map((notificationId, index) => ({
    notificationId,
    recipient: { id: `user-${index}`, nightConsent: false },
    channel: 'push',
    category: 'advertising',
    payload: { template: 'cluster-test', sequence: index },
  }));
}

/** Schedules them (a failed start is retried: scheduling is idempotent by id), all well before T. */
async function schedule(release: Release, ids: string[]): Promise<void> {
  let pending = inRehearsalZone(notifications(ids), release);
  for (let attempt = 1; pending.length > 0; attempt++) {
    const results = await release.client.scheduleMany(pending, { concurrency: 32 });
    const failed = results.filter((result) => !result.ok);
    if (failed.length > 0 && attempt >= 5) {
      const first = failed[0]!;
      throw new Error(`${failed.length} notifications could not be scheduled after ${attempt} attempts: ${first.ok ? '' : first.error.message}`);
    }
    pending = failed.map((result) => pending[(result as { index: number }).index]!);
  }
  const marginMs = release.releaseAtMs - Date.now();
  assert.ok(marginMs > 5_000, `scheduling ended ${(marginMs / 1000).toFixed(1)} s before T: too late to test a release at T (raise the lead)`);
}

/**
 * Generous on purpose: 2 cores carry PostgreSQL, the server, two workers and ElasticMQ. On this
 * machine, shared with other test runs (load average 9–16), 2,000 took up to 143 s after T and
 * 1,000 after a server restart 156 s; an idle machine is several times faster.
 */
const releaseBoundMs = (n: number) => 180_000 + n * 100;

interface Observed {
  messages: Message[];
  /** When each message was first received, by MessageId. */
  receivedAt: Map<string, number>;
  /** From T to the last arrival. */
  releaseMs: number;
}

/** Reads the delivery queue from now until every id has arrived (and a quiet spell passed) or T + bound. */
async function observe(release: Release, options: { boundMs?: number; onProgress?: (count: number) => void } = {}): Promise<Observed> {
  const receivedAt = new Map<string, number>();
  const messages = await collectMessages(sqs, release.deliveryQueueUrl, {
    expected: release.ids.length,
    timeoutMs: release.releaseAtMs - Date.now() + (options.boundMs ?? releaseBoundMs(release.ids.length)),
    quietMs: 10_000,
    onProgress: options.onProgress,
    receivedAt,
  });
  const observed = { messages, receivedAt, releaseMs: Math.max(release.releaseAtMs, ...receivedAt.values()) - release.releaseAtMs };
  process.stderr.write(`  [${release.name}] ${messages.length} received, the last ${(observed.releaseMs / 1000).toFixed(1)} s after T; sent per worker: ${release.proxies.map((proxy) => proxy.sentIds.size).join(' / ')}\n`);
  return observed;
}

/** Every id exactly once, nothing else, nothing before T, and each delivered through a worker's proxy. */
function assertExactlyOnceAtT(release: Release, observed: Observed): void {
  assertExactlyOnceNotBefore(observed.messages, release.ids, observed.receivedAt, release.releaseAtMs);
  // Every delivery went through one of the workers' proxies: the per-worker figures are complete.
  const viaWorkers = new Set(release.proxies.flatMap((proxy) => [...proxy.sentIds]));
  assert.equal(release.ids.filter((id) => viaWorkers.has(id)).length, release.ids.length, 'a delivery bypassed the workers\' proxies');
}

async function finish(release: Release): Promise<void> {
  await Promise.all(release.workers.map((worker) => worker.stop()));
  await Promise.all(release.proxies.map((proxy) => proxy.stop()));
}

describe(`the cluster (PostgreSQL, Temporal ${SHARDS} shards, Web UI, ElasticMQ, worker processes)`, () => {
  test('runs the pinned server with its shards, serves metrics, and the Web UI answers', async () => {
    const info = await connection.workflowService.getSystemInfo({});
    assert.match(info.serverVersion ?? '', /^1\.32\./);
    const { historyShardCount } = await connection.workflowService.getClusterInfo({});
    assert.equal(historyShardCount, SHARDS);
    const metrics = await (await fetch(cluster.addresses.metrics)).text();
    assert.match(metrics, /^persistence_requests\{/m, 'the server exports its persistence request counts');
    const ui = await fetch(`${cluster.addresses.webUi}/api/v1/namespaces`);
    assert.equal(ui.status, 200);
    const { namespaces = [] } = (await ui.json()) as { namespaces?: { namespaceInfo?: { name?: string } }[] };
    assert.ok(namespaces.some((namespace) => namespace.namespaceInfo?.name === cluster.config.temporal.namespace), 'the Web UI lists the namespace');
    const page = await fetch(`${cluster.addresses.webUi}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
  });

  test('two worker processes share a release of 2,000: each delivers at least 20 %, every notification exactly once, at T', { timeout: 15 * 60_000 }, async () => {
    const release = await prepareRelease('share', 2_000, 90_000);
    try {
      await schedule(release, release.ids);
      const observed = await observe(release);
      assertExactlyOnceAtT(release, observed);
      for (const [index, proxy] of release.proxies.entries()) {
        assert.ok(proxy.sentIds.size >= 400, `worker ${index + 1} delivered ${proxy.sentIds.size} of 2,000 (at least 20 % expected)`);
      }
    } finally {
      await finish(release);
    }
  });

  test('one of two workers is SIGKILLed mid-release: the other finishes, 0 lost, 0 duplicated', { timeout: 15 * 60_000 }, async () => {
    const release = await prepareRelease('worker-kill', 2_000, 90_000);
    try {
      await schedule(release, release.ids);
      const [victim, survivor] = release.workers as [WorkerProcess, WorkerProcess];
      let survivorExited: string | undefined;
      void survivor.exited.then((how) => (survivorExited = how));
      let receivedAtKill = -1;
      let sentByVictimAtKill = -1;
      const observed = await observe(release, {
        // Worker death costs the activity and sticky-queue timeouts on top of the release.
        boundMs: releaseBoundMs(release.ids.length) + 180_000,
        onProgress: (count) => {
          if (receivedAtKill < 0 && count >= 300) {
            receivedAtKill = count;
            sentByVictimAtKill = release.proxies[0]!.sentIds.size;
            victim.kill('SIGKILL');
          }
        },
      });
      assert.equal(await victim.exited, 'signal SIGKILL');
      assert.ok(receivedAtKill > 0 && receivedAtKill < release.ids.length, `the kill came mid-release (${receivedAtKill} of ${release.ids.length} received)`);
      assert.ok(sentByVictimAtKill > 0, 'the killed worker had been delivering');
      assertExactlyOnceAtT(release, observed);
      // What the victim had not sent when it died, the survivor did.
      const notSentByVictim = release.ids.filter((id) => !release.proxies[0]!.sentIds.has(id));
      assert.ok(notSentByVictim.every((id) => release.proxies[1]!.sentIds.has(id)), 'the survivor delivered the rest');
      assert.equal(survivorExited, undefined, 'the survivor kept running');
    } finally {
      await finish(release);
    }
  });

  test('the Temporal server is SIGKILLed with 1,000 held and restarted: all delivered at T, 0 lost', { timeout: 15 * 60_000 }, async () => {
    const release = await prepareRelease('server-kill', 1_000, 120_000);
    try {
      await schedule(release, release.ids);
      const serverBefore = cluster.temporal.pid;
      await cluster.temporal.kill('SIGKILL');
      await cluster.temporal.restart();
      assert.notEqual(cluster.temporal.pid, serverBefore, 'a new server process');
      assert.ok(Date.now() < release.releaseAtMs, 'the restart finished before T: the release itself is what is tested');
      const observed = await observe(release);
      assertExactlyOnceAtT(release, observed);
    } finally {
      await finish(release);
    }
  });

  test('PostgreSQL is restarted mid-night: 0 lost', { timeout: 15 * 60_000 }, async () => {
    const release = await prepareRelease('postgres-restart', 1_000, 120_000);
    try {
      // Half before the restart, half after: what was stored survives, and the server reconnects.
      await schedule(release, release.ids.slice(0, 500));
      const postgresBefore = cluster.postgres.pid;
      await cluster.postgres.restart();
      assert.notEqual(cluster.postgres.pid, postgresBefore, 'a new postmaster');
      await schedule(release, release.ids.slice(500));
      assert.ok(Date.now() < release.releaseAtMs, 'all were scheduled before T');
      const observed = await observe(release);
      assertExactlyOnceAtT(release, observed);
    } finally {
      await finish(release);
    }
  });
});
