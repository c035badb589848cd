/**
 * The secrets of a stack this project starts on one machine (`npm start`, `npm run cluster`): the
 * generated keys when no TEMPORAL_ADDRESS is given, and how the banner tells an operator to use
 * the codec server.
 */
import { loadConfig, type Config } from '../config';
import { ensureLocalSecrets, type RunningCodecServer } from '../security';
import { stderrLog } from './progress';

/** Without TEMPORAL_ADDRESS: the local stack's generated secrets, created on the first run. */
export async function configWithLocalSecrets(): Promise<Config> {
  const config = loadConfig();
  if (config.temporal.address) return config;
  const secrets = await ensureLocalSecrets(config.localStack.dataDir);
  if (secrets.generated.length > 0) stderrLog(`generated ${secrets.generated.join(', ')} into ${secrets.file} (mode 0600; kept for later runs)`);
  if (secrets.narrowedMode) stderrLog(`${secrets.file} was readable by others: now mode 0600`);
  return loadConfig();
}

/** The banner's lines on the codec server: where it is and how the Web UI and the CLI use it. */
export function codecBanner(codec: RunningCodecServer | undefined, secretsFile: string | undefined): string[] {
  if (!codec) return ['  Codec server  not started (NOTIFY_CODEC_SERVER_TOKEN is not set): the Web UI shows ciphertext'];
  const tokenFrom = secretsFile ? `NOTIFY_CODEC_SERVER_TOKEN in ${secretsFile}` : 'NOTIFY_CODEC_SERVER_TOKEN';
  return [
    `  Codec server  ${codec.url}  decrypts payloads for operators with the token (${tokenFrom})`,
    `    Web UI       sign in once at ${codec.url}/login, then in the UI's Codec Server settings choose "Use my browser`,
    `                 setting", endpoint ${codec.url}, and tick "Include cross-origin credentials"`,
    `    other tools  --codec-endpoint ${codec.url} --codec-auth "Bearer $NOTIFY_CODEC_SERVER_TOKEN"`,
  ];
}
