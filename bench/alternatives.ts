/**
 * The systems a user would pick instead, fed the same N notifications and released at the same
 * kind of instant T, against the same ElasticMQ:
 * - the legacy drain, exactly as the old Lambda did it: receive 10, send them one at a time,
 *   delete the batch, in one sequential loop;
 * - BullMQ delayed jobs on a Redis started here, whose worker sends to the delivery queue at T;
 * - the ceiling: one process sending N messages with SendMessageBatch at its best concurrency.
 * Each is measured as the downstream sees it (bench/downstream.ts): receivers polling from before
 * T, the first receive of each message, nothing receivable before T.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Queue, Worker as BullWorker } from 'bullmq';
import { freePort } from '../src/stack/ports';
import { inLanes } from '../src/inLanes';
import { batchEntries, benchNotifications, deleteQueue, deliveryMessage, freshQueue, log, sleep } from './common';
import { watchRelease, type BenchSqs, type DownstreamResult } from './downstream';

export interface AlternativeResult extends DownstreamResult {
  system: string;
  /** What it took to put the N in before T (fill the wait queue, add the jobs), per second. */
  intakePerSecond?: number;
  concurrency?: number;
}

// ── the legacy drain ────────────────────────────────────────────────────────────────────────

export async function runLegacyDrain(options: { bench: BenchSqs; n: number; label: string }): Promise<AlternativeResult> {
  const { bench, n } = options;
  const { sqs } = bench;
  const runId = `l${Date.now().toString(36)}`;
  const waitQueueUrl = await freshQueue(sqs, 'bench-legacy-wait');
  const deliveryQueueUrl = await freshQueue(sqs, 'bench-delivery');
  let watch: Awaited<ReturnType<typeof watchRelease>> | undefined;
  try {
    const inputs = benchNotifications(runId, n);
    const scheduledAt = new Date().toISOString();
    // The wait queue holds what the producers put there overnight: the same message, ready to forward.
    const messages = inputs.map((input) => deliveryMessage(input, scheduledAt, scheduledAt));
    const batches: (typeof messages)[] = [];
    for (let start = 0; start < messages.length; start += 10) batches.push(messages.slice(start, start + 10));
    const fillStart = performance.now();
    await inLanes(batches, 8, async (batch) => {
      const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: waitQueueUrl, Entries: batchEntries(batch) }));
      if (result.Failed?.length) throw new Error(`wait queue refused ${result.Failed.length} messages`);
    });
    const fillMs = performance.now() - fillStart;
    watch = await watchRelease(bench, deliveryQueueUrl, new Set(inputs.map((input) => input.notificationId)));
    const releaseAtMs = Date.now() + 1_000;
    await sleep(releaseAtMs - Date.now() - 100);
    watch.openWindow();
    await sleep(releaseAtMs - Date.now());
    // The old Lambda: one loop, receive 10, send each, delete the batch; stop when the queue is empty.
    const drain = (async () => {
      let forwarded = 0;
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: waitQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
        );
        if (Messages.length === 0) {
          if (forwarded >= n) return forwarded;
          await sleep(50);
          continue;
        }
        for (const message of Messages) {
          await sqs.send(
            new SendMessageCommand({ QueueUrl: deliveryQueueUrl, MessageBody: message.Body, MessageAttributes: message.MessageAttributes }),
          );
          forwarded += 1;
        }
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: waitQueueUrl,
            Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
          }),
        );
      }
    })();
    const figures = await watch.finish({ releaseAtMs, label: options.label });
    await drain;
    logFigures(options.label, figures);
    return { system: 'legacy drain', ...figures, intakePerSecond: (n * 1000) / fillMs };
  } finally {
    await watch?.close();
    await deleteQueue(sqs, waitQueueUrl);
    await deleteQueue(sqs, deliveryQueueUrl);
  }
}

// ── the ceiling ─────────────────────────────────────────────────────────────────────────────

async function sendAllBatched(sqs: SQSClient, queueUrl: string, messages: ReturnType<typeof deliveryMessage>[], concurrency: number): Promise<void> {
  const batches: (typeof messages)[] = [];
  for (let start = 0; start < messages.length; start += 10) batches.push(messages.slice(start, start + 10));
  await inLanes(batches, concurrency, async (batch) => {
    const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batchEntries(batch) }));
    if (result.Failed?.length) throw new Error(`delivery queue refused ${result.Failed.length} messages`);
  });
}

/** The concurrency at which SendMessageBatch moves the most messages per second on this machine. */
export async function bestCeilingConcurrency(sqs: SQSClient, sample: number): Promise<{ best: number; tried: Record<number, number> }> {
  const tried: Record<number, number> = {};
  const inputs = benchNotifications(`c${Date.now().toString(36)}`, sample);
  const now = new Date().toISOString();
  const messages = inputs.map((input) => deliveryMessage(input, now, now));
  for (const concurrency of [1, 2, 4, 8, 16, 32]) {
    const queueUrl = await freshQueue(sqs, 'bench-ceiling-probe');
    const start = performance.now();
    await sendAllBatched(sqs, queueUrl, messages, concurrency);
    tried[concurrency] = Math.round((sample * 1000) / (performance.now() - start));
    await deleteQueue(sqs, queueUrl);
  }
  const best = Number(Object.entries(tried).sort((a, b) => b[1] - a[1])[0]![0]);
  log(`ceiling: SendMessageBatch msgs/s by concurrency ${JSON.stringify(tried)}; best ${best}`);
  return { best, tried };
}

