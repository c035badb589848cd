/**
 * Generated sequences of what can happen to one recipient's notifications over a few nights,
 * run against the real workflows (notifications and their morning gates, on the time-skipping
 * server, with the real gate activities and client) and against the model
 * (test/model/morningModel.ts), and compared after every step and at the end.
 *
 * Each step may also replay every workflow's history so far, as a worker that takes over would.
 *
 * Stubbed: only the delivery queue's send (a recording one that fails on demand, as SQS does in
 * an outage, and refuses a send too close to its deadline, as the real activity does).
 */
import assert from 'node:assert/strict';
import { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type ReplayResult, type WorkflowBundle } from '@temporalio/worker';
import fc from 'fast-check';
import type { DeliveryRequest, DeliveryResult } from '../../src/activities';
import { createMorningActivities } from '../../src/activities/morning';
import { NotificationClient, NotificationNotHeldError } from '../../src/client';
import { MorningGates } from '../../src/client/morningGates';
import { isDigest } from '../../src/digest';
import { FAILURE_TYPES } from '../../src/failureTypes';
import { workflowIdFor, type NotificationInput, type NotificationResult } from '../../src/notification';
import { FREEZE_SPREAD_MS } from '../../src/workflows/morningGate';
import { morningGateId } from '../../src/workflows/morningGateMessages';
import { DEFAULT_POLICY, morningSpreadOffsetMs } from '../../src/policy';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../src/workers/workflowCode';
import { testDataConverter, testRecipientHashKey } from '../helpers/stack';
import { DAY, inQuietWindow, MINUTE, MorningModel, nextKst, type NotificationSpec, type Rules } from './morningModel';

const TASK_QUEUE = 'morning-model-test';
/**
 * Failing sends wait up to an hour between attempts instead of a minute: an outage of a day is tried
 * a dozen times instead of 800, and nothing else changes (the windows, the limits). (A gate retrying
 * every minute for a day would also outgrow its history and continue as new, which the time-skipping
 * server cannot do for a workflow started by signal-with-start; the dev server test covers that.)
 */
const MAX_BACKOFF_MS = 60 * MINUTE;
/** Marks the failures this test makes on purpose (an outage), which test/setup.mjs keeps out of the log. */
const SIMULATED = '[simulated]';
const LEAD_SECONDS = 900;

interface SentMessage {
  request: DeliveryRequest;
  atMs: number;
  messageId: string;
}

/** The parts every sequence shares: one server and one worker, restarted on demand. */
export class ModelHarness {
  readonly sent: SentMessage[] = [];
  outage = false;
  replays = 0;
  private worker?: Worker;
  private running?: Promise<void>;
  private bundle?: WorkflowBundle;
  private messages = 0;
  private replayer?: Replayer;

  constructor(readonly env: TestWorkflowEnvironment) {}

