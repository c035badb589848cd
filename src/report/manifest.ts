/**
 * A report's seal: manifest.json lists the SHA-256 of every file, and manifest.sig holds an
 * HMAC-SHA256 of manifest.json under NOTIFY_REPORT_SIGNING_KEY. A changed, added or removed file, or
 * a manifest edited to match, no longer verifies, unless whoever edited it holds the key.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';

interface Manifest {
  algorithm: 'sha256';
  signature: 'hmac-sha256 of manifest.json, hex, in manifest.sig';
  files: Record<string, string>;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const hmac = (key: Buffer, bytes: Buffer) => createHmac('sha256', key).update(bytes).digest('hex');

/** Seals the report files in `dir` (every file but the seal itself). */
export async function sealReport(dir: string, key: Buffer): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => name !== MANIFEST_FILE && name !== SIGNATURE_FILE).sort();
  const files: Record<string, string> = {};
  for (const name of names) files[name] = sha256(await readFile(join(dir, name)));
  const manifest: Manifest = { algorithm: 'sha256', signature: 'hmac-sha256 of manifest.json, hex, in manifest.sig', files };
  const text = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(dir, MANIFEST_FILE), text);
  await writeFile(join(dir, SIGNATURE_FILE), `${hmac(key, text)}\n`);
  return [...names, MANIFEST_FILE, SIGNATURE_FILE];
}

export interface VerifyResult {
  ok: boolean;
  /** One line per problem: which file, and what is wrong with it. */
  problems: string[];
  files: number;
}

export async function verifyReport(dir: string, key: Buffer): Promise<VerifyResult> {
  const problems: string[] = [];
  let manifestBytes: Buffer;
  let signature: string;
  try {
    [manifestBytes, signature] = [await readFile(join(dir, MANIFEST_FILE)), (await readFile(join(dir, SIGNATURE_FILE), 'utf8')).trim()];
  } catch (error) {
    return { ok: false, problems: [`${dir} has no ${MANIFEST_FILE} and ${SIGNATURE_FILE}: not a sealed report (${(error as Error).message})`], files: 0 };
  }
  const expected = Buffer.from(hmac(key, manifestBytes), 'hex');
  const given = Buffer.from(/^[0-9a-f]{64}$/.test(signature) ? signature : '', 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) problems.push(`${MANIFEST_FILE}: the signature does not match (the manifest was changed, or the key is not the one that signed it)`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
  } catch {
    return { ok: false, problems: [...problems, `${MANIFEST_FILE}: not valid JSON`], files: 0 };
  }
  const listed = Object.entries(manifest.files ?? {});
  for (const [name, digest] of listed) {
    try {
      if (sha256(await readFile(join(dir, name))) !== digest) problems.push(`${name}: changed since the report was sealed (SHA-256 differs)`);
    } catch {
      problems.push(`${name}: missing`);
    }
  }
  for (const name of await readdir(dir)) {
    if (name !== MANIFEST_FILE && name !== SIGNATURE_FILE && !(name in (manifest.files ?? {}))) problems.push(`${name}: not in the manifest (added after sealing)`);
  }
  return { ok: problems.length === 0, problems, files: listed.length };
}