export async function runCeiling(options: { bench: BenchSqs; n: number; concurrency: number; label: string }): Promise<AlternativeResult> {
  const { bench, n, concurrency } = options;
  const { sqs } = bench;
  const runId = `c${Date.now().toString(36)}`;
  const deliveryQueueUrl = await freshQueue(sqs, 'bench-delivery');
  let watch: Awaited<ReturnType<typeof watchRelease>> | undefined;
  try {
    const inputs = benchNotifications(runId, n);
    watch = await watchRelease(bench, deliveryQueueUrl, new Set(inputs.map((input) => input.notificationId)));
    const releaseAtMs = Date.now() + 1_000;
    const scheduledAt = new Date().toISOString();
    const releasedAt = new Date(releaseAtMs).toISOString();
    await sleep(releaseAtMs - Date.now() - 100);
    watch.openWindow();
    await sleep(releaseAtMs - Date.now());
    // Built at T, as a sender would: the message work is part of the cost.
    const sending = sendAllBatched(sqs, deliveryQueueUrl, inputs.map((input) => deliveryMessage(input, scheduledAt, releasedAt)), concurrency);
    const figures = await watch.finish({ releaseAtMs, label: options.label });
    await sending;
    logFigures(options.label, figures);
    return { system: 'SQS ceiling (SendMessageBatch)', ...figures, concurrency };
  } finally {
    await watch?.close();
    await deleteQueue(sqs, deliveryQueueUrl);
  }
}

function logFigures(label: string, figures: DownstreamResult): void {
  log(
    `${label}: ${figures.n} received ${(figures.totalMs / 1000).toFixed(2)} s after T (${Math.round(figures.throughput)}/s), first ${figures.firstMs} ms, ` +
      `last send ${figures.lastSendMs} ms, lag p50 ${figures.lagP50} p99 ${figures.lagP99} ms, ${figures.early} early, ${figures.duplicates} twice`,
  );
}

// ── BullMQ ──────────────────────────────────────────────────────────────────────────────────

export interface RunningRedis {
  port: number;
  version: string;
  stop(): Promise<void>;
}

/** A private redis-server on a free port, no persistence; always stopped by stop(). */
export async function startRedis(): Promise<RunningRedis> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server is not installed: the BullMQ comparison needs it. On Debian/Ubuntu: `apt-get install -y redis-server` ' +
        '(the benchmark starts and stops its own instance on a free port; no service needs to run).',
    );
  }
  const version = /v=(\S+)/.exec(probe.stdout)?.[1] ?? 'unknown';
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopOnExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnExit);
  const deadline = Date.now() + 10_000;
  while (!output.includes('Ready to accept connections')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}:\n${output.slice(-2000)}`);
    }
    await sleep(50);
  }
  return {
    port,
    version,
    stop: async () => {
      process.removeListener('exit', stopOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

export interface BullMqOptions {
  bench: BenchSqs;
  redisPort: number;
  n: number;
  /** Jobs the BullMQ worker processes at once. */
  concurrency: number;
  /** Adds in flight while scheduling, as scheduleMany's lanes. */
  addConcurrency?: number;
  label: string;
}

export async function runBullMq(options: BullMqOptions): Promise<AlternativeResult & { addMs: number }> {
  const { bench, n } = options;
  const { sqs } = bench;
  const runId = `b${Date.now().toString(36)}`;
  const deliveryQueueUrl = await freshQueue(sqs, 'bench-delivery');
  const connection = { host: '127.0.0.1', port: options.redisPort, maxRetriesPerRequest: null };
  const queueName = `bench-${runId}`;
  const queue = new Queue(queueName, { connection });
  let worker: BullWorker | undefined;
  let watch: Awaited<ReturnType<typeof watchRelease>> | undefined;
  try {
    const inputs = benchNotifications(runId, n);
    watch = await watchRelease(bench, deliveryQueueUrl, new Set(inputs.map((input) => input.notificationId)));
    const scheduledAt = new Date().toISOString();
    // T is placed after the adds are expected to finish; a late add would only shift its job.
    const releaseAtMs = Date.now() + 4_000 + n / 2;
    worker = new BullWorker(
      queueName,
      async (job) => {
        const message = deliveryMessage(job.data, scheduledAt, new Date().toISOString());
        await sqs.send(new SendMessageCommand({ QueueUrl: deliveryQueueUrl, ...message }));
      },
      { connection, concurrency: options.concurrency, removeOnComplete: { count: 0 }, removeOnFail: { count: 1000 } },
    );
    await worker.waitUntilReady();
    const addStart = performance.now();
    await inLanes(inputs, options.addConcurrency ?? 32, async (input) => {
      await queue.add('deliver', input, { jobId: input.notificationId, delay: Math.max(0, releaseAtMs - Date.now()), removeOnComplete: true });
    });
    const addMs = performance.now() - addStart;
    if (Date.now() > releaseAtMs - 200) throw new Error(`adding ${n} BullMQ jobs ran past T`);
    await sleep(releaseAtMs - Date.now() - 100);
    watch.openWindow();
    const figures = await watch.finish({ releaseAtMs, label: options.label });
    log(`${options.label}: added ${n} in ${(addMs / 1000).toFixed(1)} s (${Math.round((n * 1000) / addMs)}/s)`);
    logFigures(options.label, figures);
    return { system: 'BullMQ delayed jobs', ...figures, intakePerSecond: (n * 1000) / addMs, addMs, concurrency: options.concurrency };
  } finally {
    await watch?.close();
    await worker?.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await deleteQueue(sqs, deliveryQueueUrl);
  }
}
