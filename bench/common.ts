/**
 * What every benchmark shares: the notifications it sends, the delivery message they become, the
 * collector that checks the delivery queue (every message arrived, none twice) and reads the
 * arrival times, statistics, and CPU / memory readings of this process and its children.
 */
import { readdirSync, readFileSync } from 'node:fs';
import {
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import { deliveryMessageAttributes, deliveryMessageBody } from '../src/deliveryMessage';
import { parseNotification, type Notification, type NotificationInput } from '../src/notification';
import { ensureQueue } from '../src/sqs';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** N notifications of one run: ids `bench-<runId>-<i>`, categories mixed as in the shop. */
export function benchNotifications(runId: string, n: number): NotificationInput[] {
  const categories = ['advertising', 'order', 'delivery', 'refund'] as const;
  return Array.from({ length: n }, (_, index) => ({
    notificationId: `bench-${runId}-${index}`,
    recipient: { id: `user-${index % 9973}` },
    channel: 'kakaotalk' as const,
    category: categories[index % categories.length]!,
    payload: { template: 'bench-morning', variables: { sequence: index, name: 'Kim Minji' } },
  }));
}

/**
 * The delivery-queue message the production activity sends for a notification (same body, same
 * attributes), so that every system of the comparison moves the same bytes.
 */
export function deliveryMessage(input: NotificationInput, scheduledAt: string, releasedAt: string) {
  const notification: Notification = parseNotification(input);
  return {
    MessageBody: deliveryMessageBody(notification),
    MessageAttributes: deliveryMessageAttributes(notification, { scheduledAt, releasedAt, stagedAt: releasedAt, releaseReason: 'held-quiet-hours' }) as Record<string, MessageAttributeValue>,
  };
}

export function batchEntries(messages: ReturnType<typeof deliveryMessage>[]): SendMessageBatchRequestEntry[] {
  return messages.map((message, index) => ({ Id: String(index), ...message }));
}

let queueSerial = 0;
/** A fresh queue for one run, so that nothing of another run can be counted. */
export async function freshQueue(sqs: SQSClient, prefix: string): Promise<string> {
  queueSerial += 1;
  return ensureQueue(sqs, `${prefix}-${process.pid}-${Date.now().toString(36)}-${queueSerial}`);
}

export async function deleteQueue(sqs: SQSClient, queueUrl: string): Promise<void> {
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
}

async function visibleCount(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/**
 * Waits until `expectedIds.size` messages sit in the delivery queue (polling its depth, which is
 * cheap and leaves the system under test alone), waits `quietMs` more so that a late duplicate
 * is caught, then receives and deletes everything and checks it: every id once, nothing else.
 * Returns the SQS SentTimestamp of each message by id. Throws if a message is missing or came
 * twice, or if the count stops moving for `stallMs`.
 */
export async function awaitDelivery(
  sqs: SQSClient,
  queueUrl: string,
  expectedIds: ReadonlySet<string>,
  options: { stallMs?: number; quietMs?: number; pollMs?: number; onProgress?: (count: number) => void } = {},
): Promise<Map<string, number>> {
  const expected = expectedIds.size;
  const stallMs = options.stallMs ?? 60_000;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const count = await visibleCount(sqs, queueUrl);
    if (count !== last) {
      last = count;
      lastChange = Date.now();
      options.onProgress?.(count);
    }
    if (count >= expected) break;
    if (Date.now() - lastChange > stallMs) {
      throw new Error(`delivery stalled: ${count} of ${expected} messages in the queue, none new for ${stallMs / 1000} s`);
    }
    await sleep(options.pollMs ?? 250);
  }
  await sleep(options.quietMs ?? 1_500);
  const arrivals = new Map<string, number>();
  const duplicates: string[] = [];
  const strangers: string[] = [];
  let received = 0;
  let emptyInARow = 0;
  const lane = async () => {
    while (emptyInARow < 3) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 600,
          MessageAttributeNames: ['notificationId'],
          MessageSystemAttributeNames: ['SentTimestamp'],
        }),
      );
      if (Messages.length === 0) {
        emptyInARow += 1;
        await sleep(100);
        continue;
      }
      emptyInARow = 0;
      for (const message of Messages) {
        received += 1;
        const id = message.MessageAttributes?.notificationId?.StringValue ?? '(none)';
        const sent = Number(message.Attributes?.SentTimestamp);
        if (!expectedIds.has(id)) strangers.push(id);
        else if (arrivals.has(id)) duplicates.push(id);
        else arrivals.set(id, sent);
      }
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  const missing = expected - arrivals.size;
  if (missing > 0 || duplicates.length > 0 || strangers.length > 0) {
    throw new Error(
      `delivery check failed: ${received} received, ${missing} missing, ${duplicates.length} twice` +
        `${duplicates.length ? ` (e.g. ${duplicates.slice(0, 3).join(', ')})` : ''}, ${strangers.length} unexpected`,
    );
  }
  return arrivals;
}

