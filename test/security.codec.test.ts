/**
 * Unit: the payload codec (AES-256-GCM), the failure converter that encodes failure messages, the
 * codec settings in src/config.ts, the recipient-id hash and the local stack's generated secrets.
 * Nothing is stubbed: real node:crypto, the SDK's own codec helpers, files in a temporary directory.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  decodeOptionalFailureToOptionalError,
  encodeErrorToFailure,
  loadDataConverter,
} from '@temporalio/common/lib/internal-non-workflow';
import { ConfigError, loadConfig, localSecretsFile, type CodecKeyring } from '../src/config';
import {
  AesGcmPayloadCodec,
  dataConverterFromConfig,
  ENCRYPTED_ENCODING,
  KEY_ID_KEY,
  PayloadCodecError,
  PayloadDecryptionError,
  recipientIdHash,
  RECIPIENT_HASH_HEX_LENGTH,
  UnknownCodecKeyError,
} from '../src/security';
import { ensureLocalSecrets } from '../src/security/localSecrets';

const key = () => randomBytes(32);
const keyring = (currentKeyId: string, keys: Record<string, Buffer>): CodecKeyring => ({ currentKeyId, keys: new Map(Object.entries(keys)) });
const metadataText = (payload: Payload, name: string) => Buffer.from(payload.metadata?.[name] ?? new Uint8Array()).toString('utf8');
const SECRET_TEXT = '김민수님, 겨울 세일 30% — user-42';
const jsonPayload = () => defaultPayloadConverter.toPayload({ recipient: { id: 'user-42' }, body: SECRET_TEXT });

describe('AesGcmPayloadCodec', () => {
  const oldKey = key();
  const newKey = key();

  test('round-trips a payload, and the encoded one shows nothing of it', async () => {
    const codec = new AesGcmPayloadCodec(keyring('k1', { k1: oldKey }));
    const original = jsonPayload();
    const [encoded] = await codec.encode([original]);
    assert.ok(encoded);
    assert.deepEqual(Object.keys(encoded.metadata ?? {}).sort(), ['encoding', KEY_ID_KEY].sort());
    assert.equal(metadataText(encoded, 'encoding'), ENCRYPTED_ENCODING);
    assert.equal(metadataText(encoded, KEY_ID_KEY), 'k1');
    const bytes = Buffer.from(encoded.data!);
    for (const needle of ['user-42', '겨울 세일', 'json/plain', 'recipient']) assert.equal(bytes.includes(Buffer.from(needle)), false, needle);
    const [decoded] = await codec.decode([encoded]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), { recipient: { id: 'user-42' }, body: SECRET_TEXT });
    assert.equal(metadataText(decoded!, 'encoding'), 'json/plain');
  });

  test('encrypts the same payload differently each time (a fresh nonce)', async () => {
    const codec = new AesGcmPayloadCodec(keyring('k1', { k1: oldKey }));
    const [first, second] = await codec.encode([jsonPayload(), jsonPayload()]);
    assert.notDeepEqual(Buffer.from(first!.data!), Buffer.from(second!.data!));
  });

  test('after a rotation, new payloads use the new key and old ones still decode', async () => {
    const before = new AesGcmPayloadCodec(keyring('k1', { k1: oldKey }));
    const after = new AesGcmPayloadCodec(keyring('k2', { k2: newKey, k1: oldKey }));
    const [old] = await before.encode([jsonPayload()]);
    const [fresh] = await after.encode([jsonPayload()]);
    assert.equal(metadataText(fresh!, KEY_ID_KEY), 'k2');
    const decoded = await after.decode([old!, fresh!]);
    for (const payload of decoded) assert.equal(defaultPayloadConverter.fromPayload<{ body: string }>(payload).body, SECRET_TEXT);
  });

  test('a payload whose key is no longer configured is a typed error naming the key', async () => {
    const [old] = await new AesGcmPayloadCodec(keyring('k1', { k1: oldKey })).encode([jsonPayload()]);
    const rotatedOut = new AesGcmPayloadCodec(keyring('k2', { k2: newKey }));
    await assert.rejects(rotatedOut.decode([old!]), (error: unknown) => {
      assert.ok(error instanceof UnknownCodecKeyError);
      assert.ok(error instanceof PayloadCodecError);
      assert.equal(error.keyId, 'k1');
      assert.deepEqual(error.knownKeyIds, ['k2']);
      return true;
    });
  });

  test('altered ciphertext, a truncated payload or a swapped key id fail the tag check, typed', async () => {
    const codec = new AesGcmPayloadCodec(keyring('k1', { k1: oldKey, k2: newKey }));
    const [encoded] = await codec.encode([jsonPayload()]);
    const flipped = Buffer.from(encoded!.data!);
    flipped[20] = flipped[20]! ^ 0x01;
    const truncated = Buffer.from(encoded!.data!).subarray(0, 20);
    const swapped = { ...encoded!, metadata: { ...encoded!.metadata, [KEY_ID_KEY]: Buffer.from('k2') } };
    for (const payload of [{ ...encoded!, data: flipped }, { ...encoded!, data: truncated }, swapped]) {
      await assert.rejects(codec.decode([payload]), PayloadDecryptionError);
    }
    const noKeyId = { ...encoded!, metadata: { encoding: encoded!.metadata!.encoding! } };
    await assert.rejects(codec.decode([noKeyId]), PayloadCodecError);
  });

  test('payloads written before encryption was switched on decode as they are', async () => {
    const codec = new AesGcmPayloadCodec(keyring('k1', { k1: oldKey }));
    const plain = jsonPayload();
    assert.deepEqual(await codec.decode([plain]), [plain]);
  });
});

describe('the data converter: failure messages are encrypted too', () => {
  test('an error that quotes the input leaves only its type and "Encoded failure" in the clear', async () => {
    const converter = loadDataConverter(dataConverterFromConfig({ codec: { keyring: keyring('k1', { k1: key() }), server: { port: 0, host: '127.0.0.1', allowedOrigins: [] } } }));
    const error = ApplicationFailure.create({ message: `cannot reach ${SECRET_TEXT}`, type: 'RecipientUnreachable', details: [{ recipientId: 'user-42' }] });
    const failure = await encodeErrorToFailure(converter, error);
    assert.equal(failure.message, 'Encoded failure');
    assert.equal(failure.stackTrace, '');
    assert.equal(failure.applicationFailureInfo?.type, 'RecipientUnreachable');
    assert.equal(metadataText(failure.encodedAttributes!, 'encoding'), ENCRYPTED_ENCODING);
    assert.equal(metadataText(failure.applicationFailureInfo!.details!.payloads![0]!, 'encoding'), ENCRYPTED_ENCODING);
    const wire = Buffer.from(JSON.stringify(failure, (_key, value) => (value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value)), 'latin1');
    assert.equal(wire.includes(Buffer.from('user-42')), false);
    assert.equal(wire.includes(Buffer.from('cannot reach')), false);

    const decoded = await decodeOptionalFailureToOptionalError(converter, failure);
    assert.ok(decoded instanceof ApplicationFailure);
    assert.equal(decoded.message, `cannot reach ${SECRET_TEXT}`);
    assert.deepEqual(decoded.details, [{ recipientId: 'user-42' }]);
  });
});

describe('codec configuration (src/config.ts)', () => {
  const b64 = (bytes: Buffer) => bytes.toString('base64');
  const noLocalFiles = { TEMPORAL_ADDRESS: 'temporal.example:7233' };

  test('several keys with the current one named; one key is current by itself', () => {
    const [a, b] = [key(), key()];
    const config = loadConfig({ ...noLocalFiles, NOTIFY_CODEC_KEYS: `2026b:${b64(b)}, 2026a:${b64(a)}`, NOTIFY_CODEC_KEY_ID: '2026b' });
    assert.equal(config.codec.keyring?.currentKeyId, '2026b');
    assert.deepEqual([...config.codec.keyring!.keys.keys()], ['2026b', '2026a']);
    assert.deepEqual(config.codec.keyring!.keys.get('2026a'), a);
    assert.equal(loadConfig({ ...noLocalFiles, NOTIFY_CODEC_KEYS: `only:${b64(a)}` }).codec.keyring?.currentKeyId, 'only');
  });

  test('bad key settings stop the process with a message naming the variable', () => {
    const good = b64(key());
    const cases: [Record<string, string>, RegExp][] = [
      [{ NOTIFY_CODEC_KEYS: `k1:${b64(randomBytes(16))}` }, /NOTIFY_CODEC_KEYS: key k1: expected 32 bytes/],
      [{ NOTIFY_CODEC_KEYS: 'k1:not base64!' }, /NOTIFY_CODEC_KEYS: key k1: expected 32 bytes/],
      [{ NOTIFY_CODEC_KEYS: good }, /NOTIFY_CODEC_KEYS: entry 1: expected id:base64key/],
      [{ NOTIFY_CODEC_KEYS: `k1:${good},k1:${good}` }, /key id k1 appears twice/],
      [{ NOTIFY_CODEC_KEYS: `k1:${good},k2:${good}` }, /NOTIFY_CODEC_KEY_ID: required when NOTIFY_CODEC_KEYS holds several keys/],
      [{ NOTIFY_CODEC_KEYS: `k1:${good}`, NOTIFY_CODEC_KEY_ID: 'k9' }, /NOTIFY_CODEC_KEY_ID: k9 is not one of the ids/],
      [{ NOTIFY_CODEC_KEY_ID: 'k1' }, /NOTIFY_CODEC_KEY_ID is set but NOTIFY_CODEC_KEYS is not/],
      [{ NOTIFY_RECIPIENT_HASH_KEY: b64(randomBytes(8)) }, /NOTIFY_RECIPIENT_HASH_KEY: expected at least 32 bytes/],
      [{ NOTIFY_CODEC_SERVER_TOKEN: 'short' }, /NOTIFY_CODEC_SERVER_TOKEN: expected at least 32 characters/],
    ];
    for (const [env, message] of cases) assert.throws(() => loadConfig({ ...noLocalFiles, ...env }), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(env));
  });

  test('without keys no client or worker can be built: never unencrypted by accident', () => {
    const config = loadConfig(noLocalFiles);
    assert.equal(config.codec.keyring, undefined);
    assert.throws(() => dataConverterFromConfig(config), (error: unknown) => error instanceof ConfigError && /NOTIFY_CODEC_KEYS is not set/.test(error.message));
  });

  test("without TEMPORAL_ADDRESS the local stack's generated secrets are used; with it, never", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kst-secrets-'));
    try {
      await ensureLocalSecrets(dataDir);
      const local = loadConfig({ NOTIFY_DATA_DIR: dataDir });
      assert.ok(local.codec.keyring && local.codec.server.token && local.recipientHashKey);
      assert.equal(loadConfig({ NOTIFY_DATA_DIR: dataDir, ...noLocalFiles }).codec.keyring, undefined);
      // The environment wins over the file, the keys and their current id as one.
      const mine = loadConfig({ NOTIFY_DATA_DIR: dataDir, NOTIFY_CODEC_KEYS: `mine:${b64(key())}` });
      assert.equal(mine.codec.keyring?.currentKeyId, 'mine');
      assert.deepEqual([...mine.codec.keyring!.keys.keys()], ['mine']);
      assert.equal(mine.codec.server.token, local.codec.server.token);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('recipientIdHash', () => {
  test('is HMAC-SHA256 in hex, cut to 128 bits (RFC 4231 test case 2)', () => {
    assert.equal(recipientIdHash(Buffer.from('Jefe'), 'what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c7');
    assert.equal(RECIPIENT_HASH_HEX_LENGTH, 32);
  });

  test('is stable for one key, differs between ids and between keys, and has a fixed length', () => {
    const [k1, k2] = [key(), key()];
    const hashes = new Set<string>();
    for (let index = 0; index < 1_000; index += 1) {
      const hash = recipientIdHash(k1, `user-${index}`);
      assert.match(hash, /^[0-9a-f]{32}$/);
      assert.equal(recipientIdHash(k1, `user-${index}`), hash);
      hashes.add(hash);
    }
    assert.equal(hashes.size, 1_000);
    assert.notEqual(recipientIdHash(k1, 'user-42'), recipientIdHash(k2, 'user-42'));
    assert.equal(recipientIdHash(k1, 'user-42'), createHmac('sha256', k1).update('user-42').digest('hex').slice(0, 32));
    assert.throws(() => recipientIdHash(Buffer.alloc(0), 'user-42'), TypeError);
  });
});

describe("the local stack's secrets file", () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));
  const newDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kst-secrets-'));
    dirs.push(dir);
    return join(dir, 'data');
  };

  test('is generated once, mode 0600, and never regenerated', async () => {
    const dataDir = await newDir();
    const first = await ensureLocalSecrets(dataDir, new Date('2026-11-23T12:00:00Z'));
    assert.deepEqual(first.generated, ['NOTIFY_CODEC_KEYS', 'NOTIFY_CODEC_KEY_ID', 'NOTIFY_CODEC_SERVER_TOKEN', 'NOTIFY_RECIPIENT_HASH_KEY', 'NOTIFY_REPORT_SIGNING_KEY']);
    assert.equal(first.file, localSecretsFile(dataDir));
    assert.equal((await stat(first.file)).mode & 0o777, 0o600);
    const text = await readFile(first.file, 'utf8');
    const config = loadConfig({ NOTIFY_DATA_DIR: dataDir });
    assert.equal(config.codec.keyring?.currentKeyId, 'local-20261123');
    const second = await ensureLocalSecrets(dataDir);
    assert.deepEqual(second.generated, []);
    assert.equal(await readFile(first.file, 'utf8'), text);
  });

  test('adds a missing secret without touching the others, and narrows a loose mode', async () => {
    const dataDir = await newDir();
    const { file } = await ensureLocalSecrets(dataDir);
    const kept = (await readFile(file, 'utf8')).split('\n').filter((line) => !line.startsWith('NOTIFY_RECIPIENT_HASH_KEY='));
    await writeFile(file, kept.join('\n'));
    await chmod(file, 0o644);
    const again = await ensureLocalSecrets(dataDir);
    assert.deepEqual(again.generated, ['NOTIFY_RECIPIENT_HASH_KEY']);
    assert.equal(again.narrowedMode, true);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    for (const line of kept.filter((line) => line.startsWith('NOTIFY_'))) assert.ok((await readFile(file, 'utf8')).includes(line), line);
  });
});