  async startWorker(): Promise<void> {
    this.bundle ??= await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never });
    const env = this.env;
    this.worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowBundle: this.bundle,
      dataConverter: testDataConverter(),
      activities: {
        ...createMorningActivities({ morningGatesFor: (client) => new MorningGates(client, TASK_QUEUE) }),
        deliverNotification: async (request: DeliveryRequest): Promise<DeliveryResult> => {
          const atMs = await env.currentTimeMs();
          if (this.outage) throw ApplicationFailure.retryable(`${SIMULATED} SQS answered 503 Service Unavailable`, 'ServiceUnavailable');
          if (request.deadline !== undefined && Math.max(atMs, Date.parse(request.releaseAt ?? '')  || atMs) + 1_000 >= Date.parse(request.deadline)) {
            throw ApplicationFailure.nonRetryable('too close to its deadline', FAILURE_TYPES.sendWindowClosed);
          }
          const messageId = `message-${(this.messages += 1)}`;
          this.sent.push({ request, atMs, messageId });
          const at = new Date(atMs).toISOString();
          return { messageId, stagedAt: at, releasedAt: request.releaseAt ?? at };
        },
        async narrowerQuietHoursAllowed() {
          return false;
        },
      },
    });
    this.running = this.worker.run();
  }

  /**
   * What a new worker would do with every workflow of a sequence now (after a deploy, or a crash):
   * replay its history so far against the same workflow code. A nondeterminism fails the sequence.
   * (Stopping the live worker itself is left to the end-to-end tests: on the time-skipping server a
   * task handed to a poll that a stopping worker abandons waits for its timeout, and that timeout
   * is on the clock that cannot move while the task waits.)
   */
  async replay(workflowIds: string[]): Promise<void> {
    const histories = [];
    for (const workflowId of workflowIds) {
      const history = await this.env.client.workflow.getHandle(workflowId).fetchHistory().catch(() => undefined);
      // One still in its start delay, or before its first task completed, has nothing to replay yet.
      const completedTask = history?.events?.some((event) => event.workflowTaskCompletedEventAttributes);
      if (history && completedTask) histories.push({ workflowId, history });
    }
    if (TRACE) console.log(`    replaying ${histories.length} histories`);
    this.replayer ??= new Replayer(this.bundle!);
    for (const result of await Promise.all(histories.map((entry) => this.replayer!.replay(entry)))) {
      if (TRACE) console.log(`    replayed ${result.workflowId}: ${result.error?.message ?? 'ok'}`);
      if (result.error) throw new Error(`replaying ${result.workflowId} failed: ${result.error.message}`);
    }
    this.replays += histories.length;
  }

  async stop(): Promise<void> {
    this.worker?.shutdown();
    await this.running;
    await this.replayer?.close();
  }

  /**
   * A plain client on the test server's connection: the environment's own client lets time run
   * free while it waits for a workflow's result, and the client's status of a closed notification
   * asks for its result; time would then jump to the next timer of any workflow, mid-sequence.
   */
  private plainClient?: Client;

  client(rules: Rules, clockSkewMs: number): NotificationClient {
    this.plainClient ??= new Client({ connection: this.env.connection, dataConverter: testDataConverter() });
    return new NotificationClient({
      client: this.plainClient,
      taskQueue: TASK_QUEUE,
      policy: DEFAULT_POLICY,
      recipientHashKey: testRecipientHashKey(),
      // A producer whose clock is off: the workflow decides again on the server's.
      clock: async () => (await this.env.currentTimeMs()) + clockSkewMs,
      prestageSeconds: rules.leadMs / 1000,
      morningCap: { cap: rules.cap, overflow: rules.overflow },
      // Every wait after a failed send is the longest: a short one (1 s, 2 s…) would be due while the
      // next command runs at the server's real pace, and a change that cancels a timer which fired
      // meanwhile strands the run on the time-skipping server ("invalid history builder state for
      // action", temporalio/sdk-java#2606); the model does not depend on the waits' lengths.
      retryLimits: { maxFailedWindows: 3, misconfiguredGraceSeconds: 900, maxBackoffSeconds: MAX_BACKOFF_MS / 1000, minBackoffSeconds: MAX_BACKOFF_MS / 1000 },
    });
  }
}

type HistoryAndWorkflowId = { workflowId: string; history: Awaited<ReturnType<ReturnType<TestWorkflowEnvironment['client']['workflow']['getHandle']>['fetchHistory']>> };

/**
 * One replay worker for the whole run (starting one takes longer than replaying a sequence): the
 * histories are fed to it one at a time, and each answer is matched to its history in order.
 */
class Replayer {
  private readonly waiting: { history: HistoryAndWorkflowId; done: (result: ReplayResult) => void }[] = [];
  private wake?: () => void;
  private closed = false;
  private readonly running: Promise<void>;

  constructor(bundle: WorkflowBundle) {
    const self = this;
    async function* feed(): AsyncGenerator<HistoryAndWorkflowId> {
      for (;;) {
        while (self.waiting.length === 0 && !self.closed) await new Promise<void>((resolve) => (self.wake = resolve));
        if (self.closed) return;
        yield self.waiting[0]!.history;
      }
    }
    this.running = (async () => {
      for await (const result of Worker.runReplayHistories({ workflowBundle: bundle, dataConverter: testDataConverter(), replayName: 'model-replay' }, feed())) {
        this.waiting.shift()!.done(result);
      }
    })();
  }

