/**
 * `npm run histories:record`: records the golden histories that test/histories.replay.test.ts
 * replays against the workflow bundle, from real runs on a dev server of its own: every state a
 * workflow can be in when a deploy lands (index.json lists them). Run it after a change to the
 * workflow code that is meant to change its histories, once the change carries `patched()` where
 * runs in flight replay it (docs/operations.md, "Golden histories").
 *
 * It drives the workflows only from the outside, as producers and operators do: NotificationClient
 * (schedule, reschedule, cancel, status), the Schedules (trigger), and the SQS queues (a legacy
 * message; the delivery queue made unreachable for the retrying state). So it survives a redesign
 * of the workflows' insides. The worker is the production one (createConfiguredWorker), its payloads
 * encrypted with the suite's keys (test/setup.mjs), which the replay test decrypts with.
 *
 *   node --import tsx --import ./test/setup.mjs test/histories/record.ts [--only name,…]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { NotificationClient } from '../../src/client';
import type { NotificationInput } from '../../src/notification';
import type { Config } from '../../src/config';
import { nextWholeMinute, rehearsalEndingAt } from '../../src/policy';
import { ensureReconcileSchedule, reconcileScheduleHandle, reconcileScheduleSettings } from '../../src/schedules/reconcileSchedule';
import { ensureReportSchedule, REPORT_SCHEDULE_ID } from '../../src/schedules/reportSchedule';
import { runCommand } from '../../src/stack/commands';
import { startLoopbackProxy, type LoopbackProxy } from '../../src/stack/loopbackProxy';
import { provisionTemporalCli } from '../../src/stack/provision';
import { createConfiguredWorker } from '../../src/workers/createWorker';
import { freezeAtMsOf } from '../../src/workflows/morningGate';
import { morningGateId } from '../../src/workflows/morningGateMessages';
import type { ReconcileResult } from '../../src/workflows/reconcileLegacyQueue';
import { startE2EStack, testRecipientHashKey, type E2EStack } from '../helpers/stack';
import { HISTORIES_DIR, type RecordedHistory } from './index';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const run = Date.now().toString(36);

/** Polls `probe` every 500 ms until it returns a value, for at most `timeoutMs`. */
/** A producer of a rehearsed morning: every recipient in the zone whose window ends at T. */
class RehearsedClient extends NotificationClient {
  constructor(
    private readonly timeZone: string,
    options: ConstructorParameters<typeof NotificationClient>[0],
  ) {
    super(options);
  }

