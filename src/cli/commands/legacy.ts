/** Operator commands for the legacy wait queue: drain it now, manage its schedule, write demo messages. */
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../../config';
import { addCounts, EMPTY_COUNTS } from '../../legacy/drainCounts';
import { demoLegacyBodies, sendRawMessages } from '../../legacy/legacySender';
import {
  ensureReconcileSchedule,
  reconcileScheduleHandle,
  reconcileScheduleSettings,
  RECONCILE_SCHEDULE_ID,
} from '../../schedules/reconcileSchedule';
import { dataConverterFromConfig } from '../../security/dataConverter';
import { createSqsClient, queueDepth, resolveQueueUrls } from '../../sqs';
import { temporalAddress, temporalConnectionOptions } from '../../temporalConnection';
import type { ReconcileResult } from '../../workflows/reconcileLegacyQueue';
import { UsageError, type CliCommand } from '../command';
import { assertStackFor, stoppedError, usesLocalStack } from '../localStack';
import { readNotificationFile } from '../notificationJson';
import { createProgressBar } from '../progressBar';

async function withTemporal<T>(config: Config, use: (client: Client) => Promise<T>): Promise<T> {
  assertStackFor(config);
  const dataConverter = dataConverterFromConfig(config);
  const address = temporalAddress(config);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...(await temporalConnectionOptions(config.temporal, address)), connectTimeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    if (usesLocalStack(config)) throw stoppedError(config, `nothing answers at ${address}`);
    throw error;
  }
  try {
    return await use(new Client({ connection, namespace: config.temporal.namespace, dataConverter }));
  } finally {
    await connection.close();
  }
}

/** A whole number of seconds from an option, or a usage error naming it. */
function seconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) throw new UsageError(`${name} must be a whole number of seconds, at least 1 (got ${JSON.stringify(value)})`);
  return parsed;
}

/** As withClient: a server that is not there is said so in 2 s. */
const CONNECT_TIMEOUT_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs reconciliations through the schedule until the queue answers empty or `maxSeconds` pass:
 * each is a trigger that waits for a run in progress (overlap "buffer one"), so that a drain never
 * runs beside a scheduled reconciliation. Copies of one legacy body are told apart by when they
 * were sent, which holds only while one reconciliation at a time handles them.
 */
async function drainThroughSchedule(client: Client, config: Config, maxSeconds: number): Promise<ReconcileResult> {
  const handle = reconcileScheduleHandle(client);
  await ensureReconcileSchedule(client, reconcileScheduleSettings(config));
  const deadline = Date.now() + maxSeconds * 1000;
  const started = (description: Awaited<ReturnType<typeof handle.describe>>) =>
    [...description.info.recentActions.map((action) => action.action), ...description.info.runningActions].map((action) => action.workflow.workflowId);
  let total: ReconcileResult = { ...EMPTY_COUNTS, queueEmpty: false };
  do {
    const before = new Set(started(await handle.describe()));
    await handle.trigger(ScheduleOverlapPolicy.BUFFER_ONE);
    // Ours starts at once, or after the run in progress (bounded by NOTIFY_RECONCILE_MAX_SECONDS).
    const waitUntil = Date.now() + (config.reconcile.maxSecondsPerRun + 60) * 1000;
    let workflowId: string | undefined;
    while (!workflowId) {
      if (Date.now() > waitUntil) throw new Error(`the schedule ${RECONCILE_SCHEDULE_ID} took no action after the trigger: is a worker running on task queue "${config.temporal.taskQueue}"?`);
      await sleep(250);
      workflowId = started(await handle.describe()).find((id) => !before.has(id));
    }
    const result: ReconcileResult = await client.workflow.getHandle(workflowId).result();
    total = { ...addCounts(total, result), queueEmpty: result.queueEmpty };
  } while (!total.queueEmpty && Date.now() < deadline);
  return total;
}

export const drainCommand: CliCommand = {
  name: 'drain',
  summary: 'reconcile the legacy wait queue now, through its schedule, until it is empty (progress and a summary)',
  usage: 'drain [--max-seconds N]',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { 'max-seconds': { type: 'string' } } });
    const maxSeconds = seconds(values['max-seconds'], '--max-seconds', 600);
    const config = loadConfig(io.env);
    assertStackFor(config, { sqs: true });
    const sqs = createSqsClient(config.sqs);
    const { legacyWait } = await resolveQueueUrls(sqs, config.sqs);
    const initial = await queueDepth(sqs, legacyWait);
    const bar = createProgressBar(io.stderr, 'draining legacy wait queue', initial);
    const poll = setInterval(() => {
      queueDepth(sqs, legacyWait)
        .then((left) => bar.update(Math.max(0, initial - left)))
        .catch(() => undefined);
    }, 500);
    let result: ReconcileResult;
    try {
      result = await withTemporal(config, (client) => drainThroughSchedule(client, config, maxSeconds));
    } finally {
      clearInterval(poll);
    }
    bar.update(initial - Math.min(initial, await queueDepth(sqs, legacyWait)));
    bar.finish();
    io.stdout.write(
      `received ${result.received}: started ${result.started}, forwarded ${result.forwarded}, already present ${result.alreadyPresent}, ` +
        `dead-lettered ${result.deadLettered}; queue ${result.queueEmpty ? 'empty' : `not yet empty after ${maxSeconds} s`}\n`,
    );
    return 0;
  },
};

