/**
 * What the downstream sees, the same for every system: a consumer (bench/receiverProcess.ts, 16
 * long-polling receive loops in their own process) polls the delivery queue from before the release
 * instant and records when each message is first received. Also: the instant the last message was
 * handed to SQS (a counting middleware on the senders' SQS client), which ends the CPU window.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { cpuByComponent, cpuDelta, log, releaseFigures, sleep, type ReleaseFigures } from './common';
import type { ReceiverReport, ReceiverStart } from './receiverProcess';

export const RECEIVER_LANES = 16;

export interface Receivers {
  pid: number;
  /** Resolves with the report once every expected id has arrived (and quietMs more); rejects on a stall. */
  done: Promise<ReceiverReport>;
  /** Distinct ids received so far (updated every 500 ms). */
  distinct(): number;
  /** From this instant on (T), `stallMs` without a new id ends the wait with what has arrived. */
  arm(fromMs: number): void;
  stop(): Promise<void>;
}

/**
 * Forks the receivers on a queue and waits until they poll. They report when `expected` distinct
 * ids have arrived and `quietMs` has passed, or, once armed, with what they have after `stallMs`
 * without a new one.
 */
export async function startReceivers(options: {
  queueUrl: string;
  endpoint: string;
  region: string;
  expected: number;
  lanes?: number;
  quietMs?: number;
  stallMs?: number;
}): Promise<Receivers> {
  const child: ChildProcess = fork(join(__dirname, 'receiverProcess.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let distinct = 0;
  let lastGrowth = Date.now();
  let reportResolve!: (report: ReceiverReport) => void;
  let reportReject!: (error: Error) => void;
  const done = new Promise<ReceiverReport>((resolve, reject) => ([reportResolve, reportReject] = [resolve, reject]));
  done.catch(() => undefined);
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: { type: string; distinct?: number; message?: string }) => {
      if (message.type === 'ready') resolve();
      else if (message.type === 'progress') {
        if (message.distinct! > distinct) [distinct, lastGrowth] = [message.distinct!, Date.now()];
      } else if (message.type === 'report') reportResolve(message as unknown as ReceiverReport);
      else if (message.type === 'error') {
        const error = new Error(`receivers failed: ${message.message}`);
        reject(error);
        reportReject(error);
      }
    });
    child.once('exit', (code) => {
      const error = new Error(`the receivers exited (${code}) before they reported`);
      reject(error);
      reportReject(error);
    });
  });
  const start: ReceiverStart = {
    type: 'start',
    queueUrl: options.queueUrl,
    endpoint: options.endpoint,
    region: options.region,
    expected: options.expected,
    lanes: options.lanes ?? RECEIVER_LANES,
    quietMs: options.quietMs ?? 1_500,
  };
  child.send(start);
  await ready;
  const stallMs = options.stallMs ?? 120_000;
  let armedAt = Number.POSITIVE_INFINITY;
  const watchdog = setInterval(() => {
    if (Date.now() > armedAt && Date.now() - Math.max(lastGrowth, armedAt) > stallMs) {
      log(`  receivers: ${distinct} of ${options.expected} received, none new for ${stallMs / 1000} s; asking for what they have`);
      child.send({ type: 'finish' });
      lastGrowth = Date.now();
    }
  }, 1_000);
  void done.finally(() => clearInterval(watchdog)).catch(() => undefined);
  return {
    pid: child.pid!,
    done,
    distinct: () => distinct,
    arm: (fromMs) => (armedAt = fromMs),
    stop: async () => {
      clearInterval(watchdog);
      process.removeListener('exit', kill);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.disconnect();
        await Promise.race([exited, sleep(3_000).then(kill)]);
      }
    },
  };
}

// ── sends ───────────────────────────────────────────────────────────────────────────────────

interface Expectation {
  count: number;
  /** Requests that sent at least one message (a SendMessageBatch counts once). */
  requests: number;
  target: number;
  lastAt?: number;
  reached: Promise<number>;
  resolve: (atMs: number) => void;
  onReached?: () => void;
}

/**
 * Counts the messages an SQS client hands to each queue (SendMessage: 1, SendMessageBatch: its
 * Successful entries), so that a run knows the instant the queue first held all N: the end of the
 * send window, without asking the queue (which the receivers empty as they go).
 */
