/**
 * A report's seal: manifest.json lists the SHA-256 of every file and says what the report is (its
 * days, its version, when and by what software it was made, the time zone data, and the SHA-256 of
 * the manifest of the version it supersedes); manifest.sig holds an HMAC-SHA256 of manifest.json
 * under NOTIFY_REPORT_SIGNING_KEY. A changed, added or removed file, or a manifest edited to match,
 * no longer verifies, unless whoever edited it holds the key; a version moved to another day's
 * place, a version missing from the chain, or one whose predecessor was replaced, does not either.
 *
 * Where versions live (src/report/reportVersions.ts): `<range>/v<N>/`. A report sealed before
 * versions existed has its files in `<range>/` itself and counts as version 1.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isVersionDirName, listReportVersions, type ReportVersionPlace } from './reportVersions';
import { reportName } from './reportRange';

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
/** The report's own document, whose `range` a report sealed before versions existed is placed by. */
const REPORT_FILE = 'report.json';

/** What a manifest says of the report it seals, beside its files' hashes. */
export interface ManifestSubject {
  /** The KST days it covers. */
  range: { fromDate: string; toDate: string };
  /** 1 for the first report of its range, then one more for each run that superseded it. */
  version: number;
  /** When it was made, ISO-8601. */
  generatedAt: string;
  software: { name: string; version: string };
  /** The IANA time zone data: the report maker's, and every version its decisions recorded. */
  zoneData: { madeWith: string; decisions: string[] };
  /** The version it supersedes, and the SHA-256 of that version's manifest.json; null for version 1. */
  supersedes: { version: number; manifestSha256: string } | null;
}

interface Manifest extends Partial<ManifestSubject> {
  kind?: typeof MANIFEST_KIND;
  algorithm: 'sha256';
  signature: 'hmac-sha256 of manifest.json, hex, in manifest.sig';
  files: Record<string, string>;
}

const MANIFEST_KIND = 'kst-notification-scheduler/compliance-report-manifest';

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const hmac = (key: Buffer, bytes: Buffer) => createHmac('sha256', key).update(bytes).digest('hex');

/** Seals the report files in `dir` (every file but the seal itself), with what the manifest says of them. */
export async function sealReport(dir: string, key: Buffer, subject: ManifestSubject): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => name !== MANIFEST_FILE && name !== SIGNATURE_FILE).sort();
  const files: Record<string, string> = {};
  for (const name of names) files[name] = sha256(await readFile(join(dir, name)));
  const manifest: Manifest = { kind: MANIFEST_KIND, ...subject, algorithm: 'sha256', signature: 'hmac-sha256 of manifest.json, hex, in manifest.sig', files };
  const text = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(dir, MANIFEST_FILE), text);
  await writeFile(join(dir, SIGNATURE_FILE), `${hmac(key, text)}\n`);
  return [...names, MANIFEST_FILE, SIGNATURE_FILE];
}

export interface VerifyResult {
  ok: boolean;
  /** One line per problem: which file (or version), and what is wrong with it. */
  problems: string[];
  /** Report files checked against their manifest (of the newest version, for a range's directory). */
  files: number;
  /** The versions checked, oldest first (a range's directory: all of them). */
  versions: number[];
}

/** A manifest read and checked against its signature; undefined with a problem when it cannot be. */
async function readSignedManifest(dir: string, key: Buffer, label: string, problems: string[]): Promise<{ manifest: Manifest; bytes: Buffer } | undefined> {
  let bytes: Buffer;
  let signature: string;
  try {
    [bytes, signature] = [await readFile(join(dir, MANIFEST_FILE)), (await readFile(join(dir, SIGNATURE_FILE), 'utf8')).trim()];
  } catch (error) {
    problems.push(`${label}has no ${MANIFEST_FILE} and ${SIGNATURE_FILE}: not a sealed report (${(error as Error).message})`);
    return undefined;
  }
  const expected = Buffer.from(hmac(key, bytes), 'hex');
  const given = Buffer.from(/^[0-9a-f]{64}$/.test(signature) ? signature : '', 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    problems.push(`${label}${MANIFEST_FILE}: the signature does not match (the manifest was changed, or the key is not the one that signed it)`);
  }
  try {
    return { manifest: JSON.parse(bytes.toString('utf8')) as Manifest, bytes };
  } catch {
    problems.push(`${label}${MANIFEST_FILE}: not valid JSON`);
    return undefined;
  }
}

/** Checks every file of one version against its manifest, and that the version is in its place. */
async function verifyFiles(place: ReportVersionPlace, key: Buffer, label: string, problems: string[]): Promise<{ manifest: Manifest; bytes: Buffer; files: number } | undefined> {
  const signed = await readSignedManifest(place.dir, key, label, problems);
  if (!signed) return undefined;
  const { manifest } = signed;
  const listed = Object.entries(manifest.files ?? {});
  for (const [name, digest] of listed) {
    try {
      if (sha256(await readFile(join(place.dir, name))) !== digest) problems.push(`${label}${name}: changed since the report was sealed (SHA-256 differs)`);
    } catch {
      problems.push(`${label}${name}: missing`);
    }
  }
  for (const name of await readdir(place.dir)) {
    if (name === MANIFEST_FILE || name === SIGNATURE_FILE || name in (manifest.files ?? {})) continue;
    // A range sealed before versions existed holds the later versions beside its own files.
    if (place.legacy && isVersionDirName(name) && (await stat(join(place.dir, name))).isDirectory()) continue;
    problems.push(`${label}${name}: not in the manifest (added after sealing)`);
  }
  await checkPlace(place, manifest, label, problems);
  return { ...signed, files: listed.length };
}

