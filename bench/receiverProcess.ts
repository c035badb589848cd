/**
 * The downstream consumer of the delivery queue, in its own process so that its CPU is counted
 * apart from the system under test: `lanes` long-polling receive loops, started before the release
 * instant, that record the instant each message is first received (by its notificationId) and
 * delete what they receive. Driven by bench/downstream.ts over the IPC channel; it exits when the
 * parent goes away.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';

export interface ReceiverStart {
  type: 'start';
  queueUrl: string;
  endpoint: string;
  region: string;
  /** Receive until this many distinct notification ids have arrived, then report after quietMs. */
  expected: number;
  lanes: number;
  /** After the last expected id, keep receiving this long so that a late duplicate is seen. */
  quietMs: number;
}

export interface ReceiverReport {
  type: 'report';
  /**
   * [notificationId, first receive instant (ms), SentTimestamp (ms), its stagedAt attribute (ms)] in
   * order of arrival. SentTimestamp is when SQS took it, on SQS's clock (here the machine's, which
   * the Temporal server shares); stagedAt is when the worker reckoned it handed it over.
   */
  arrivals: [string, number, number, number][];
  /** A second receive of an id already received: [notificationId, instant]. */
  duplicates: [string, number][];
  /** Messages without an expected-looking notificationId attribute. */
  strangers: number;
  received: number;
  deleteErrors: number;
  receiveErrors: number;
}

const send = (message: unknown) => process.send?.(message);

async function run(start: ReceiverStart): Promise<void> {
  const sqs = new SQSClient({
    region: start.region,
    endpoint: start.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const firstReceive = new Map<string, [number, number, number]>();
  const order: string[] = [];
  const duplicates: [string, number][] = [];
  let strangers = 0;
  let received = 0;
  let deleteErrors = 0;
  let receiveErrors = 0;
  let stopping = false;
  let allArrivedAt: number | undefined;
  const deletes = new Set<Promise<unknown>>();

  const report = async () => {
    stopping = true;
    await Promise.allSettled([...deletes]);
    const arrivals = order.map((id) => [id, ...firstReceive.get(id)!] as [string, number, number, number]);
    const message: ReceiverReport = { type: 'report', arrivals, duplicates, strangers, received, deleteErrors, receiveErrors };
    send(message);
  };
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'finish' && !stopping) void report();
  });

  const lane = async () => {
    while (!stopping) {
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: start.queueUrl,
            MaxNumberOfMessages: 10,
            // Long polling: the consumer a downstream sender would run.
            WaitTimeSeconds: 1,
            // Longer than any run: a message received twice was delivered twice.
            VisibilityTimeout: 900,
            MessageAttributeNames: ['notificationId', 'stagedAt'],
            MessageSystemAttributeNames: ['SentTimestamp'],
          }),
        ));
      } catch {
        receiveErrors += 1;
        if (!stopping) await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const now = Date.now();
      for (const message of messages) {
        received += 1;
        const id = message.MessageAttributes?.notificationId?.StringValue;
        if (id === undefined) strangers += 1;
        else if (firstReceive.has(id)) duplicates.push([id, now]);
        else {
          firstReceive.set(id, [now, Number(message.Attributes?.SentTimestamp), Date.parse(message.MessageAttributes?.stagedAt?.StringValue ?? '')]);
          order.push(id);
        }
      }
      if (messages.length > 0) {
        // Deleted in the background: the next receive does not wait for it.
        const deleting = sqs
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl: start.queueUrl,
              Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
            }),
          )
          .then(
            (result) => (deleteErrors += result.Failed?.length ?? 0),
            () => (deleteErrors += messages.length),
          );
        deletes.add(deleting);
        void deleting.finally(() => deletes.delete(deleting));
      }
      if (allArrivedAt === undefined && firstReceive.size >= start.expected) {
        allArrivedAt = now;
        send({ type: 'all-arrived', at: now });
        setTimeout(() => void report(), start.quietMs);
      }
    }
  };
  const lanes = Array.from({ length: start.lanes }, lane);
  send({ type: 'ready' });
  const progress = setInterval(() => send({ type: 'progress', distinct: firstReceive.size }), 500);
  await Promise.all(lanes);
  clearInterval(progress);
  sqs.destroy();
}

process.once('message', (message: ReceiverStart) => {
  run(message).catch((error) => {
    send({ type: 'error', message: error instanceof Error ? error.stack ?? error.message : String(error) });
    process.exit(1);
  });
});
// The parent went away (finished or died): nothing is left to report to.
process.on('disconnect', () => process.exit(0));
