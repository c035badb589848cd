import { NotificationClient, TemporalUnreachableError } from '../client';
import type { Config } from '../config';
import { assertStackFor, stoppedError, usesLocalStack } from './localStack';

/** A CLI answers within seconds: a stack that is not there is said so in 2 s, not the SDK's 10. */
const CONNECT_TIMEOUT_MS = 2_000;

/** Connects, runs `use`, and closes the connection whatever happened. */
export async function withClient<T>(config: Config, use: (client: NotificationClient) => Promise<T>): Promise<T> {
  assertStackFor(config);
  let client: NotificationClient;
  try {
    client = await NotificationClient.connect(config, { connectTimeoutMs: CONNECT_TIMEOUT_MS });
  } catch (error) {
    // Nothing answers where the local stack would be: say that it is not running, and how to start it.
    if (error instanceof TemporalUnreachableError && usesLocalStack(config)) throw stoppedError(config, `nothing answers at ${error.address}`);
    throw error;
  }
  try {
    return await use(client);
  } finally {
    await client.temporal.connection.close();
  }
}