export class SendCounter {
  private readonly expectations = new Map<string, Expectation>();

  constructor(sqs: SQSClient) {
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const input = args.input as { QueueUrl?: string };
        const expectation = input.QueueUrl === undefined ? undefined : this.expectations.get(input.QueueUrl);
        if (expectation) {
          const output = result.output as { Successful?: unknown[] };
          const sent = context.commandName === 'SendMessageCommand' ? 1 : context.commandName === 'SendMessageBatchCommand' ? (output.Successful?.length ?? 0) : 0;
          if (sent > 0) this.record(expectation, sent);
        }
        return result;
      },
      { step: 'initialize', name: 'benchSendCounter' },
    );
  }

  /**
   * Starts counting sends to a queue; `reached` resolves with the instant the target-th message was
   * accepted. `onReached` runs synchronously at that instant (a CPU reading, say).
   */
  expect(queueUrl: string, target: number, onReached?: () => void): { reached: Promise<number>; count: () => number; requests: () => number; lastAt: () => number | undefined } {
    let resolve!: (atMs: number) => void;
    const reached = new Promise<number>((done) => (resolve = done));
    const expectation: Expectation = { count: 0, requests: 0, target, reached, resolve, onReached };
    this.expectations.set(queueUrl, expectation);
    return { reached, count: () => expectation.count, requests: () => expectation.requests, lastAt: () => expectation.lastAt };
  }

  forget(queueUrl: string): void {
    this.expectations.delete(queueUrl);
  }

  private record(expectation: Expectation, sent: number): void {
    const before = expectation.count;
    expectation.count += sent;
    expectation.requests += 1;
    expectation.lastAt = Date.now();
    if (before < expectation.target && expectation.count >= expectation.target) {
      expectation.onReached?.();
      expectation.resolve(expectation.lastAt);
    }
  }
}

// ── one release, as the downstream sees it ──────────────────────────────────────────────────

/** The SQS side of a benchmark run: the senders' client (counted), and where consumers connect. */
export interface BenchSqs {
  /** Every system's sender uses this client (through the latency proxy when there is one). */
  sqs: SQSClient;
  counter: SendCounter;
  endpoint: string;
  region: string;
  /** Round-trip latency the proxy adds to every SQS request (0: no proxy). */
  latencyMs: number;
  /** Named processes for the CPU table: receivers, the proxy, the Temporal server. */
  processes: Record<string, number[]>;
}

export interface DownstreamResult extends ReleaseFigures {
  /** When the last message was handed to SQS, ms since T (negative when staged before T). */
  lastSendMs: number;
  /** CPU ms per component from the window's start to the last send. */
  cpuMs: Record<string, number>;
  /** Messages received a second time (a standard queue is at-least-once); reported, not hidden. */
  duplicates: number;
  /** Messages the senders handed to SQS (more than n: something sent twice). */
  sends: number;
  /** The SQS requests that carried them (SendMessage, or SendMessageBatch of up to ten). */
  sendRequests: number;
  latencyMs: number;
}

export interface ReleaseWatch {
  receivers: Receivers;
  /** Resolves with the instant the N-th message was accepted by SQS. */
  lastSend: Promise<number>;
  /** With `sendsElsewhere`: the caller says when the last message was sent (no counter sees other processes' sends). */
  markLastSend(at: number): void;
  /** Call just before the send window opens (T, or T − lead when staged). */
  openWindow(): void;
  /** Messages handed to SQS so far (by this process's senders). */
  sentSoFar(): number;
  /** Waits for the last send and every arrival; checks them (exactly once, nothing early). */
  finish(options: { releaseAtMs: number; ownReleaseMs?: (id: string) => number; label: string }): Promise<DownstreamResult>;
  close(): Promise<void>;
}

/**
 * Starts the receivers on a delivery queue (before T: they catch anything receivable early) and
 * counts the sends to it. The CPU window runs from openWindow() to the last send: the work of the
 * release, not of the consumer's last receives.
 */
