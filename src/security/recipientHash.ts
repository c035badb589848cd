/**
 * The keyed hash that stands for a recipient id wherever operators search (the RecipientId search
 * attribute), since search attributes are stored and indexed in plain text.
 *
 * HMAC-SHA256 under NOTIFY_RECIPIENT_HASH_KEY, a key of its own: the payload codec's keys rotate,
 * and a hash must not change when they do, or an operator's search would miss older notifications.
 * Without the key nobody can test a guessed id (user-1, user-2, …) against the hash, which a plain
 * SHA-256 would allow.
 *
 * Truncated to 128 bits (32 hex characters): a collision between two recipients needs about 2^64
 * of them, far beyond any shop, and an attacker without the key has nothing to brute-force; the
 * full 256 bits would only double the size of every visibility row and index entry.
 */
import { createHmac } from 'node:crypto';
import { ConfigError, type Config } from '../config';

export const RECIPIENT_HASH_HEX_LENGTH = 32;

export function recipientIdHash(key: Uint8Array, recipientId: string): string {
  if (key.length === 0) throw new TypeError('recipientIdHash needs a key (NOTIFY_RECIPIENT_HASH_KEY)');
  return createHmac('sha256', key).update(recipientId, 'utf8').digest('hex').slice(0, RECIPIENT_HASH_HEX_LENGTH);
}

/** NOTIFY_RECIPIENT_HASH_KEY, or a ConfigError naming it. */
export function recipientHashKeyFromConfig(config: Pick<Config, 'recipientHashKey'>): Buffer {
  if (!config.recipientHashKey) {
    throw new ConfigError(
      'NOTIFY_RECIPIENT_HASH_KEY is not set: set it (32 random bytes in base64, never rotated), or, for the local stack, run `npm start` once and leave TEMPORAL_ADDRESS unset',
    );
  }
  return config.recipientHashKey;
}
