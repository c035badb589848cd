/** Operator commands on single notifications: schedule, status, cancel. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { NotificationClient } from '../../client';
import type { CliCommand } from '../command';

async function withClient<T>(use: (client: NotificationClient) => Promise<T>): Promise<T> {
  const client = await NotificationClient.connect();
  try {
    return await use(client);
  } finally {
    await client.temporal.connection.close();
  }
}

export const scheduleCommand: CliCommand = {
  name: 'schedule',
  summary: 'schedule one notification from a JSON file (or - for stdin)',
  usage: 'schedule <file.json | ->',
  async run(args, io) {
    const [file] = args;
    if (!file) {
      io.stderr.write(`usage: ${this.usage}\n`);
      return 2;
    }
    const text = file === '-' ? await readAll(io.stdin) : await readFile(file, 'utf8');
    const scheduled = await withClient((client) => client.schedule(JSON.parse(text)));
    io.stdout.write(`${JSON.stringify({ notificationId: scheduled.notificationId, workflowId: scheduled.workflowId, started: scheduled.started })}\n`);
    return 0;
  },
};

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'show where a notification stands (held until…, delivered, cancelled, expired)',
  usage: 'status <notificationId>',
  async run(args, io) {
    const { positionals } = parseArgs({ args, allowPositionals: true });
    if (positionals.length !== 1) {
      io.stderr.write(`usage: ${this.usage}\n`);
      return 2;
    }
    const status = await withClient((client) => client.status(positionals[0]!));
    io.stdout.write(`${JSON.stringify(status)}\n`);
    return 0;
  },
};

export const cancelCommand: CliCommand = {
  name: 'cancel',
  summary: 'cancel a held notification (reports what happened if it was too late)',
  usage: 'cancel <notificationId>',
  async run(args, io) {
    const { positionals } = parseArgs({ args, allowPositionals: true });
    if (positionals.length !== 1) {
      io.stderr.write(`usage: ${this.usage}\n`);
      return 2;
    }
    const outcome = await withClient((client) => client.cancel(positionals[0]!));
    io.stdout.write(`${JSON.stringify(outcome)}\n`);
    return outcome.cancelled ? 0 : 1;
  },
};

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}
