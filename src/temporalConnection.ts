import { readFile } from 'node:fs/promises';
import type { Config } from './config';

/**
 * Connection options for a Temporal client or worker, from the configuration: plain for the
 * local dev server, TLS with mTLS certificates or an API key for Temporal Cloud.
 */
export async function temporalConnectionOptions(temporal: Config['temporal'], address: string) {
  const tls = temporal.tls
    ? {
        serverNameOverride: temporal.tls.serverName,
        clientCertPair:
          temporal.tls.clientCertPath && temporal.tls.clientKeyPath
            ? { crt: await readFile(temporal.tls.clientCertPath), key: await readFile(temporal.tls.clientKeyPath) }
            : undefined,
      }
    : undefined;
  return { address, tls, apiKey: temporal.apiKey };
}

/** The server to talk to: TEMPORAL_ADDRESS, else the local stack's dev server (`npm start`). */
export function temporalAddress(config: Config): string {
  return config.temporal.address ?? `localhost:${config.localStack.temporalPort}`;
}