  replay(history: HistoryAndWorkflowId): Promise<ReplayResult> {
    return new Promise((done) => {
      this.waiting.push({ history, done });
      this.wake?.();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.running;
  }
}

/** One sequence's real side. */
export interface Real {
  harness: ModelHarness;
  client: NotificationClient;
  specs: NotificationSpec[];
  run: string;
}

/** What one sequence is about: its rules, its producer's clock, its notifications. */
export interface Scenario {
  rules: Rules;
  clockSkewMs: number;
  specs: NotificationSpec[];
}

export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  rules: fc.record({ cap: fc.integer({ min: 1, max: 2 }), overflow: fc.constantFrom<'drop' | 'digest'>('drop', 'digest'), leadMs: fc.constant(LEAD_SECONDS * 1000) }),
  clockSkewMs: fc.integer({ min: -5_000, max: 5_000 }),
  specs: fc
    .array(
      fc.record({
        category: fc.constantFrom<'advertising' | 'order'>('advertising', 'advertising', 'advertising', 'order'),
        priority: fc.constantFrom(0, 0, 1),
        collapseKey: fc.constantFrom(undefined, undefined, undefined, 'k1', 'k2'),
      }),
      { minLength: 2, maxLength: 5 },
    )
    .map((specs) => specs.map((spec, index) => ({ name: `n${index}`, ...spec, ...(spec.collapseKey === undefined ? { collapseKey: undefined } : {}) }))),
});

function inputOf(real: Real, spec: NotificationSpec): NotificationInput {
  return {
    notificationId: `${real.run}-${spec.name}`,
    recipient: { id: `recipient-${real.run}` },
    channel: 'kakaotalk',
    category: spec.category,
    priority: spec.priority,
    ...(spec.collapseKey !== undefined ? { collapseKey: spec.collapseKey } : {}),
    payload: { run: real.run, name: spec.name },
  };
}

/** Moves the model to the server's clock (what real time the commands themselves took). */
async function syncClock(model: MorningModel, real: Real): Promise<void> {
  model.advance(await real.harness.env.currentTimeMs());
}

/** Lets the server's time pass to `targetMs` (the time-skipping server fires every timer on the way). */
async function advanceTo(model: MorningModel, real: Real, targetMs: number): Promise<void> {
  const now = await real.harness.env.currentTimeMs();
  if (targetMs > now) await real.harness.env.sleep(targetMs - now);
  model.advance(Math.max(targetMs, model.nowMs));
  await syncClock(model, real);
}

type Command = fc.AsyncCommand<MorningModel, Real>;

async function dump(real: Real): Promise<void> {
  console.log(`  ${real.run}: a command has run for 30 s; the workflows:`);
  for (const spec of real.specs) {
    try {
      const d = await real.client.handle(`${real.run}-${spec.name}`).describe();
      const raw = d.raw;
      console.log(`    ${spec.name} ${d.status.name} pendingWFT=${JSON.stringify(raw.pendingWorkflowTask ?? null)} pendingLA/acts=${JSON.stringify(raw.pendingActivities ?? [])}`);
    } catch (error) {
      console.log(`    ${spec.name}: ${String(error)}`);
    }
  }
}

