/**
 * The morning spread: held messages are released over [windowEnd, windowEnd + spread) instead of
 * all at the window's end, each at an offset derived from its id alone, so that a replay, a
 * re-decision or another worker computes the same instant.
 */

/** FNV-1a, 32 bits, over the UTF-8 bytes of a string. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  const mix = (byte: number): void => {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  };
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x80) {
      mix(code);
    } else if (code < 0x800) {
      mix(0xc0 | (code >> 6));
      mix(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      mix(0xe0 | (code >> 12));
      mix(0x80 | ((code >> 6) & 0x3f));
      mix(0x80 | (code & 0x3f));
    } else {
      mix(0xf0 | (code >> 18));
      mix(0x80 | ((code >> 12) & 0x3f));
      mix(0x80 | ((code >> 6) & 0x3f));
      mix(0x80 | (code & 0x3f));
    }
  }
  return hash >>> 0;
}

/**
 * MurmurHash3's 32-bit finalizer. FNV-1a alone mixes its last bytes poorly into the high bits
 * (ids "order-1" … "order-9" land close together), so its result is avalanched before scaling.
 */
function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The spread window in whole milliseconds; throws on a negative or non-finite number of seconds. */
export function spreadWindowMs(spreadSeconds: number): number {
  if (typeof spreadSeconds !== 'number' || !Number.isFinite(spreadSeconds) || spreadSeconds < 0) {
    throw new RangeError(`morningSpreadSeconds must be a non-negative number of seconds, got ${String(spreadSeconds)}`);
  }
  return Math.floor(spreadSeconds * 1000);
}

/**
 * The release offset of one notification within the morning spread: an integer in
 * [0, spreadSeconds * 1000), uniform over ids, deterministic (FNV-1a 32 then a finalizer, scaled).
 * 0 when spreadSeconds is 0.
 */
export function morningSpreadOffsetMs(notificationId: string, spreadSeconds: number): number {
  const windowMs = spreadWindowMs(spreadSeconds);
  if (windowMs <= 0) return 0;
  const fraction = fmix32(fnv1a32(notificationId)) / 0x1_0000_0000; // [0, 1)
  return Math.min(windowMs - 1, Math.floor(fraction * windowMs));
}
