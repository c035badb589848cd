/**
 * `queue peek`: what is on the delivery queue (or the legacy wait or dead-letter queue), decoded,
 * without consuming it. Each message is received with a short visibility timeout and made visible
 * again at once, so the downstream sender still gets every one.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../../config';
import { createSqsClient } from '../../sqs';
import { UsageError, writeLine, type CliCommand, type CliIo } from '../command';
import { localInstant, relative, type DisplayContext } from '../display';
import { assertStackFor } from '../localStack';

const QUEUES = {
  delivery: (sqs: Config['sqs']) => sqs.deliveryQueue,
  'legacy-wait': (sqs: Config['sqs']) => sqs.legacyWaitQueue,
  'dead-letter': (sqs: Config['sqs']) => sqs.deadLetterQueue,
} as const;
type QueueName = keyof typeof QUEUES;

/** How long a peeked message stays hidden if this process dies before making it visible again. */
const HIDE_SECONDS = 20;
/** SQS's short poll samples servers and may answer empty while messages wait: ask this often before calling it empty. */
const EMPTY_ANSWERS = 2;

export interface PeekedMessage {
  messageId: string;
  /** The body, parsed when it is JSON (the delivery message is), else the text. */
  body: unknown;
  attributes: Record<string, string>;
  /** When SQS accepted it (SentTimestamp), ISO-8601. */
  sentAt?: string;
  /** How often it has been received, this peek included. */
  receiveCount?: number;
}

export interface QueueCounts {
  receivable: number;
  /** Sent with a delay that has not passed (staged notifications before their release): SQS does not show these. */
  delayed: number;
  /** Received by a consumer and not yet deleted. */
  inFlight: number;
}

function decode(message: Message): PeekedMessage {
  let body: unknown = message.Body ?? '';
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    // not JSON: shown as it is
  }
  const attributes = Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue ?? `(${value.DataType})`]));
  const sent = Number(message.Attributes?.SentTimestamp);
  const count = Number(message.Attributes?.ApproximateReceiveCount);
  return {
    messageId: message.MessageId ?? '',
    body,
    attributes,
    ...(Number.isFinite(sent) ? { sentAt: new Date(sent).toISOString() } : {}),
    ...(Number.isFinite(count) ? { receiveCount: count } : {}),
  };
}

async function counts(sqs: SQSClient, queueUrl: string): Promise<QueueCounts> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    receivable: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/**
 * Up to `limit` receivable messages, left on the queue: received in tens with a short visibility
 * timeout (so one message is not seen twice), then made visible again together.
 */
export async function peekQueue(sqs: SQSClient, queueUrl: string, limit: number): Promise<PeekedMessage[]> {
  const seen = new Map<string, Message>();
  try {
    for (let empty = 0; seen.size < limit && empty < EMPTY_ANSWERS; ) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, limit - seen.size),
          VisibilityTimeout: HIDE_SECONDS,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
        }),
      );
      empty = Messages.length === 0 ? empty + 1 : 0;
      for (const message of Messages) if (message.MessageId && !seen.has(message.MessageId)) seen.set(message.MessageId, message);
    }
  } finally {
    const handles = [...seen.values()].map((message) => message.ReceiptHandle).filter((handle): handle is string => Boolean(handle));
    for (let start = 0; start < handles.length; start += 10) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: handles.slice(start, start + 10).map((handle, index) => ({ Id: String(start + index), ReceiptHandle: handle, VisibilityTimeout: 0 })),
        }),
      );
    }
  }
  return [...seen.values()].map(decode).sort((a, b) => (a.sentAt ?? '').localeCompare(b.sentAt ?? ''));
}

/** One message for a person: who, what, when it was released and why, then its body. */
function messageLines(message: PeekedMessage, context: DisplayContext): string[] {
  const { attributes } = message;
  const what = [attributes.category, attributes.channel].filter(Boolean).join('/');
  const released = attributes.releasedAt
    ? `receivable since ${localInstant(attributes.releasedAt, context)} (${relative(attributes.releasedAt, context.now)})${attributes.releaseReason ? `, ${attributes.releaseReason}` : ''}`
    : message.sentAt
      ? `sent ${localInstant(message.sentAt, context)}`
      : '';
  const headline = [attributes.notificationId ?? message.messageId, what, released].filter(Boolean).join('  ');
  const details: [string, string][] = [];
  if (attributes.scheduledAt) details.push(['scheduled', localInstant(attributes.scheduledAt, context)]);
  if (attributes.stagedAt && attributes.stagedAt !== attributes.releasedAt) details.push(['staged', localInstant(attributes.stagedAt, context)]);
  for (const [name, value] of Object.entries(attributes)) {
    if (!['notificationId', 'category', 'channel', 'releasedAt', 'releaseReason', 'scheduledAt', 'stagedAt'].includes(name)) details.push([name, value]);
  }
  details.push(['body', typeof message.body === 'string' ? message.body : JSON.stringify(message.body)]);
  const width = Math.max(...details.map(([label]) => label.length));
  return [headline, ...details.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)];
}

function countsLine(name: string, found: QueueCounts): string {
  return (
    `${name}: ${found.receivable} receivable, ${found.delayed} delayed (staged, receivable at their release; SQS shows them only then), ` +
    `${found.inFlight} in flight (received, not yet deleted)`
  );
}

async function peek(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { queue: { type: 'string', default: 'delivery' }, limit: { type: 'string', default: '10' }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(' ')}`);
  const queue = values.queue as QueueName;
  if (!(queue in QUEUES)) throw new UsageError(`--queue is one of ${Object.keys(QUEUES).join(', ')}`);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit is a whole number from 1 to 1000');
  const config = loadConfig(io.env);
  assertStackFor(config, { sqs: true });
  const sqs = createSqsClient(config.sqs);
  try {
    const name = QUEUES[queue](config.sqs);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    const messages = await peekQueue(sqs, QueueUrl!, limit);
    const found = await counts(sqs, QueueUrl!);
    if (values.json) {
      for (const message of messages) await writeLine(io.stdout, JSON.stringify(message));
      return 0;
    }
    await writeLine(io.stdout, countsLine(name, { ...found, receivable: Math.max(found.receivable, messages.length) }));
    const context: DisplayContext = { zone: config.policy.defaultTimeZone, now: io.now?.() ?? new Date() };
    for (const message of messages) for (const line of messageLines(message, context)) await writeLine(io.stdout, line);
    return 0;
  } finally {
    sqs.destroy();
  }
}

export const queueCommand: CliCommand = {
  name: 'queue',
  summary: 'peek at the delivery queue (or the legacy wait or dead-letter queue): its messages decoded, left on the queue',
  usage: [
    'queue peek [--queue delivery|legacy-wait|dead-letter] [--limit N] [--json]',
    '',
    'Shows up to N receivable messages (default 10, oldest first) with their attributes in the shop\'s zone,',
    'and how many are delayed (staged before their release: SQS shows a delayed message to nobody until then).',
    'Each message is received and made visible again at once: it stays on the queue, but the peek counts as',
    'a receive (ApproximateReceiveCount, and a redrive policy\'s maxReceiveCount). Meant for the local stack.',
    '--json prints one message per line: { messageId, body, attributes, sentAt, receiveCount }.',
  ].join('\n'),
  async run(args, io) {
    const [action, ...rest] = args;
    if (action !== 'peek') throw new UsageError(action === undefined ? 'expected peek' : `unknown action ${JSON.stringify(action)}: expected peek`);
    return peek(rest, io);
  },
};
