/** Operator commands for the legacy wait queue: drain it now, manage its schedule, write demo messages. */
import { Client, Connection } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../../config';
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
import type { reconcileLegacyQueueWorkflow } from '../../workflows/reconcileLegacyQueue';
import { UsageError, type CliCommand } from '../command';
import { createProgressBar } from '../progressBar';

async function withTemporal<T>(config: Config, use: (client: Client) => Promise<T>): Promise<T> {
  const dataConverter = dataConverterFromConfig(config);
  const address = temporalAddress(config);
  const connection = await Connection.connect(await temporalConnectionOptions(config.temporal, address));
  try {
    return await use(new Client({ connection, namespace: config.temporal.namespace, dataConverter }));
  } finally {
    await connection.close();
  }
}

export const drainCommand: CliCommand = {
  name: 'drain',
  summary: 'run one reconciliation of the legacy wait queue now, with progress and a summary',
  usage: 'drain [--max-seconds N]',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { 'max-seconds': { type: 'string' } } });
    const config = loadConfig(io.env);
    const sqs = createSqsClient(config.sqs);
    const { legacyWait } = await resolveQueueUrls(sqs, config.sqs);
    const initial = await queueDepth(sqs, legacyWait);
    const bar = createProgressBar(io.stderr, 'draining legacy wait queue', initial);
    const result = await withTemporal(config, async (client) => {
      const handle = await client.workflow.start<typeof reconcileLegacyQueueWorkflow>('reconcileLegacyQueueWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId: `reconcile-legacy-wait-queue-drain-${new Date().toISOString()}`,
        args: [{ maxRunSeconds: Number(values['max-seconds'] ?? 600) }],
      });
      const poll = setInterval(() => {
        queueDepth(sqs, legacyWait)
          .then((left) => bar.update(Math.max(0, initial - left)))
          .catch(() => undefined);
      }, 500);
      try {
        return await handle.result();
      } finally {
        clearInterval(poll);
      }
    });
    bar.update(initial - Math.min(initial, await queueDepth(sqs, legacyWait)));
    bar.finish();
    io.stdout.write(
      `received ${result.received}: started ${result.started}, forwarded ${result.forwarded}, already present ${result.alreadyPresent}, ` +
        `dead-lettered ${result.deadLettered}; queue ${result.queueEmpty ? 'empty' : 'not yet empty (bounded run)'}\n`,
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
          await handle.trigger();
          io.stdout.write(`schedule ${RECONCILE_SCHEDULE_ID} triggered\n`);
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
  usage: 'legacy-send [--count N] [--encoding plain|double|mixed] [--type AD|ORDER|DELIVERY|REFUND] [--channel KAKAO|SMS|PUSH] [--consent] [--with-ids]',
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
      },
    });
    const count = Number(values.count);
    const encoding = values.encoding as 'plain' | 'double' | 'mixed';
    if (!Number.isInteger(count) || count < 1) throw new UsageError('--count is a whole number of at least 1');
    if (!['plain', 'double', 'mixed'].includes(encoding)) throw new UsageError('--encoding is plain, double or mixed');
    const config = loadConfig(io.env);
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
