/** Operator commands on single notifications: schedule, status, cancel, reschedule, consent; find one recipient's. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { NotificationClient } from '../../client';
import { loadConfig } from '../../config';
import { InvalidNotificationError, parseNotification, parseReschedule, type Reschedule } from '../../notification';
import { UsageError, writeLine, type CliCommand, type CliIo } from '../command';

async function withClient<T>(io: CliIo, use: (client: NotificationClient) => Promise<T>): Promise<T> {
  const client = await NotificationClient.connect(loadConfig(io.env));
  try {
    return await use(client);
  } finally {
    await client.temporal.connection.close();
  }
}

/** The positional arguments, exactly `count` of them, or a usage error. */
function positionals(args: string[], count: number): string[] {
  if (args.length !== count || args.some((arg) => arg.startsWith('--'))) {
    throw new UsageError(`expected ${count} argument${count === 1 ? '' : 's'}`);
  }
  return args;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

export const scheduleCommand: CliCommand = {
  name: 'schedule',
  summary: 'schedule one notification from a JSON file (or - for stdin)',
  usage: 'schedule <file.json | ->',
  async run(args, io) {
    const [file] = positionals(args, 1);
    const text = file === '-' ? await readAll(io.stdin) : await readFile(file!, 'utf8');
    // Checked before connecting: bad JSON is a SyntaxError, a bad notification an InvalidNotificationError.
    const notification = parseNotification(JSON.parse(text));
    const { notificationId, workflowId, started } = await withClient(io, (client) => client.schedule(notification));
    await writeLine(io.stdout, JSON.stringify({ notificationId, workflowId, started }));
    return 0;
  },
};

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'show where a notification stands (held until…, delivered, cancelled, expired)',
  usage: 'status <notificationId>',
  async run(args, io) {
    const [id] = positionals(args, 1);
    await writeLine(io.stdout, JSON.stringify(await withClient(io, (client) => client.status(id!))));
    return 0;
  },
};

export const cancelCommand: CliCommand = {
  name: 'cancel',
  summary: 'cancel a held notification (says what happened instead if it was too late)',
  usage: 'cancel <notificationId>',
  async run(args, io) {
    const [id] = positionals(args, 1);
    const outcome = await withClient(io, (client) => client.cancel(id!));
    await writeLine(io.stdout, JSON.stringify(outcome));
    return outcome.cancelled ? 0 : 1;
  },
};

export const rescheduleCommand: CliCommand = {
  name: 'reschedule',
  summary: 'move a held notification to not before an instant ("none" clears it); the quiet window still applies',
  usage: 'reschedule <notificationId> <ISO-8601 instant | none>',
  async run(args, io) {
    const [id, instant] = positionals(args, 2);
    // Checked before connecting: an instant without its offset would be read in this host's zone.
    let change: Reschedule;
    try {
      change = parseReschedule({ notBefore: instant === 'none' ? null : instant });
    } catch (error) {
      throw error instanceof InvalidNotificationError ? new UsageError(error.message) : error;
    }
    const { notBefore } = change;
    const result = await withClient(io, (client) => client.reschedule(id!, notBefore));
    await writeLine(io.stdout, JSON.stringify(result));
    return 0;
  },
};

export const consentCommand: CliCommand = {
  name: 'consent',
  summary: "record the recipient's night-time consent for a held notification (given | withdrawn)",
  usage: 'consent <notificationId> <given | withdrawn>',
  async run(args, io) {
    const [id, consent] = positionals(args, 2);
    if (consent !== 'given' && consent !== 'withdrawn') throw new UsageError('consent is "given" or "withdrawn"');
    const result = await withClient(io, (client) => client.updateConsent(id!, consent === 'given'));
    await writeLine(io.stdout, JSON.stringify(result));
    return 0;
  },
};

export const findCommand: CliCommand = {
  name: 'find',
  summary: "list one recipient's notifications (matched through the keyed hash in RecipientId; newest first)",
  usage: 'find --recipient <recipientId> [--limit N]',
  async run(args, io) {
    const { values } = parseArgs({ args, options: { recipient: { type: 'string' }, limit: { type: 'string', default: '100' } } });
    if (!values.recipient) throw new UsageError('--recipient is required');
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
    const found = await withClient(io, (client) => client.findByRecipient(values.recipient!, { limit }));
    for (const notification of found) await writeLine(io.stdout, JSON.stringify(notification));
    return 0;
  },
};
