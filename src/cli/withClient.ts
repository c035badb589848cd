import { NotificationClient } from '../client';
import type { Config } from '../config';

/** A CLI answers within seconds: a stack that is not there is said so in 2 s, not the SDK's 10. */
const CONNECT_TIMEOUT_MS = 2_000;

/** Connects, runs `use`, and closes the connection whatever happened. */
export async function withClient<T>(config: Config, use: (client: NotificationClient) => Promise<T>): Promise<T> {
  const client = await NotificationClient.connect(config, { connectTimeoutMs: CONNECT_TIMEOUT_MS });
  try {
    return await use(client);
  } finally {
    await client.temporal.connection.close();
  }
}