// ── statistics ──────────────────────────────────────────────────────────────────────────────

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spreadOf(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** What one release run measured, from the SentTimestamps and the release instants. */
export interface ReleaseFigures {
  n: number;
  /** From the release instant T to the last message in the delivery queue. */
  totalMs: number;
  /** Messages per second over totalMs. */
  throughput: number;
  /** Arrival minus each message's own release time (T, or T + spread offset), ms. */
  lagP50: number;
  lagP95: number;
  lagP99: number;
  lagMax: number;
  /** Arrival times since T (ms, ascending), thinned to at most 400 points, for the plot. */
  curve: [number, number][];
}

export function releaseFigures(arrivals: Map<string, number>, releaseAtMs: number, ownReleaseMs: (id: string) => number = () => releaseAtMs): ReleaseFigures {
  const since: number[] = [];
  const lags: number[] = [];
  for (const [id, sent] of arrivals) {
    since.push(sent - releaseAtMs);
    lags.push(sent - ownReleaseMs(id));
  }
  since.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  const totalMs = Math.max(1, since[since.length - 1]!);
  const step = Math.max(1, Math.floor(since.length / 400));
  const curve: [number, number][] = [[0, 0]];
  for (let index = 0; index < since.length; index += step) curve.push([since[index]!, index + 1]);
  curve.push([since[since.length - 1]!, since.length]);
  return {
    n: arrivals.size,
    totalMs,
    throughput: (arrivals.size * 1000) / totalMs,
    lagP50: percentile(lags, 50),
    lagP95: percentile(lags, 95),
    lagP99: percentile(lags, 99),
    lagMax: lags[lags.length - 1]!,
    curve,
  };
}

// ── processes: CPU and memory from /proc ───────────────────────────────────────────────────

const CLOCK_TICKS_PER_SECOND = 100;

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  cpuMs: number;
  rssBytes: number;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is state (field 3); utime is field 14, stime 15, rss (pages) 24.
    const ppid = Number(fields[1]);
    const cpuTicks = Number(fields[11]) + Number(fields[12]);
    const rssPages = Number(fields[21]);
    return { pid, ppid, comm, cpuMs: (cpuTicks * 1000) / CLOCK_TICKS_PER_SECOND, rssBytes: rssPages * 4096 };
  } catch {
    return undefined;
  }
}

/** Resident memory of a process, in bytes (0 if it is gone). */
export function rssOf(pid: number): number {
  return readProc(pid)?.rssBytes ?? 0;
}

/** CPU time (user + system, ms) of this process and of its descendants, grouped by what they are. */
export function cpuByComponent(): Record<string, number> {
  const all = new Map<number, ProcInfo>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProc(Number(entry));
    if (info) all.set(info.pid, info);
  }
  const groups: Record<string, number> = {};
  const add = (name: string, ms: number) => (groups[name] = (groups[name] ?? 0) + ms);
  const self = all.get(process.pid);
  if (self) add('bench process (worker, client, loops)', self.cpuMs);
  const isDescendant = (info: ProcInfo): boolean => {
    let current: ProcInfo | undefined = info;
    for (let depth = 0; current && depth < 10; depth += 1) {
      if (current.ppid === process.pid) return true;
      current = all.get(current.ppid);
    }
    return false;
  };
  for (const info of all.values()) {
    if (info.pid === process.pid || !isDescendant(info)) continue;
    const name = /temporal/i.test(info.comm) ? 'temporal dev server' : /java/i.test(info.comm) ? 'elasticmq (jvm)' : /redis/i.test(info.comm) ? 'redis' : info.comm === 'sh' ? '' : info.comm;
    if (name) add(name, info.cpuMs);
  }
  return groups;
}

export function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after)) delta[name] = Math.round(ms - (before[name] ?? 0));
  return delta;
}

export function dropFromSet<T>(set: Set<T>, values: Iterable<T>): void {
  for (const value of values) set.delete(value);
}

export async function inLanes<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
}

export interface WaitForCountOptions {
  /** Between two counts: each one scans the visibility table of the server being measured. */
  pollMs: number;
  /** Give up (return undefined) at this instant. */
  deadlineMs?: number;
  /** Fail when the count has not grown for this long. */
  stallMs?: number;
  /** Log the count this often. */
  logEveryMs?: number;
  /** What is counted, for the log and the error ("held", "completed"). */
  what: string;
}

/** Polls a visibility count until it reaches n; ms waited, or undefined at the deadline. */
export async function waitForCount(client: Client, query: string, n: number, options: WaitForCountOptions): Promise<number | undefined> {
  const start = Date.now();
  let best = 0;
  let grewAt = start;
  let loggedAt = start;
  while (options.deadlineMs === undefined || Date.now() < options.deadlineMs) {
    const { count } = await client.workflow.count(query);
    if (count >= n) return Date.now() - start;
    if (count > best) [best, grewAt] = [count, Date.now()];
    if (options.stallMs !== undefined && Date.now() - grewAt > options.stallMs) {
      throw new Error(`only ${best} of ${n} ${options.what}, and none more for ${options.stallMs / 1000} s`);
    }
    if (options.logEveryMs !== undefined && Date.now() - loggedAt > options.logEveryMs) {
      log(`  ${best} of ${n} ${options.what}`);
      loggedAt = Date.now();
    }
    await sleep(options.pollMs);
  }
  return undefined;
}