export async function watchRelease(
  bench: BenchSqs,
  queueUrl: string,
  expectedIds: ReadonlySet<string>,
  named: Record<string, number[]> = {},
  options: { sendsElsewhere?: boolean } = {},
): Promise<ReleaseWatch> {
  const n = expectedIds.size;
  const receivers = await startReceivers({ queueUrl, endpoint: bench.endpoint, region: bench.region, expected: n });
  const processes = () => ({ ...bench.processes, ...named, receivers: [receivers.pid] });
  let cpuAtOpen: Record<string, number> | undefined;
  let cpuAtLastSend: Record<string, number> | undefined;
  const sends = bench.counter.expect(queueUrl, n, () => (cpuAtLastSend = cpuByComponent(processes())));
  let markLastSend: (at: number) => void = () => undefined;
  const lastSend = options.sendsElsewhere
    ? new Promise<number>((resolve) => (markLastSend = (at) => ((cpuAtLastSend = cpuByComponent(processes())), resolve(at))))
    : sends.reached;
  return {
    receivers,
    lastSend,
    markLastSend: (at) => markLastSend(at),
    openWindow: () => (cpuAtOpen = cpuByComponent(processes())),
    sentSoFar: () => sends.count(),
    async finish({ releaseAtMs, ownReleaseMs, label }) {
      receivers.arm(releaseAtMs);
      const report = await receivers.done;
      const lastSendAt = await Promise.race([lastSend, sleep(5_000).then(() => undefined)]);
      const arrivals = new Map<string, number>();
      const strangers: string[] = [];
      // How long after the worker's reckoning of its hand-over SQS really took each message: what the
      // reckoning of the server's clock did not see (src/activities/delivery.ts, UNMEASURED_LAG_MS).
      const acceptedAfterReckoning: number[] = [];
      for (const [id, receivedAt, sentTimestamp, stagedAt] of report.arrivals) {
        if (expectedIds.has(id)) arrivals.set(id, receivedAt);
        else strangers.push(id);
        if (Number.isFinite(sentTimestamp) && Number.isFinite(stagedAt)) acceptedAfterReckoning.push(sentTimestamp - stagedAt);
      }
      acceptedAfterReckoning.sort((a, b) => a - b);
      const reckoningLag = acceptedAfterReckoning.length
        ? { p50Ms: acceptedAfterReckoning[Math.floor(acceptedAfterReckoning.length / 2)]!, p99Ms: acceptedAfterReckoning[Math.floor(acceptedAfterReckoning.length * 0.99)]!, maxMs: acceptedAfterReckoning.at(-1)! }
        : undefined;
      if (reckoningLag) log(`  ${label}: SQS took each message ${reckoningLag.p50Ms} ms (p50), ${reckoningLag.p99Ms} ms (p99), ${reckoningLag.maxMs} ms (max) after the worker reckoned it sent`);
      const missing = n - arrivals.size;
      if (missing > 0 || strangers.length > 0 || report.strangers > 0 || lastSendAt === undefined) {
        throw new Error(
          `${label}: delivery check failed: ${report.received} received, ${missing} of ${n} missing, ` +
            `${strangers.length + report.strangers} unexpected, ${sends.count()} sends counted`,
        );
      }
      const figures = releaseFigures(arrivals, releaseAtMs, ownReleaseMs);
      if (report.duplicates.length > 0) {
        log(`  ${label}: ${report.duplicates.length} messages were received twice (${sends.count()} sends for ${n} notifications), e.g. ${report.duplicates[0]![0]}`);
      }
      if (figures.early > 0) log(`  !!! ${label}: ${figures.early} messages were receivable before their release instant`);
      return {
        ...figures,
        lastSendMs: lastSendAt - releaseAtMs,
        cpuMs: cpuAtOpen && cpuAtLastSend ? cpuDelta(cpuAtOpen, cpuAtLastSend) : {},
        duplicates: report.duplicates.length,
        // Other processes' sends are not counted: the receivers' duplicates still are.
        sends: options.sendsElsewhere ? Number.NaN : sends.count(),
        sendRequests: options.sendsElsewhere ? Number.NaN : sends.requests(),
        latencyMs: bench.latencyMs,
        ...(reckoningLag ? { reckoningLag } : {}),
      };
    },
    async close() {
      bench.counter.forget(queueUrl);
      await receivers.stop();
    },
  };
}