  override schedule(input: NotificationInput) {
    return super.schedule({ ...input, recipient: { ...input.recipient, timeZone: this.timeZone } });
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

interface Recorder {
  stack: E2EStack;
  config: Config;
  proxy: LoopbackProxy;
  /** A client whose rehearsal policy releases at `releaseAtMs` (src/policy/releaseWindow.ts). */
  client(releaseAtMs: number, options?: { prestageSeconds?: number; cap?: number; overflow?: 'drop' | 'digest' }): NotificationClient;
  /** Fetches a workflow's history as it stands and keeps it under `name`. */
  keep(entry: Omit<RecordedHistory, 'file'>): Promise<void>;
}

const advertisement = (id: string, recipient: string, nightConsent = false) => ({
  notificationId: `${id}-${run}`,
  recipient: { id: `${recipient}-${run}`, nightConsent },
  channel: 'kakaotalk' as const,
  category: 'advertising' as const,
  payload: { template: id },
});

/** Each state, recorded in this order: the unreachable queue first, before any other send needs it. */
const SCENARIOS: Record<string, (recorder: Recorder) => Promise<void>> = {
  async 'notification-retrying'({ client, proxy, keep }) {
    await proxy.refuse();
    try {
      // Consent: it goes at once, and the queue does not answer.
      const notifications = client(nextWholeMinute(3_600_000, Date.now()));
      const input = advertisement('hist-retrying', 'hist-user-b', true);
      await notifications.schedule(input);
      await until('a failed send', async () => ((await notifications.status(input.notificationId)).status === 'retrying' ? true : undefined));
      // A second attempt has failed too: its timer and the next are in the history.
      await sleep(2_500);
      await keep({ name: 'notification-retrying', workflowId: `notification-${input.notificationId}`, state: 'a notification retrying after failed sends (the delivery queue unreachable)' });
    } finally {
      await proxy.accept();
    }
  },

  async 'notification-held-after-change'({ client, keep }) {
    const releaseAtMs = nextWholeMinute(3_600_000, Date.now());
    const notifications = client(releaseAtMs, { cap: 2 });
    const input = advertisement('hist-changed', 'hist-user-a');
    await notifications.schedule(input);
    // To the next night: it leaves this morning's gate and registers with the next one.
    const moved = await notifications.reschedule(input.notificationId, new Date(releaseAtMs + 22 * 3_600_000));
    if (moved.status !== 'held') throw new Error(`rescheduled into the next night, it is ${moved.status}`);
    await keep({ name: 'notification-held-after-change', workflowId: `notification-${input.notificationId}`, state: 'a held notification after a change (rescheduled to the next night: withdrawn from its gate, registered with the next)' });
  },

  async 'notification-staged-in-the-lead'({ client, keep }) {
    // Released within two minutes and staged 60 s ahead: it wakes in the lead and sends with a delay.
    const releaseAtMs = nextWholeMinute(70_000, Date.now());
    const notifications = client(releaseAtMs, { prestageSeconds: 60 });
    const input = advertisement('hist-staged', 'hist-user-c');
    await notifications.schedule(input);
    const done = await until('the staged send', async () => {
      const status = await notifications.status(input.notificationId);
      return status.status === 'delivered' ? status : undefined;
    });
    if (!(Date.parse(done.stagedAt!) < releaseAtMs)) throw new Error(`not staged before its release: ${JSON.stringify(done)}`);
    await keep({ name: 'notification-staged-in-the-lead', workflowId: `notification-${input.notificationId}`, state: 'a notification woken in the staging lead, sent with the SQS delay that remained' });
  },

  async 'gate-before-freeze'({ client, keep }) {
    const releaseAtMs = nextWholeMinute(3_600_000, Date.now());
    const notifications = client(releaseAtMs, { prestageSeconds: 60, cap: 2 });
    const inputs = [1, 2, 3].map((index) => advertisement(`hist-gate-open-${index}`, 'hist-user-d'));
    for (const input of inputs) await notifications.schedule(input);
    // A cancel before the freeze frees a place: the notification withdraws from its gate.
    await notifications.cancel(inputs[1]!.notificationId);
    const gateId = morningGateId(notifications.recipientSearchKey(inputs[0]!.recipient.id), new Date(releaseAtMs));
    const signals = async () => ((await notifications.temporal.workflow.getHandle(gateId).fetchHistory()).events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes).length;
    const completedTasks = async () => ((await notifications.temporal.workflow.getHandle(gateId).fetchHistory()).events ?? []).at(-1)?.workflowTaskCompletedEventAttributes;
    await until('three registrations and a withdrawal taken', async () => ((await signals()) >= 4 && (await completedTasks()) ? true : undefined));
    await keep({ name: 'gate-before-freeze', workflowId: gateId, state: 'a morning gate before its freeze: three registrations and a withdrawal' });
  },

  async 'gates-after-freeze-and-digest'({ client, keep }) {
    // Staging at T − 60 s; each gate freezes a minute before that, less its spread offset (≤ the lead).
    const releaseAtMs = nextWholeMinute(240_000, Date.now());
    const dropping = client(releaseAtMs, { prestageSeconds: 60, cap: 2 });
    const digesting = client(releaseAtMs, { prestageSeconds: 60, cap: 2, overflow: 'digest' });
    const frozen = [1, 2, 3].map((index) => advertisement(`hist-gate-frozen-${index}`, 'hist-user-e'));
    const digested = [1, 2, 3, 4].map((index) => advertisement(`hist-gate-digest-${index}`, 'hist-user-f'));
    for (const input of frozen) await dropping.schedule(input);
    for (const input of digested) await digesting.schedule(input);
    const frozenGate = morningGateId(dropping.recipientSearchKey(frozen[0]!.recipient.id), new Date(releaseAtMs));
    await sleep(freezeAtMsOf(frozenGate, releaseAtMs, 60_000) + 3_000 - Date.now());
    // After the freeze: a late registration gets only a free place (none: capped).
    const late = advertisement('hist-gate-frozen-late', 'hist-user-e');
    await dropping.schedule(late);
    if (Date.now() >= releaseAtMs - 60_000) throw new Error('the freeze was recorded too late: the gate is staging already');
    await keep({ name: 'gate-after-freeze', workflowId: frozenGate, state: 'a morning gate after its freeze, before staging: a late registration capped' });
    const told = await until('a notification told it is capped', async () => {
      for (const input of frozen) if ((await dropping.status(input.notificationId)).status === 'capped') return input;
      return undefined;
    });
    await keep({ name: 'notification-capped', workflowId: `notification-${told.notificationId}`, state: 'a notification its gate told, at the freeze, that the cap left no place for it' });
    const digestGate = morningGateId(digesting.recipientSearchKey(digested[0]!.recipient.id), new Date(releaseAtMs));
    await until('the digest', async () => ((await digesting.status(digested[0]!.notificationId)).status === 'digested' ? true : undefined), 240_000);
    await keep({ name: 'gate-digest-sent', workflowId: digestGate, state: 'a morning gate in digest mode with its digest on the queue, open until five minutes after its release' });
    await keep({ name: 'notification-digested', workflowId: `notification-${digested[0]!.notificationId}`, state: 'a notification merged into its recipient\'s digest: locked by the gate, ended when the digest was on the queue' });
  },

  async 'reconciler-run'({ stack, config, keep }) {
    // One documented legacy body on the legacy wait queue, drained by a run its Schedule starts.
    const body = JSON.stringify({ notificationId: `hist-legacy-${run}`, recipientId: `hist-user-g-${run}`, timeZone: 'Asia/Seoul', nightConsent: false, channel: 'KAKAO', type: 'AD', payload: { template: 'legacy' } });
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrls.legacyWait, MessageBody: body }));
    await ensureReconcileSchedule(stack.env.client, reconcileScheduleSettings(config));
    const schedule = reconcileScheduleHandle(stack.env.client);
    await schedule.trigger();
    const workflowId = await until('a reconciler run that took the message', async () => {
      for (const action of (await schedule.describe()).info.recentActions) {
        const handle = stack.env.client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
        const description = await handle.describe();
        if (description.status.name !== 'COMPLETED') continue;
        const result = (await handle.result()) as ReconcileResult;
        if ((result.started ?? 0) >= 1) return action.action.workflow.workflowId;
      }
      return undefined;
    });
    await schedule.pause('histories recorded');
    await keep({ name: 'reconciler-run', workflowId, state: 'a reconciler run started by its Schedule that turned a legacy message into a notification' });
  },

  async 'compliance-report'({ stack, config, keep }) {
    await ensureReportSchedule(stack.env.client, config);
    const schedule = stack.env.client.schedule.getHandle(REPORT_SCHEDULE_ID);
    await schedule.trigger();
    const workflowId = await until('the report run', async () => {
      const action = (await schedule.describe()).info.recentActions[0];
      if (!action) return undefined;
      const description = await stack.env.client.workflow.getHandle(action.action.workflow.workflowId).describe();
      return description.status.name === 'COMPLETED' ? action.action.workflow.workflowId : undefined;
    });
    await keep({ name: 'compliance-report', workflowId, state: 'the daily compliance report run its Schedule started' });
  },
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const only = values.only ? new Set(values.only.split(',')) : undefined;
  const reportDir = await mkdtemp(join(tmpdir(), 'kst-histories-reports-'));
  const stack = await startE2EStack({ env: { NOTIFY_REPORT_DIR: reportDir } });
  // The worker reaches SQS through a proxy that the retrying state closes.
  const { port } = new URL(stack.config.sqs.endpoint!);
  const proxy = await startLoopbackProxy({ host: '127.0.0.1', port: Number(port) });
  const config: Config = stack.config;
  const recorded: RecordedHistory[] = [];
  const cli = await provisionTemporalCli();
  if (cli.executable.type !== 'existing-path') throw new Error('the temporal CLI could not be provisioned as a file');
  const temporal = cli.executable.path;
  try {
    const worker = await createConfiguredWorker({ ...config, sqs: { ...config.sqs, endpoint: proxy.endpoint } }, stack.env.nativeConnection);
    const recorder: Recorder = {
      stack,
      config,
      proxy,
      client: (releaseAtMs, options = {}) => {
        const rehearsal = rehearsalEndingAt(releaseAtMs, config.policy);
        return new RehearsedClient(rehearsal.timeZone, {
          client: stack.env.client,
          taskQueue: config.temporal.taskQueue,
          policy: rehearsal.policy,
          recipientHashKey: testRecipientHashKey(),
          prestageSeconds: options.prestageSeconds ?? 0,
          ...(options.cap ? { morningCap: { cap: options.cap, overflow: options.overflow ?? 'drop' } } : {}),
        });
      },
      keep: async (entry) => {
        // As an operator would save one: `temporal workflow show -o json` (payloads stay encrypted).
        const { stdout } = await runCommand(temporal, ['workflow', 'show', '--address', stack.env.address, '--workflow-id', entry.workflowId, '--output', 'json']);
        const history = JSON.parse(stdout) as { events: unknown[] };
        const file = `${entry.name}.json`;
        await writeFile(join(HISTORIES_DIR, file), `${JSON.stringify(history, null, 1)}\n`);
        recorded.push({ ...entry, file });
        log(`recorded ${file}: ${history.events.length} events (${entry.state})`);
      },
    };
    await worker.runUntil(async () => {
      // The gate that freezes soonest starts first; the others run while it waits.
      const timed = SCENARIOS['gates-after-freeze-and-digest']!;
      const others = Object.entries(SCENARIOS).filter(([name]) => name !== 'gates-after-freeze-and-digest' && (!only || only.has(name)));
      const waiting = !only || only.has('gates-after-freeze-and-digest') ? timed(recorder) : Promise.resolve();
      waiting.catch(() => undefined);
      for (const [name, scenario] of others) {
        log(`recording ${name}…`);
        await scenario(recorder);
      }
      await waiting;
    });
    const index = JSON.parse(await readFile(join(HISTORIES_DIR, 'index.json'), 'utf8').catch(() => '[]')) as RecordedHistory[];
    const merged = [...index.filter((entry) => !recorded.some((fresh) => fresh.name === entry.name)), ...recorded].sort((a, b) => a.name.localeCompare(b.name));
    await writeFile(join(HISTORIES_DIR, 'index.json'), `${JSON.stringify(merged, null, 2)}\n`);
    log(`wrote ${recorded.length} histories into ${HISTORIES_DIR}`);
  } finally {
    await proxy.close();
    await stack.stop();
    await rm(reportDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
