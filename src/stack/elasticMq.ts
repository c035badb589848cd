/**
 * Starts ElasticMQ (the local SQS) on 127.0.0.1 with the given queues and waits until it answers.
 */
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findOnPath, ToolchainMissingError } from './commands';
import { elasticMqConfig } from './elasticMqConfig';
import { spawnManaged } from './managedProcess';
import { assertPortFree, freePort } from './ports';
import { provisionElasticMq } from './provisionElasticMq';
import type { ProvisionOptions } from './provisionTypes';

export interface StartElasticMqOptions extends ProvisionOptions {
  /** Default: a free port. */
  port?: number;
  queues: string[];
  /** Region for queue ARNs; default ap-northeast-2. */
  region?: string;
  /** How long to wait for it to answer; the JVM takes a few seconds on 2 cores. */
  startTimeoutMs?: number;
  /** Keep the messages across restarts in this directory (created if missing); undefined: in memory only. */
  dataDir?: string;
}

export interface RunningElasticMq {
  /** e.g. http://127.0.0.1:9324, for AWS_ENDPOINT_URL_SQS / SQSClient's endpoint. */
  endpoint: string;
  port: number;
  /** The JVM's pid. */
  readonly pid: number;
  /** Stops the JVM (and waits until it is gone); safe to call twice. */
  stop(): Promise<void>;
}

/** The H2 database of the kept messages in the data dir (H2 adds `.mv.db`). */
export const ELASTICMQ_MESSAGES_FILE = 'messages';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startElasticMq(options: StartElasticMqOptions): Promise<RunningElasticMq> {
  const java = findOnPath('java');
  if (!java) throw new ToolchainMissingError('java', 'run ElasticMQ (the local SQS)');
  const { libDir } = await provisionElasticMq(options);
  const port = options.port ?? (await freePort());
  if (options.port !== undefined) await assertPortFree(port, 'ElasticMQ (SQS)', 'NOTIFY_SQS_PORT');

  const configDir = await mkdtemp(join(tmpdir(), 'kst-elasticmq-'));
  const configFile = join(configDir, 'elasticmq.conf');
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  if (dataDir) await mkdir(dataDir, { recursive: true });
  await writeFile(
    configFile,
    elasticMqConfig({
      port,
      bindHost: '127.0.0.1',
      queues: options.queues,
      region: options.region ?? 'ap-northeast-2',
      messagesFile: dataDir === undefined ? undefined : join(dataDir, ELASTICMQ_MESSAGES_FILE),
    }),
  );
  const server = spawnManaged('elasticmq', java, [
    // Small heap and quick start: a local queue holds a few thousand messages at most.
    '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
    `-Dconfig.file=${configFile}`,
    '-cp', `${libDir}/*`,
    'org.elasticmq.server.Main',
  ]);
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await server.stop();
    await rm(configDir, { recursive: true, force: true });
  };

  const probe = new SQSClient({ endpoint, region: options.region ?? 'ap-northeast-2', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let exitedWith: string | undefined;
  void server.exited.then((how) => (exitedWith = how));
  try {
    for (;;) {
      if (exitedWith) throw new Error(`ElasticMQ exited (${exitedWith}) before answering on ${endpoint}:\n${server.output()}`);
      try {
        const { QueueUrls = [] } = await probe.send(new ListQueuesCommand({}), { abortSignal: AbortSignal.timeout(2_000) });
        // The queues are created just after the port opens; wait for all of them.
        const names = QueueUrls.map((url) => url.slice(url.lastIndexOf('/') + 1));
        if (options.queues.every((queue) => names.includes(queue))) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`ElasticMQ did not answer on ${endpoint} within ${options.startTimeoutMs ?? 60_000} ms:\n${server.output()}`);
      await sleep(200);
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    probe.destroy();
  }
  return {
    endpoint,
    port,
    get pid() {
      return server.programPid();
    },
    stop,
  };
}
