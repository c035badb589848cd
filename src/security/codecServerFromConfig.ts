import type { Config } from '../config';
import { startCodecServer, type RunningCodecServer } from './codecServer';
import { AesGcmPayloadCodec } from './payloadCodec';
import { dataConverterFromConfig } from './dataConverter';

/**
 * The codec server with the configured keys, token, address, port and origins; undefined when no token is
 * configured (it never runs open). Throws a ConfigError without keys.
 */
export async function codecServerFromConfig(
  config: Config,
  options: { port?: number; log?: (line: string) => void } = {},
): Promise<RunningCodecServer | undefined> {
  dataConverterFromConfig(config); // the same check, and message, as every client and worker
  const token = config.codec.server.token;
  if (!token) return undefined;
  return startCodecServer({
    codec: new AesGcmPayloadCodec(config.codec.keyring!),
    token,
    namespace: config.temporal.namespace,
    allowedOrigins: config.codec.server.allowedOrigins,
    port: options.port ?? config.codec.server.port,
    host: config.codec.server.host,
    log: options.log,
  });
}