/** The days a report says it covers: its manifest's, or (sealed before manifests said so) its report.json's. */
async function rangeOf(place: ReportVersionPlace, manifest: Manifest): Promise<{ fromDate: string; toDate: string } | undefined> {
  if (manifest.range) return manifest.range;
  try {
    return (JSON.parse(await readFile(join(place.dir, REPORT_FILE), 'utf8')) as { range?: { fromDate: string; toDate: string } }).range;
  } catch {
    return undefined;
  }
}

/** A report binds itself to its place: `<range>/v<version>`, with the range and version its manifest names. */
async function checkPlace(place: ReportVersionPlace, manifest: Manifest, label: string, problems: string[]): Promise<void> {
  const range = await rangeOf(place, manifest);
  const named = range ? reportName(range) : undefined;
  if (named !== place.rangeName) {
    problems.push(`${label}${MANIFEST_FILE}: names ${named ?? 'no day'}, but the report is in the place of ${place.rangeName} (copied or moved from another day's report?)`);
  }
  const version = manifest.version ?? 1;
  if (version !== place.version) problems.push(`${label}${MANIFEST_FILE}: names version ${version}, but the report is in the place of version ${place.version}`);
  if (!place.legacy && manifest.version === undefined) problems.push(`${label}${MANIFEST_FILE}: names no version, but the report is in a version's place (v${place.version})`);
}

/** The links of a chain: each version names the SHA-256 of its predecessor's manifest, and none is missing. */
async function checkChain(versions: ReportVersionPlace[], manifests: Map<number, { manifest: Manifest; bytes: Buffer }>, problems: string[]): Promise<void> {
  const newest = versions.at(-1)?.version ?? 0;
  const present = new Set(versions.map((place) => place.version));
  for (let version = 1; version <= newest; version += 1) if (!present.has(version)) problems.push(`v${version}: missing: the versions of this report have a gap (a version was removed)`);
  for (const place of versions) {
    const entry = manifests.get(place.version);
    if (!entry) continue;
    const supersedes = entry.manifest.supersedes ?? null;
    const label = `v${place.version}: `;
    if (place.version === 1) {
      if (supersedes !== null) problems.push(`${label}${MANIFEST_FILE}: version 1 names a version it supersedes (v${supersedes.version})`);
      continue;
    }
    if (supersedes === null || supersedes.version !== place.version - 1) {
      problems.push(`${label}${MANIFEST_FILE}: does not name v${place.version - 1} as the version it supersedes`);
      continue;
    }
    const previous = manifests.get(place.version - 1);
    if (previous && sha256(previous.bytes) !== supersedes.manifestSha256) {
      problems.push(`${label}${MANIFEST_FILE}: the SHA-256 of v${place.version - 1}'s manifest it names does not match v${place.version - 1}'s manifest (v${place.version - 1} was replaced after v${place.version} was made)`);
    }
  }
}

/**
 * Verifies a report: a version's directory (`<range>/v<N>`: its files, its place, and the chain
 * of manifests down to v1), or a range's directory (every version, fully, and the chain). A
 * report sealed before versions existed verifies as version 1 in the range's directory.
 */
export async function verifyReport(dir: string, key: Buffer): Promise<VerifyResult> {
  const problems: string[] = [];
  const asVersion = isVersionDirName(basename(dir));
  const rangeDir = asVersion ? dirname(dir) : dir;
  let versions: ReportVersionPlace[];
  try {
    versions = await listReportVersions(rangeDir);
  } catch (error) {
    return { ok: false, problems: [`${dir}: cannot be read (${(error as Error).message})`], files: 0, versions: [] };
  }
  if (versions.length === 0) {
    // Nothing in a report's place: still say what a bare directory lacks.
    await readSignedManifest(dir, key, `${dir} `, problems);
    return { ok: false, problems: problems.length ? problems : [`${dir}: no report in it`], files: 0, versions: [] };
  }
  const target = asVersion ? versions.find((place) => place.dir === dir || basename(place.dir) === basename(dir)) : versions.at(-1);
  if (!target) return { ok: false, problems: [`${dir}: not a sealed report`], files: 0, versions: [] };
  const manifests = new Map<number, { manifest: Manifest; bytes: Buffer }>();
  let files = 0;
  const upTo = versions.filter((place) => place.version <= target.version);
  for (const place of upTo) {
    const label = asVersion && place === target ? '' : `v${place.version}: `;
    if (!asVersion || place === target) {
      const checked = await verifyFiles(place, key, label, problems);
      if (checked) manifests.set(place.version, checked);
      if (checked && place === target) files = checked.files;
    } else {
      // An earlier version of the one asked about: its manifest is genuine and in its place (its files are checked when its range is).
      const signed = await readSignedManifest(place.dir, key, label, problems);
      if (signed) {
        manifests.set(place.version, signed);
        await checkPlace(place, signed.manifest, label, problems);
      }
    }
  }
  await checkChain(upTo, manifests, problems);
  return { ok: problems.length === 0, problems, files, versions: upTo.map((place) => place.version) };
}

/** The SHA-256 of a version's manifest.json: what the next version names as the one it supersedes. */
export async function manifestDigest(dir: string): Promise<string> {
  return sha256(await readFile(join(dir, MANIFEST_FILE)));
}
