/**
 * A producer process for test/morning.e2e.test.ts: it connects on its own, waits for a common
 * instant, then schedules its share of one recipient's advertisements as a real producer would
 * (its own NotificationClient, 32 calls in flight): every tenth twice (a retry), and every
 * fiftieth cancelled as soon as it is scheduled. It prints one JSON line: what each call answered.
 *
 * Its task is given as JSON in argv[2]:
 *   { address, taskQueue, releaseAtMs, startAtMs, cap, overflow, producer, count, recipient, run }
 */
import { Client, Connection } from '@temporalio/client';
import { NotificationClient } from '../../src/client';
import type { NotificationInput } from '../../src/notification';
import { inRehearsalZone, rehearsalEndingAt } from '../../src/policy';
import { loadConfig } from '../../src/config';
import { testDataConverter, testRecipientHashKey } from './stack';

interface Task {
  address: string;
  taskQueue: string;
  releaseAtMs: number;
  startAtMs: number;
  cap: number;
  overflow: 'drop' | 'digest';
  producer: number;
  count: number;
  recipient: string;
  run: string;
}

/** The i-th advertisement of a producer: every fifth shares one of 25 collapse keys; priorities mixed. */
export function producerInput(task: Pick<Task, 'producer' | 'recipient' | 'run'>, index: number): NotificationInput {
  return {
    notificationId: `${task.run}-p${task.producer}-${index}`,
    recipient: { id: task.recipient },
    channel: index % 3 === 0 ? 'push' : 'kakaotalk',
    category: 'advertising',
    priority: index % 7 === 0 ? 1 : index % 11 === 0 ? -1 : 0,
    ...(index % 5 === 0 ? { collapseKey: `sale-${index % 25}` } : {}),
    payload: { producer: task.producer, index },
  };
}

export const scheduledTwice = (index: number) => index % 10 === 3;
export const cancelledAtIntake = (index: number) => index % 50 === 7;

export interface ProducerReport {
  producer: number;
  started: number;
  retriedStartedNothing: number;
  cancelled: number;
  failures: string[];
  firstCallAtMs: number;
  lastCallAtMs: number;
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2]!) as Task;
  const config = loadConfig();
  const connection = await Connection.connect({ address: task.address });
  const rehearsal = rehearsalEndingAt(task.releaseAtMs, config.policy);
  const client = new NotificationClient({
    client: new Client({ connection, dataConverter: testDataConverter() }),
    taskQueue: task.taskQueue,
    policy: rehearsal.policy,
    recipientHashKey: testRecipientHashKey(),
    prestageSeconds: 0,
    morningCap: { cap: task.cap, overflow: task.overflow },
  });
  const report: ProducerReport = { producer: task.producer, started: 0, retriedStartedNothing: 0, cancelled: 0, failures: [], firstCallAtMs: 0, lastCallAtMs: 0 };
  const indexes = Array.from({ length: task.count }, (_, index) => index);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, task.startAtMs - Date.now())));
  report.firstCallAtMs = Date.now();
  let next = 0;
  const lane = async () => {
    while (next < indexes.length) {
      const index = indexes[next++]!;
      const [input] = inRehearsalZone([producerInput(task, index)], rehearsal);
      try {
        if ((await client.schedule(input!)).started) report.started += 1;
        if (scheduledTwice(index) && !(await client.schedule(input!)).started) report.retriedStartedNothing += 1;
        if (cancelledAtIntake(index) && (await client.cancel(input!.notificationId)).cancelled) report.cancelled += 1;
      } catch (error) {
        report.failures.push(`${input!.notificationId}: ${(error as Error).name}: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  report.lastCallAtMs = Date.now();
  await connection.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
