/**
 * The servers of the local stack, for `npm start` and the end-to-end tests alike: a Temporal dev
 * server and ElasticMQ with the configured queues. A server named by the environment
 * (TEMPORAL_ADDRESS, AWS_ENDPOINT_URL_SQS) is used as it is and not started.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Config } from '../config';
import { dataConverterFromConfig } from '../security/dataConverter';
import { temporalConnectionOptions } from '../temporalConnection';
import { startElasticMq, type RunningElasticMq } from './elasticMq';
import { configuredQueueNames } from './elasticMqConfig';
import { stderrLog, type Log } from './progress';
import { startDevServer } from './temporalServers';

export interface LocalServersOptions {
  config: Config;
  /** Dev server gRPC port; default a free one. Ignored with TEMPORAL_ADDRESS. */
  temporalPort?: number;
  /** Web UI port; undefined = no UI. */
  temporalUiPort?: number;
  /** SQLite file for the dev server; undefined = in memory. */
  dbFilename?: string;
  /** ElasticMQ port; default a free one. Ignored with AWS_ENDPOINT_URL_SQS. */
  sqsPort?: number;
  /** Where ElasticMQ keeps its messages across restarts; undefined = in memory. */
  sqsDataDir?: string;
  /** The codec server the Web UI decodes payloads with; undefined = none (the UI shows ciphertext). */
  uiCodecEndpoint?: string;
  /** The dev server's own log level (see startDevServer). */
  serverLogLevel?: 'warn' | 'error';
  /** More dynamic configuration for the dev server (see startDevServer). */
  dynamicConfig?: string[];
  log?: Log;
}

export interface LocalServers {
  /** The configuration with the started servers filled in (temporal.address, sqs.endpoint). */
  config: Config;
  /** Client and connections to Temporal, started here or the one in TEMPORAL_ADDRESS. */
  env: TestWorkflowEnvironment;
  /** What was started here, and what was reused (for the banner). */
  started: { temporal: boolean; sqs: boolean };
  /** Stops what was started here (never a server it did not start), saying so in a line each; safe to call twice. */
  stop(): Promise<void>;
}

export async function startLocalServers(options: LocalServersOptions): Promise<LocalServers> {
  const { config } = options;
  // env.client encrypts like every other client; no keys, no stack (a ConfigError naming them).
  const dataConverter = dataConverterFromConfig(config);
  const log = options.log ?? stderrLog;
  const localStack = config.localStack;
  let elasticMq: RunningElasticMq | undefined;
  let env: TestWorkflowEnvironment | undefined;
  const stop = async () => {
    // Temporal first: a worker still running would otherwise retry against a vanished queue.
    const [stoppingEnv, stoppingQueue] = [env, elasticMq];
    env = undefined;
    elasticMq = undefined;
    if (stoppingEnv) {
      await stoppingEnv.teardown();
      if (!config.temporal.address) log('Temporal dev server stopped');
    }
    if (stoppingQueue) {
      await stoppingQueue.stop();
      log('ElasticMQ stopped');
    }
  };
  try {
    // ElasticMQ's JVM and the dev server start in parallel: on 2 cores that saves seconds.
    const sqsReady = config.sqs.endpoint
      ? Promise.resolve(undefined)
      : startElasticMq({ port: options.sqsPort, queues: configuredQueueNames(config.sqs), region: config.sqs.region, dataDir: options.sqsDataDir, localStack, log }).then(
          (running) => (elasticMq = running),
        );
    const temporalReady = config.temporal.address
      ? temporalConnectionOptions(config.temporal, config.temporal.address).then(({ address, tls, apiKey }) =>
          TestWorkflowEnvironment.createFromExistingServer({
            address,
            namespace: config.temporal.namespace,
            connectionOptions: { tls, apiKey },
            client: { dataConverter },
          }),
        )
      : startDevServer({
          port: options.temporalPort,
          uiPort: options.temporalUiPort,
          dbFilename: options.dbFilename,
          namespace: config.temporal.namespace,
          dataConverter,
          uiCodecEndpoint: options.uiCodecEndpoint,
          logLevel: options.serverLogLevel,
          dynamicConfig: options.dynamicConfig,
          localStack,
          log,
        });
    const [envResult, sqsResult] = await Promise.allSettled([temporalReady, sqsReady]);
    if (envResult.status === 'fulfilled') env = envResult.value;
    if (envResult.status === 'rejected') throw envResult.reason;
    if (sqsResult.status === 'rejected') throw sqsResult.reason;
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    config: {
      ...config,
      temporal: { ...config.temporal, address: env!.address },
      sqs: { ...config.sqs, endpoint: config.sqs.endpoint ?? elasticMq!.endpoint },
    },
    env: env!,
    started: { temporal: !config.temporal.address, sqs: !config.sqs.endpoint },
    stop,
  };
}