export const scheduleLegacyCommand: CliCommand = {
  name: 'schedule-legacy',
  summary: `manage the Temporal Schedule "${RECONCILE_SCHEDULE_ID}" (ensure | pause | resume | trigger | describe)`,
  usage: 'schedule-legacy <ensure|pause|resume|trigger|describe>',
  async run(args, io) {
    const [action] = args;
    if (args.length !== 1 || !['ensure', 'pause', 'resume', 'trigger', 'describe'].includes(action!)) {
      throw new UsageError('expected one of ensure, pause, resume, trigger, describe');
    }
    const config = loadConfig(io.env);
    return withTemporal(config, async (client) => {
      const handle = reconcileScheduleHandle(client);
      switch (action) {
        case 'ensure':
          io.stdout.write(`schedule ${RECONCILE_SCHEDULE_ID} ${await ensureReconcileSchedule(client, reconcileScheduleSettings(config))}\n`);
          return 0;
        case 'pause':
          await handle.pause('paused from the CLI');
          io.stdout.write(`schedule ${RECONCILE_SCHEDULE_ID} paused\n`);
          return 0;
        case 'resume':
          await handle.unpause('resumed from the CLI');
          io.stdout.write(`schedule ${RECONCILE_SCHEDULE_ID} resumed\n`);
          return 0;
        case 'trigger':
          // Never beside a run in progress: one reconciliation at a time, as the schedule promises.
          await handle.trigger(ScheduleOverlapPolicy.BUFFER_ONE);
          io.stdout.write(`schedule ${RECONCILE_SCHEDULE_ID} triggered (after the run in progress, if any)\n`);
          return 0;
        case 'describe': {
          const description = await handle.describe();
          io.stdout.write(
            `${JSON.stringify(
              {
                scheduleId: description.scheduleId,
                paused: description.state.paused,
                spec: description.spec,
                overlap: description.policies.overlap,
                nextActionTimes: description.info.nextActionTimes.slice(0, 3),
                recentActions: description.info.recentActions.slice(-3),
              },
              null,
              2,
            )}\n`,
          );
          return 0;
        }
        default:
          throw new UsageError(`unknown action ${action}`);
      }
    });
  },
};

export const legacySendCommand: CliCommand = {
  name: 'legacy-send',
  summary: 'write demo messages to the legacy wait queue in the old format (tests and demos)',
  usage:
    'legacy-send [--count N] [--encoding plain|double|mixed] [--type AD|ORDER|DELIVERY|REFUND] [--channel KAKAO|SMS|PUSH] [--consent] [--with-ids]\n' +
    '       npm run cli -- legacy-send --file <body file>   (one body as it is, e.g. examples/legacy/documented.json)',
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        count: { type: 'string', default: '10' },
        encoding: { type: 'string', default: 'double' },
        type: { type: 'string', default: 'AD' },
        channel: { type: 'string', default: 'KAKAO' },
        consent: { type: 'boolean', default: false },
        'with-ids': { type: 'boolean', default: false },
        file: { type: 'string' },
      },
    });
    if (values.file !== undefined) {
      const config = loadConfig(io.env);
      assertStackFor(config, { sqs: true });
      const sqs = createSqsClient(config.sqs);
      const { legacyWait } = await resolveQueueUrls(sqs, config.sqs);
      // The body as the file holds it, less a final newline: a producer's message, byte for byte.
      const body = (await readNotificationFile(values.file)).replace(/\r?\n$/, '');
      await sendRawMessages(sqs, legacyWait, [body]);
      io.stdout.write(`wrote 1 legacy message (${values.file}) to ${legacyWait}\n`);
      return 0;
    }
    const count = Number(values.count);
    const encoding = values.encoding as 'plain' | 'double' | 'mixed';
    if (!Number.isInteger(count) || count < 1) throw new UsageError('--count is a whole number of at least 1');
    if (!['plain', 'double', 'mixed'].includes(encoding)) throw new UsageError('--encoding is plain, double or mixed');
    const config = loadConfig(io.env);
    assertStackFor(config, { sqs: true });
    const sqs = createSqsClient(config.sqs);
    const { legacyWait } = await resolveQueueUrls(sqs, config.sqs);
    const bodies = demoLegacyBodies({
      count,
      encoding,
      type: values.type,
      channel: values.channel,
      nightConsent: values.consent,
      withIds: values['with-ids'],
    });
    const sent = await sendRawMessages(sqs, legacyWait, bodies);
    io.stdout.write(`wrote ${sent} legacy messages to ${legacyWait}\n`);
    return 0;
  },
};
