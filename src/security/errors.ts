/** Typed errors of the payload codec: a payload that cannot be decrypted says why, and which key it named. */

export class PayloadCodecError extends Error {
  override readonly name: string = 'PayloadCodecError';
}

/** The payload names a key this process does not hold (rotated out too early, or another deployment's). */
export class UnknownCodecKeyError extends PayloadCodecError {
  override readonly name = 'UnknownCodecKeyError';
  constructor(
    readonly keyId: string,
    readonly knownKeyIds: readonly string[],
  ) {
    super(
      `payload encrypted with key "${keyId}", which is not among the configured keys (${knownKeyIds.join(', ')}): ` +
        'keep every key in NOTIFY_CODEC_KEYS until no history still holds payloads encrypted with it',
    );
  }
}

/** The ciphertext, its nonce or its authentication tag does not match the key: tampered with, truncated, or another key. */
export class PayloadDecryptionError extends PayloadCodecError {
  override readonly name = 'PayloadDecryptionError';
  constructor(
    readonly keyId: string,
    reason: string,
  ) {
    super(`payload encrypted with key "${keyId}" cannot be decrypted: ${reason}`);
  }
}
