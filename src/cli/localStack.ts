/**
 * Where the CLI's servers come from when no TEMPORAL_ADDRESS is given: the local stack that
 * `npm start` runs and records in the data dir. Without one running, a command that needs Temporal
 * or SQS says so, and how to start it, instead of failing on what it would try next (missing keys,
 * AWS credentials in the default region, a refused connection).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { localSecretsFile, type Config } from '../config';
import { runningStackFile } from '../stack/runningStack';

/** No local stack to talk to: never started in this data dir, or not running now. */
export class NoLocalStackError extends Error {
  override readonly name = 'NoLocalStackError';
}

/** True when the configuration names no server of its own: the CLI then talks to the local stack. */
export function usesLocalStack(config: Config): boolean {
  return config.temporal.address === undefined;
}

/** The local stack was never started in this data dir: no generated keys, none in the environment. */
function neverStarted(config: Config): boolean {
  return !config.codec.keyring && !existsSync(localSecretsFile(config.localStack.dataDir));
}

function neverStartedError(config: Config): NoLocalStackError {
  return new NoLocalStackError(
    `no local stack found in ${resolve(config.localStack.dataDir)}: run \`npm start\` in another shell first ` +
      '(it starts Temporal, SQS and a worker, and generates the local keys). ' +
      'To use a deployment instead, set TEMPORAL_ADDRESS and its keys (docs/configuration.md).',
  );
}

/** The local stack ran here before but is not running now (or Temporal does not answer at its address). */
export function stoppedError(config: Config, detail?: string): NoLocalStackError {
  return new NoLocalStackError(
    `the local stack is not running: no \`npm start\` is recorded in ${runningStackFile(config.localStack.dataDir)}${detail ? ` (${detail})` : ''}. ` +
      'Start it with `npm start` in another shell. To use a deployment instead, set TEMPORAL_ADDRESS' +
      ` (and AWS_REGION, or AWS_ENDPOINT_URL_SQS for another SQS).`,
  );
}

/**
 * Before a command reaches out: with no server configured, the local stack must have been started
 * once (its keys exist) and, for SQS, be running now (without it the SDK would try real AWS in the
 * default region). Temporal is tried at its local address: a refused connection then says the
 * stack is not running (see withClient).
 */
export function assertStackFor(config: Config, needs: { sqs?: boolean } = {}): void {
  if (!usesLocalStack(config)) return;
  if (neverStarted(config)) throw neverStartedError(config);
  if (needs.sqs && !config.sqs.endpoint) throw stoppedError(config);
}