/** MODEL_TRACE=1 prints each command as it runs, with the server's time in Seoul; MODEL_PROFILE=1 sums their times. */
let TRACE = process.env.MODEL_TRACE === '1';
/** MODEL_TRACE_FROM=N traces from the Nth sequence on (to find one that fails late in a long run). */
const TRACE_FROM = Number(process.env.MODEL_TRACE_FROM ?? Number.POSITIVE_INFINITY);
const PROFILE = process.env.MODEL_PROFILE === '1';
const PROGRESS = process.env.MODEL_PROGRESS === '1';
export const profile = new Map<string, { count: number; ms: number }>();
async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  if (!PROFILE) return work();
  const started = performance.now();
  try {
    return await work();
  } finally {
    const entry = profile.get(label) ?? { count: 0, ms: 0 };
    profile.set(label, { count: entry.count + 1, ms: entry.ms + performance.now() - started });
  }
}
/** A command that does not end within this long is a failure (a deadlock), shrunk like any other. */
const COMMAND_TIMEOUT_MS = 120_000;
function withinTimeout<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end within ${COMMAND_TIMEOUT_MS / 1000} s`)), COMMAND_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function traced(command: Command): Command {
  if ((command as { traced?: boolean }).traced) return command;
  (command as { traced?: boolean }).traced = true;
  const run = command.run.bind(command);
  command.run = async (model, real) => {
    if (TRACE) {
      const at = new Date((await real.harness.env.currentTimeMs()) + 9 * 3_600_000).toISOString().slice(5, 19).replace('T', ' ');
      console.log(`  ${real.run} ${at} KST  ${command.toString()}`);
    }
    const stuck = TRACE ? setTimeout(() => void dump(real), 30_000) : undefined;
    try {
      await timed(command.toString().replace(/\(.*/, ''), () => withinTimeout(command.toString(), run(model, real)));
    } finally {
      clearTimeout(stuck);
    }
  };
  return command;
}

export class Schedule implements Command {
  constructor(readonly index: number) {}
  check = (model: MorningModel) => model.notifications.size > this.index;
  async run(model: MorningModel, real: Real) {
    const spec = real.specs[this.index]!;
    const expectedStart = model.wouldStart(spec.name);
    const scheduled = await real.client.schedule(inputOf(real, spec));
    assert.equal(scheduled.started, expectedStart, `${spec.name}: started`);
    if (scheduled.started) {
      const { startTime } = await scheduled.handle.describe();
      model.schedule(spec.name, startTime.getTime());
    }
    // Apart by a second, so that "the newest" is never a tie.
    await advanceTo(model, real, model.nowMs + 1_000);
  }
  toString = () => `schedule(n${this.index})`;
}

/** Scheduling right at a window's edge, by a producer whose clock may be a few seconds off. */
export class ScheduleAtEdge implements Command {
  constructor(
    readonly index: number,
    readonly edge: [number, number, number],
  ) {}
  check = (model: MorningModel) => model.notifications.size > this.index && !model.started(`n${this.index}`);
  async run(model: MorningModel, real: Real) {
    await advanceTo(model, real, nextKst(await real.harness.env.currentTimeMs(), ...this.edge));
    await new Schedule(this.index).run(model, real);
    // Away from the edge before anything else happens.
    await advanceTo(model, real, model.nowMs + 10_000);
  }
  toString = () => `scheduleAtEdge(n${this.index}, ${this.edge.map((part) => String(part).padStart(2, '0')).join(':')})`;
}

/** A change's answer, or how it was refused. */
function settled(change: Promise<unknown>): Promise<{ ok: true } | { ok: false; error: unknown }> {
  return change.then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Compares a change's answer with the model's: accepted, or refused with the typed answer that says why. */
function changeAnswered(model: MorningModel, expected: 'accepted' | 'refused', outcome: { ok: true } | { ok: false; error: unknown }, what: string): void {
  if (expected === 'accepted') {
    assert.ok(outcome.ok, `${what}: expected accepted, got ${outcome.ok ? '' : String((outcome as { error: unknown }).error)}`);
  } else {
    assert.ok(!outcome.ok, `${what}: expected refused, but it was accepted`);
    assert.ok(outcome.error instanceof NotificationNotHeldError, `${what}: refused with ${String(outcome.error)}`);
  }
}

export class Cancel implements Command {
  constructor(readonly index: number) {}
  check = (model: MorningModel) => model.notifications.size > this.index && model.started(`n${this.index}`);
  async run(model: MorningModel, real: Real) {
    const name = `n${this.index}`;
    const answer = await real.client.cancel(`${real.run}-${name}`);
    const expected = model.cancel(name);
    assert.equal(answer.cancelled, expected === 'accepted', `cancel ${name}: ${JSON.stringify(answer)}`);
    // Too late: the answer says where it stands (on the queue, ended, or cancelled before).
    if (!answer.cancelled) assert.equal(answer.status, model.expectedStatus(name), `cancel ${name}: ${JSON.stringify(answer)}`);
    await syncClock(model, real);
  }
  toString = () => `cancel(n${this.index})`;
}

export class Consent implements Command {
  constructor(
    readonly index: number,
    readonly nightConsent: boolean,
  ) {}
  check = (model: MorningModel) => model.notifications.size > this.index && model.started(`n${this.index}`);
  async run(model: MorningModel, real: Real) {
    const name = `n${this.index}`;
    const outcome = await settled(real.client.updateConsent(`${real.run}-${name}`, this.nightConsent));
    changeAnswered(model, model.consent(name, this.nightConsent), outcome, `consent(${name}, ${this.nightConsent})`);
    await syncClock(model, real);
  }
  toString = () => `consent(n${this.index}, ${this.nightConsent})`;
}

/** A reschedule: cleared, to 10:00 tomorrow (no morning), to 23:00 tonight or to 02:00 the night after (a later morning). */
export type RescheduleTarget = 'clear' | 'next-10:00' | 'next-23:00' | 'day-after-02:00';

export class Reschedule implements Command {
  constructor(
    readonly index: number,
    readonly target: RescheduleTarget,
  ) {}
  check = (model: MorningModel) => model.notifications.size > this.index && model.started(`n${this.index}`);
  async run(model: MorningModel, real: Real) {
    const name = `n${this.index}`;
    const now = model.nowMs;
    const notBeforeMs =
      this.target === 'clear' ? undefined : this.target === 'next-10:00' ? nextKst(now, 10, 0) : this.target === 'next-23:00' ? nextKst(now, 23, 0) : nextKst(nextKst(now, 12, 0) + DAY, 2, 0);
    const outcome = await settled(real.client.reschedule(`${real.run}-${name}`, notBeforeMs === undefined ? null : new Date(notBeforeMs)));
    changeAnswered(model, model.reschedule(name, notBeforeMs), outcome, `reschedule(${name}, ${this.target})`);
    await syncClock(model, real);
  }
  toString = () => `reschedule(n${this.index}, ${this.target})`;
}

/** Time passes to the next instant that reads this on Seoul's clock. */
export class Advance implements Command {
  constructor(readonly to: [number, number, number]) {}
  check = () => true;
  async run(model: MorningModel, real: Real) {
    await advanceTo(model, real, nextKst(await real.harness.env.currentTimeMs(), ...this.to));
  }
  toString = () => `advanceTo(${this.to.map((part) => String(part).padStart(2, '0')).join(':')})`;
}

export class Outage implements Command {
  constructor(readonly on: boolean) {}
  check = (model: MorningModel) => model.outage !== this.on;
  async run(model: MorningModel, real: Real) {
    real.harness.outage = this.on;
    model.setOutage(this.on);
    // Every send that failed is tried again within the longest backoff of the queue's return.
    if (!this.on) await advanceTo(model, real, model.nowMs + MAX_BACKOFF_MS + MINUTE);
  }
  toString = () => `outage(${this.on ? 'on' : 'off'})`;
}

/** A new worker takes over now: every workflow of the sequence replays its history so far. */
export class ReplayNow implements Command {
  check = () => true;
  async run(model: MorningModel, real: Real) {
    await real.harness.replay(await workflowIdsOf(model, real));
    await syncClock(model, real);
  }
  toString = () => 'replayNow()';
}

/** The sequence's notifications and the gates of its mornings. */
async function workflowIdsOf(model: MorningModel, real: Real): Promise<string[]> {
  const hash = real.client.recipientSearchKey(`recipient-${real.run}`);
  return [
    ...real.specs.filter((spec) => model.started(spec.name)).map((spec) => workflowIdFor(`${real.run}-${spec.name}`)),
    ...[...model.mornings.keys()].map((ms) => morningGateId(hash, new Date(ms))),
  ];
}

/**
 * Points of the night where something happens between them: the evening, the freezes (07:34–07:44
 * with a 15-minute lead, by gate: 07:39 falls before some and after others), the staging (07:45), the release (08:00), the gate's end (08:05), the day, and
 * the next window (21:00), where a failing send gives up for the day.
 */
const ADVANCE_POINTS: [number, number, number][] = [
  [22, 0, 0],
  [3, 0, 0],
  [7, 39, 0],
  [7, 44, 30],
  [7, 50, 0],
  [8, 1, 0],
  [8, 6, 0],
  [12, 0, 0],
  [21, 5, 0],
];
const EDGES: [number, number, number][] = [
  [20, 59, 58],
  [21, 0, 2],
  [7, 59, 58],
  [8, 0, 2],
];

export function commandsArbitrary(maxCommands: number): fc.Arbitrary<Iterable<Command>> {
  const index = fc.integer({ min: 0, max: 4 });
  return fc.commands(
    ([
      index.map((i) => new Schedule(i)),
      index.map((i) => new Schedule(i)),
      index.map((i) => new Schedule(i)),
      fc.tuple(index, fc.constantFrom(...EDGES)).map(([i, edge]) => new ScheduleAtEdge(i, edge)),
      index.map((i) => new Cancel(i)),
      fc.tuple(index, fc.boolean()).map(([i, value]) => new Consent(i, value)),
      fc.tuple(index, fc.constantFrom<RescheduleTarget>('clear', 'next-10:00', 'next-23:00', 'day-after-02:00')).map(([i, target]) => new Reschedule(i, target)),
      fc.constantFrom(...ADVANCE_POINTS).map((to) => new Advance(to)),
      fc.constantFrom(...ADVANCE_POINTS).map((to) => new Advance(to)),
      fc.boolean().map((on) => new Outage(on)),
      fc.constant(new ReplayNow()),
    ] as fc.Arbitrary<Command>[]).map((arbitrary) => arbitrary.map(traced)),
    { maxCommands, size: 'max' },
  );
}

/** A new sequence: the next 22:00 on the shared server, a recipient and ids of its own. */
export async function startSequence(harness: ModelHarness, scenario: Scenario, run: string): Promise<{ model: MorningModel; real: Real }> {
  harness.outage = false;
  const now = await harness.env.currentTimeMs();
  const evening = nextKst(now, 22, 0);
  await harness.env.sleep(evening - now);
  const client = harness.client(scenario.rules, scenario.clockSkewMs);
  // Each gate freezes at its own minute of the spread: the model takes the gate's offset as given.
  const hash = client.recipientSearchKey(`recipient-${run}`);
  const spreadSeconds = Math.min(FREEZE_SPREAD_MS, scenario.rules.leadMs) / 1000;
  const freezeOffsetMs = (morningMs: number) => morningSpreadOffsetMs(morningGateId(hash, new Date(morningMs)), spreadSeconds);
  const model = new MorningModel(scenario.rules, await harness.env.currentTimeMs(), freezeOffsetMs);
  const real: Real = { harness, client, specs: scenario.specs, run };
  for (const spec of scenario.specs) model.add(spec, `${run}-${spec.name}`);
  if (TRACE) console.log(`${run}: ${JSON.stringify(scenario)}`);
  return { model, real };
}

/**
 * After the commands: the queue comes back, time runs until every notification has ended, and then
 * every status, every message on the queue and the cap are compared with the model.
 */
export async function finishSequence(model: MorningModel, real: Real): Promise<void> {
  if (TRACE) console.log(`  ${real.run} finishing`);
  const stuck = TRACE ? setInterval(() => void dump(real), 30_000) : undefined;
  try {
    await timed('finish', () => withinTimeout('finishing the sequence', finishAndCompare(model, real)));
  } finally {
    clearInterval(stuck);
  }
}

async function finishAndCompare(model: MorningModel, real: Real): Promise<void> {
  if (model.outage) await new Outage(false).run(model, real);
  for (let round = 0; round < 6 && !model.settled(); round += 1) await advanceTo(model, real, Math.max(model.nowMs, model.lastEventMs()) + 10 * MINUTE);
  // Gates stay a few minutes past their release: let the last one end too.
  await advanceTo(model, real, model.nowMs + 10 * MINUTE);
  assert.ok(model.settled(), 'the model settles');

  const mine = real.harness.sent.filter(({ request }) =>
    isDigest(request.notification) ? request.notification.entries.some((entry) => entry.notificationId.startsWith(`${real.run}-`)) : request.notification.notificationId.startsWith(`${real.run}-`),
  );
  const digests = mine.filter(({ request }) => isDigest(request.notification));
  const alone = mine.filter(({ request }) => !isDigest(request.notification));
  const receivableAt = ({ request, atMs }: SentMessage) => (request.releaseAt ? Date.parse(request.releaseAt) : atMs);

  for (const spec of real.specs) {
    if (!model.started(spec.name)) continue;
    const id = `${real.run}-${spec.name}`;
    const description = await real.client.handle(id).describe();
    assert.notEqual(description.status.name, 'RUNNING', `${id} still runs at the end (model: ${model.expectedStatus(spec.name)})`);
    const result: NotificationResult = await real.client.status(id);
    assert.equal(result.status, model.expectedStatus(spec.name), `${id}: status (the workflow's result: ${JSON.stringify(result)}; the model's: ${JSON.stringify(model.notifications.get(spec.name))})`);
    const sentAlone = alone.filter(({ request }) => request.notification.notificationId === id);
    const inDigests = digests.filter(({ request }) => isDigest(request.notification) && request.notification.entries.some((entry) => entry.notificationId === id));
    const expected = model.expectedSend(spec.name);
    if (expected?.alone) {
      assert.ok(sentAlone.length >= 1 && sentAlone.length === 1, `${id}: sent alone ${sentAlone.length} times`);
      assert.equal(inDigests.length, 0, `${id}: delivered alone, and in no digest`);
      assert.equal(result.messageId, sentAlone.at(-1)!.messageId, `${id}: its message id`);
    } else if (expected && !expected.alone) {
      assert.equal(sentAlone.length, 0, `${id}: digested, never alone`);
      assert.equal(new Set(inDigests.map(({ request }) => request.notification.notificationId)).size, 1, `${id}: in one digest`);
      const digest = inDigests.at(-1)!;
      assert.equal(result.digest?.notificationId, digest.request.notification.notificationId, `${id}: names its digest`);
      assert.equal(result.messageId, digest.messageId, `${id}: the digest's message id`);
    } else {
      assert.equal(sentAlone.length + inDigests.length, 0, `${id} (${result.status}): its content is on the queue`);
    }
  }

  // A worker that takes over after the end replays every history the sequence left.
  await timed('finish: replay', async () => real.harness.replay(await workflowIdsOf(model, real)));

  // Never early, never at night without consent, and the cap at each morning, a digest counting as one.
  for (const message of alone) {
    const name = message.request.notification.notificationId.slice(real.run.length + 1);
    const n = model.notifications.get(name)!;
    if (inQuietWindow(receivableAt(message))) assert.equal(n.consentWhenSent, true, `${name} receivable at night without consent`);
  }
  for (const message of digests) assert.ok(!inQuietWindow(receivableAt(message)), 'a digest receivable at night');
  const adsAt = new Map<number, number>();
  for (const message of mine) {
    const ad = isDigest(message.request.notification) || (message.request.notification as { category?: string }).category === 'advertising';
    if (ad && message.request.releaseReason === 'held-quiet-hours') adsAt.set(receivableAt(message), (adsAt.get(receivableAt(message)) ?? 0) + 1);
  }
  for (const [at, count] of adsAt) assert.ok(count <= model.rules.cap, `${count} advertisements receivable at ${new Date(at).toISOString()} under a cap of ${model.rules.cap}`);
}

