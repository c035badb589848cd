/**
 * The payload codec: every payload the SDK sends to Temporal (workflow input and result, activity
 * arguments and results, update arguments and results, failure details and, through the failure
 * converter, failure messages and stack traces) is encrypted with AES-256-GCM before it leaves the
 * process, and decrypted when it comes back.
 *
 * An encrypted payload carries only `encoding: binary/encrypted` and the id of its key in its
 * metadata; its data is nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes), the ciphertext being the
 * whole original Payload message (its metadata too, so the payload's own encoding is hidden).
 * Decoding picks the key by that id, so payloads written before a key rotation still decode while
 * the old key is configured. A payload without `binary/encrypted` is returned as it is: histories
 * written before encryption was switched on stay readable.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { CodecKeyring } from '../config';
import { PayloadCodecError, PayloadDecryptionError, UnknownCodecKeyError } from './errors';

export const ENCODING_KEY = 'encoding';
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_KEY = 'encryption-key-id';

const CIPHER = 'aes-256-gcm';
/** 96-bit random nonces: NIST SP 800-38D's recommended size; see README "Key rotation" for the per-key bound. */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/**
 * The key id is authenticated as additional data, so a payload whose metadata was changed to name
 * another key fails its tag check instead of being decrypted under a name it was not written with.
 */
const associatedData = (keyId: string) => Buffer.from(`${ENCRYPTED_ENCODING};${keyId}`, 'utf8');

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly keyring: CodecKeyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const keyId = this.keyring.currentKeyId;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(CIPHER, this.key(keyId), nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(keyId));
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    const data = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { [ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [KEY_ID_KEY]: utf8(keyId) }, data };
  }

  private decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.[ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_KEY]);
    if (!keyId) throw new PayloadCodecError(`an encrypted payload has no ${KEY_ID_KEY} in its metadata`);
    const key = this.key(keyId);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new PayloadDecryptionError(keyId, `${data.length} bytes is shorter than a nonce and a tag`);
    const decipher = createDecipheriv(CIPHER, key, data.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(keyId));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(keyId, 'the authentication tag does not match (wrong key, or altered data)');
    }
    return temporal.api.common.v1.Payload.decode(plaintext);
  }

  private key(keyId: string): Buffer {
    const key = this.keyring.keys.get(keyId);
    if (!key) throw new UnknownCodecKeyError(keyId, [...this.keyring.keys.keys()]);
    return key;
  }
}
