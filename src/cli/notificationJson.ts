/**
 * A notification as a user writes it in a JSON file (or on stdin): read without losing digits,
 * with errors that say which file and where.
 */
import { readFile } from 'node:fs/promises';
import { isLosslessNumber, isSafeNumber, parse as parseLossless, stringify as stringifyLossless } from 'lossless-json';

/** A file (or stdin) that cannot be read as JSON: says which, where, and why. */
export class NotificationFileError extends Error {
  override readonly name = 'NotificationFileError';
}

/** Reads a file, naming it when it is missing or unreadable. */
export async function readNotificationFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new NotificationFileError(`cannot read ${file}: ${why}`);
  }
}

/** Line and column (1-based) of a character offset. */
function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/**
 * The JSON value in `text`; `source` names it in errors ("notification.json", "stdin"). A
 * truncated text says "unexpected end of input"; other mistakes say where (line and column).
 * Numbers keep every digit: a payload with a number JavaScript cannot hold exactly (a 64-bit id)
 * becomes `payloadJson`, the payload as its text, which the delivery message carries verbatim.
 */
export function notificationFromJson(text: string, source: string): unknown {
  if (text.trim() === '') throw new NotificationFileError(`${source} is empty: expected a notification as JSON (npm run cli -- help schedule)`);
  let value: unknown;
  try {
    value = parseLossless(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message)?.[1];
    if (/end of (json|input|string)|unexpected end/i.test(message) || (position !== undefined && Number(position) >= text.trimEnd().length)) {
      throw new NotificationFileError(`${source}: unexpected end of input: the JSON stops before it is complete (truncated?)`);
    }
    throw new NotificationFileError(`${source}: not valid JSON at ${position === undefined ? 'an unknown place' : lineAndColumn(text, Number(position))}: ${message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || isLosslessNumber(value)) {
    throw new NotificationFileError(`${source}: expected a JSON object (one notification), not ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  const { payload, ...fields } = value as Record<string, unknown>;
  const exact = payload !== undefined && hasInexactNumber(payload);
  return {
    ...(plainNumbers(fields) as Record<string, unknown>),
    ...(payload === undefined ? {} : exact ? { payloadJson: stringifyLossless(payload) } : { payload: plainNumbers(payload) }),
  };
}

/** Whether a value holds a number that a JavaScript number would round (more significant digits than a double keeps). */
function hasInexactNumber(value: unknown): boolean {
  if (isLosslessNumber(value)) return !isSafeNumber(value.toString());
  if (Array.isArray(value)) return value.some(hasInexactNumber);
  if (value && typeof value === 'object') return Object.values(value).some(hasInexactNumber);
  return false;
}

/** The lossless parser's numbers as plain numbers, everywhere in a value. */
function plainNumbers(value: unknown): unknown {
  if (isLosslessNumber(value)) return Number(value.toString());
  if (Array.isArray(value)) return value.map(plainNumbers);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plainNumbers(inner)]));
  return value;
}
