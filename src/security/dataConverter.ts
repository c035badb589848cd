/**
 * The project's one DataConverter: the AES-256-GCM payload codec and the failure converter that
 * encodes failure messages. Every client and worker is built with it: NotificationClient.connect,
 * the worker factory, the CLI, `npm start`, the test helpers and the benchmark.
 */
import type { DataConverter } from '@temporalio/common';
import { ConfigError, type CodecKeyring, type Config } from '../config';
import { AesGcmPayloadCodec } from './payloadCodec';

/** Module path of the failure converter, for the workflow bundle (bundleWorkflowCode) as well. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failureConverter');

export function notificationDataConverter(keyring: CodecKeyring): DataConverter {
  return {
    payloadCodecs: [new AesGcmPayloadCodec(keyring)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}

/**
 * The DataConverter from the configuration. Without NOTIFY_CODEC_KEYS it throws instead of falling
 * back to plain payloads: a client or worker never runs unencrypted by accident.
 */
export function dataConverterFromConfig(config: Pick<Config, 'codec'>): DataConverter {
  const keyring = config.codec.keyring;
  if (!keyring) {
    throw new ConfigError(
      'NOTIFY_CODEC_KEYS is not set, and payloads are never stored unencrypted: set NOTIFY_CODEC_KEYS (and NOTIFY_CODEC_KEY_ID), ' +
        'or, for the local stack, run `npm start` once (it generates local keys in NOTIFY_DATA_DIR) and leave TEMPORAL_ADDRESS unset',
    );
  }
  return notificationDataConverter(keyring);
}