/**
 * Runs `runs` generated sequences from `seed` against one time-skipping server. A failure throws
 * fast-check's report: the seed, the path, and the shrunk sequence of commands.
 */
export async function checkMorningModel(harness: ModelHarness, { runs, seed, maxCommands = 12, path }: { runs: number; seed: number; maxCommands?: number; path?: string }): Promise<void> {
  let sequence = 0;
  await fc.assert(
    fc.asyncProperty(scenarioArbitrary, commandsArbitrary(maxCommands), async (scenario, commands) => {
      sequence += 1;
      if (PROGRESS && sequence % 100 === 0) console.log(`  ${sequence} sequences run`);
      if (sequence >= TRACE_FROM) TRACE = true;
      let started: { model: MorningModel; real: Real } | undefined;
      await fc.asyncModelRun(async () => (started = await timed('start', () => withinTimeout('starting the sequence', startSequence(harness, scenario, `s${seed}-${sequence}`)))), commands);
      await finishSequence(started!.model, started!.real);
    }),
    { numRuns: runs, seed, ...(path ? { path } : {}) },
  );
}

/**
 * One named sequence, run exactly as a generated one is (against the model, then compared at the
 * end): the regressions the model test and the reviews found, kept as tests of their own.
 */
export async function runSequence(harness: ModelHarness, scenario: Scenario, commands: Command[], run: string): Promise<MorningModel> {
  const { model, real } = await startSequence(harness, scenario, run);
  for (const command of commands) {
    assert.ok(command.check(model), `${command.toString()} does not apply here`);
    await command.run(model, real);
  }
  await finishSequence(model, real);
  return model;
}
