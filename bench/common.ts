/**
 * What every benchmark shares: the notifications it sends, the delivery message they become,
 * statistics of the arrivals, and CPU / memory readings of this process and its children.
 */
import { readdirSync, readFileSync } from 'node:fs';
import {
  DeleteQueueCommand,
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
 * N advertisements for the morning-cap row: recipients get 1, 2, … 7 in turn (4 on average, so
 * 10,000 go to 2,500 recipients), ids `bench-<runId>-<i>`.
 */
export function benchMorningNotifications(runId: string, n: number): NotificationInput[] {
  const inputs: NotificationInput[] = [];
  for (let recipient = 0; inputs.length < n; recipient += 1) {
    for (let each = 0; each < (recipient % 7) + 1 && inputs.length < n; each += 1) {
      const index = inputs.length;
      inputs.push({
        notificationId: `bench-${runId}-${index}`,
        recipient: { id: `morning-${runId}-${recipient}` },
        channel: 'kakaotalk',
        category: 'advertising',
        payload: { template: 'bench-morning', variables: { sequence: index, name: 'Kim Minji' } },
      });
    }
  }
  return inputs;
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

/** What one release run measured at the downstream: arrivals are first-receive instants. */
export interface ReleaseFigures {
  n: number;
  /** From the release instant T to the last arrival. */
  totalMs: number;
  /** From T to the first arrival. */
  firstMs: number;
  /** Messages per second over totalMs. */
  throughput: number;
  /** Arrival minus each message's own release time (T, or T + spread offset), ms. */
  lagP50: number;
  lagP95: number;
  lagP99: number;
  lagMax: number;
  /** Arrivals before their own release time: must be 0. */
  early: number;
  /** Arrival times since T (ms, ascending), thinned to at most 400 points, for the plot. */
  curve: [number, number][];
}

export function releaseFigures(arrivals: Map<string, number>, releaseAtMs: number, ownReleaseMs: (id: string) => number = () => releaseAtMs): ReleaseFigures {
  const since: number[] = [];
  const lags: number[] = [];
  for (const [id, arrived] of arrivals) {
    since.push(arrived - releaseAtMs);
    lags.push(arrived - ownReleaseMs(id));
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
    firstMs: since[0]!,
    throughput: (arrivals.size * 1000) / totalMs,
    lagP50: percentile(lags, 50),
    lagP95: percentile(lags, 95),
    lagP99: percentile(lags, 99),
    lagMax: lags[lags.length - 1]!,
    early: lags.filter((lag) => lag < 0).length,
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

function allProcesses(): Map<number, ProcInfo> {
  const all = new Map<number, ProcInfo>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProc(Number(entry));
    if (info) all.set(info.pid, info);
  }
  return all;
}

/** The first of `roots` that is `info` or one of its ancestors. */
function rootOf(info: ProcInfo, all: Map<number, ProcInfo>, roots: ReadonlySet<number>): number | undefined {
  let current: ProcInfo | undefined = info;
  for (let depth = 0; current && depth < 12; depth += 1) {
    if (roots.has(current.pid)) return current.pid;
    current = all.get(current.ppid);
  }
  return undefined;
}

/** Our descendants whose command name matches (the dev server's process, say). */
export function descendantsMatching(comm: RegExp): number[] {
  const all = allProcesses();
  const self = new Set([process.pid]);
  return [...all.values()].filter((info) => info.pid !== process.pid && comm.test(info.comm) && rootOf(info, all, self) !== undefined).map((info) => info.pid);
}

/** CPU time (user + system, ms) of these processes and their descendants. */
export function cpuOfPids(pids: readonly number[]): number {
  const all = allProcesses();
  const roots = new Set(pids);
  let total = 0;
  for (const info of all.values()) if (rootOf(info, all, roots) !== undefined) total += info.cpuMs;
  return total;
}

/**
 * CPU time (user + system, ms) by component: this process, the named processes (with their
 * descendants; they need not be our children), and our other descendants grouped by what they are.
 */
export function cpuByComponent(named: Record<string, readonly number[]> = {}): Record<string, number> {
  const all = allProcesses();
  const nameOfRoot = new Map<number, string>();
  for (const [name, pids] of Object.entries(named)) for (const pid of pids) nameOfRoot.set(pid, name);
  const namedRoots = new Set(nameOfRoot.keys());
  const self = new Set([process.pid]);
  const groups: Record<string, number> = {};
  const add = (name: string, ms: number) => (groups[name] = (groups[name] ?? 0) + ms);
  for (const info of all.values()) {
    if (info.pid === process.pid) {
      add('bench process', info.cpuMs);
      continue;
    }
    const namedRoot = rootOf(info, all, namedRoots);
    if (namedRoot !== undefined) {
      add(nameOfRoot.get(namedRoot)!, info.cpuMs);
      continue;
    }
    if (rootOf(info, all, self) === undefined) continue;
    const name = /temporal/i.test(info.comm) ? 'temporal server' : /java/i.test(info.comm) ? 'elasticmq (jvm)' : /redis/i.test(info.comm) ? 'redis' : info.comm === 'sh' ? '' : info.comm;
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
