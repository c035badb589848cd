/**
 * `npm run codec-server`: the codec server on its own, with the keys, token and origins from the
 * environment (NOTIFY_CODEC_*; without TEMPORAL_ADDRESS, the local stack's generated ones).
 * `npm start` runs the same server in-process.
 */
import { ConfigError, loadConfig } from '../config';
import { codecServerFromConfig } from './codecServerFromConfig';

async function main(): Promise<void> {
  const config = loadConfig();
  const server = await codecServerFromConfig(config, { log: (line) => console.error(line) });
  if (!server) throw new ConfigError('NOTIFY_CODEC_SERVER_TOKEN is not set: the codec server does not run without a token');
  console.log(`codec server on ${server.url} for namespace ${config.temporal.namespace}; CORS for ${config.codec.server.allowedOrigins.join(', ')}`);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
