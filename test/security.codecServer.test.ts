/**
 * Integration: the codec server over real HTTP on a free port, with the real AES-GCM codec. Checks
 * Temporal's codec server protocol (/encode, /decode, protobuf JSON with base64 bytes, any path
 * prefix, X-Namespace), the bearer token and the sign-in cookie, and CORS for the UI's origin only.
 * Nothing is stubbed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { loadConfig } from '../src/config';
import { AesGcmPayloadCodec, codecServerFromConfig, startCodecServer, type RunningCodecServer } from '../src/security';
import { SESSION_COOKIE } from '../src/security/codecServer';

const TOKEN = randomBytes(32).toString('base64url');
const UI_ORIGIN = 'http://localhost:18233';
const codec = new AesGcmPayloadCodec({ currentKeyId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });
let server: RunningCodecServer;

before(async () => {
  server = await startCodecServer({ codec, token: TOKEN, namespace: 'default', allowedOrigins: [UI_ORIGIN], port: 0 });
});
after(() => server?.stop());

/** A payload in the protocol's JSON form: every bytes field base64. */
function jsonPayload(value: unknown) {
  const payload = defaultPayloadConverter.toPayload(value);
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([name, bytes]) => [name, Buffer.from(bytes).toString('base64')])),
    data: Buffer.from(payload.data!).toString('base64'),
  };
}
const fromJsonPayload = (payload: { metadata: Record<string, string>; data: string }) =>
  defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(Object.entries(payload.metadata).map(([name, text]) => [name, Buffer.from(text, 'base64')])),
    data: Buffer.from(payload.data, 'base64'),
  });
const metadataText = (payload: { metadata: Record<string, string> }, name: string) => Buffer.from(payload.metadata[name] ?? '', 'base64').toString('utf8');

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
const bearer = { Authorization: `Bearer ${TOKEN}` };

describe('codec server: the protocol', () => {
  test('/encode then /decode round-trips payloads, and encode hides them', async () => {
    const values = [{ recipient: 'user-42', body: '겨울 세일 30%' }, 'second', null];
    const encodeResponse = await post('/encode', { payloads: values.map(jsonPayload) }, bearer);
    assert.equal(encodeResponse.status, 200);
    assert.match(encodeResponse.headers.get('content-type') ?? '', /application\/json/);
    const encoded = (await encodeResponse.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(encoded.payloads.length, 3);
    for (const payload of encoded.payloads) {
      assert.equal(metadataText(payload, 'encoding'), 'binary/encrypted');
      assert.equal(metadataText(payload, 'encryption-key-id'), 'k1');
      assert.equal(Buffer.from(payload.data, 'base64').includes(Buffer.from('user-42')), false);
    }
    const decodeResponse = await post('/decode', encoded, bearer);
    assert.equal(decodeResponse.status, 200);
    const decoded = (await decodeResponse.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.deepEqual(decoded.payloads.map(fromJsonPayload), values);
  });

  test('only the last path segment counts (a prefix, the CLI\'s /{namespace}/decode, the UI\'s query string)', async () => {
    const [encoded] = ((await (await post('/encode', { payloads: [jsonPayload('x')] }, bearer)).json()) as { payloads: unknown[] }).payloads;
    for (const path of ['/default/decode', '/codec/v1/decode', '/decode?preserveStorageRefs=true']) {
      const response = await post(path, { payloads: [encoded] }, bearer);
      assert.equal(response.status, 200, path);
    }
    assert.equal((await post('/decode', { payloads: [] }, bearer)).status, 200);
  });

  test('X-Namespace of this server is served, another namespace gets 404', async () => {
    assert.equal((await post('/decode', { payloads: [] }, { ...bearer, 'X-Namespace': 'default' })).status, 200);
    const other = await post('/decode', { payloads: [] }, { ...bearer, 'X-Namespace': 'payments' });
    assert.equal(other.status, 404);
    assert.match(await other.text(), /namespace "payments"/);
  });

  test('bad JSON, a wrong shape or a payload the codec refuses: 400 with the reason', async () => {
    const notJson = await post('/decode', '{"payloads": [', bearer);
    assert.equal(notJson.status, 400);
    assert.equal((await post('/decode', { nothing: true }, bearer)).status, 400);
    assert.equal((await post('/decode', { payloads: [{ data: 42 }] }, bearer)).status, 400);
    assert.equal((await post('/decode', { payloads: [{ data: 'not base64!' }] }, bearer)).status, 400);
    assert.equal((await post('/decode', { payloads: [{ metadata: { encoding: 7 } }] }, bearer)).status, 400);
    const [encoded] = ((await (await post('/encode', { payloads: [jsonPayload('x')] }, bearer)).json()) as { payloads: { metadata: Record<string, string>; data: string }[] }).payloads;
    const unknownKey = { ...encoded!, metadata: { ...encoded!.metadata, 'encryption-key-id': Buffer.from('k9').toString('base64') } };
    const refused = await post('/decode', { payloads: [unknownKey] }, bearer);
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /key "k9"/);
  });

  test('GET on /decode is 405, an unknown path 404', async () => {
    assert.equal((await fetch(`${server.url}/decode`, { headers: bearer })).status, 405);
    assert.equal((await post('/download', { payloads: [] }, bearer)).status, 404);
  });
});

describe('codec server: authentication', () => {
  test('without a token, with a wrong one, or with a malformed header: 401', async () => {
    const attempts: Record<string, string>[] = [{}, { Authorization: `Bearer ${TOKEN}x` }, { Authorization: TOKEN }, { Authorization: 'Bearer ' }];
    for (const headers of attempts) {
      const response = await post('/decode', { payloads: [] }, headers);
      assert.equal(response.status, 401, JSON.stringify(headers));
    }
    assert.equal((await post('/encode', { payloads: [] })).status, 401);
  });

  test('signing in with the token sets an HttpOnly, SameSite=Strict session cookie that opens /decode', async () => {
    const signIn = (token: string) =>
      fetch(`${server.url}/login`, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
    const wrong = await signIn('wrong');
    assert.equal(wrong.status, 303);
    assert.equal(wrong.headers.get('set-cookie'), null);
    assert.equal(wrong.headers.get('location'), 'login?failed');

    const right = await signIn(TOKEN);
    assert.equal(right.status, 303);
    const cookie = right.headers.get('set-cookie') ?? '';
    assert.match(cookie, new RegExp(`^${SESSION_COOKIE}=[^;]+; HttpOnly; SameSite=Strict; Path=/; Max-Age=\\d+`));
    const pair = cookie.split(';')[0]!;
    assert.equal(pair.includes(TOKEN), false, 'the cookie must not carry the token itself');
    assert.equal((await post('/decode', { payloads: [] }, { Cookie: pair })).status, 200);
    assert.equal((await post('/decode', { payloads: [] }, { Cookie: `${SESSION_COOKIE}=forged` })).status, 401);
    assert.equal((await fetch(`${server.url}/login`)).status, 200);
  });

  test('the sign-in pages link back to the Web UI (the first allowed origin), at the namespace\'s workflow list', async () => {
    for (const path of ['/login', '/login?signed-in']) {
      const html = await (await fetch(`${server.url}${path}`)).text();
      assert.match(html, new RegExp(`<a href="${UI_ORIGIN}/namespaces/default/workflows">Back to the Temporal Web UI</a>`), path);
    }
  });

  test('a session ends when the server says: at its expiry (whatever the browser keeps), at sign-out, and at a new token', async () => {
    // A server of its own, whose clock the test moves.
    let nowMs = Date.parse('2026-12-03T09:00:00Z');
    const own = await startCodecServer({ codec, token: TOKEN, namespace: 'default', allowedOrigins: [UI_ORIGIN], port: 0, now: () => nowMs });
    try {
      const signIn = async (target: RunningCodecServer) => {
        const response = await fetch(`${target.url}/login`, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: TOKEN }) });
        return (response.headers.get('set-cookie') ?? '').split(';')[0]!;
      };
      const decodeWith = (target: RunningCodecServer, cookie: string) =>
        fetch(`${target.url}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: cookie }, body: '{"payloads":[]}' }).then((response) => response.status);

      // Two browsers sign in: each gets a session of its own.
      const first = await signIn(own);
      const second = await signIn(own);
      assert.notEqual(first, second);
      assert.equal(await decodeWith(own, first), 200);

      // Expiry: 12 hours, checked by the server, even if a browser replays the cookie later.
      nowMs += 11 * 3_600_000;
      assert.equal(await decodeWith(own, first), 200);
      nowMs += 1 * 3_600_000 + 1_000;
      assert.equal(await decodeWith(own, first), 401);

      // Sign-out ends that session, also for a copy of its cookie replayed afterwards; the other stays.
      const third = await signIn(own);
      const fourth = await signIn(own);
      const signOut = await fetch(`${own.url}/logout`, { method: 'POST', redirect: 'manual', headers: { Cookie: third } });
      assert.equal(signOut.status, 303);
      assert.match(signOut.headers.get('set-cookie') ?? '', /Max-Age=0/);
      assert.equal(await decodeWith(own, third), 401);
      assert.equal(await decodeWith(own, fourth), 200);

      // A new token (a restart with another NOTIFY_CODEC_SERVER_TOKEN) ends every session signed with the old one.
      const changed = await startCodecServer({ codec, token: `${TOKEN}-rotated`, namespace: 'default', allowedOrigins: [UI_ORIGIN], port: 0, now: () => nowMs });
      try {
        assert.equal(await decodeWith(changed, fourth), 401);
      } finally {
        await changed.stop();
      }
      // A forged cookie in the right shape, with a far expiry, is refused.
      const [, , id, signature] = fourth.split('=')[1]!.split('.');
      assert.equal(await decodeWith(own, `${SESSION_COOKIE}=v1.99999999999.${id}.${signature}`), 401);
    } finally {
      await own.stop();
    }
  });
});

describe('codec server: CORS', () => {
  const preflight = (origin: string, requestHeaders = 'content-type,x-namespace') =>
    fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': requestHeaders },
    });

  test("the UI's origin gets a preflight that allows POST with credentials and the UI's headers", async () => {
    const response = await preflight(UI_ORIGIN, 'content-type,x-namespace,authorization');
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), UI_ORIGIN);
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    assert.match(response.headers.get('access-control-allow-methods') ?? '', /POST/);
    for (const header of ['content-type', 'x-namespace', 'authorization']) assert.match(response.headers.get('access-control-allow-headers') ?? '', new RegExp(header));
    assert.match(response.headers.get('vary') ?? '', /Origin/);
    const actual = await post('/decode', { payloads: [] }, { ...bearer, Origin: UI_ORIGIN });
    assert.equal(actual.status, 200);
    assert.equal(actual.headers.get('access-control-allow-origin'), UI_ORIGIN);
  });

  test('any other origin is refused, preflight and request, and gets no CORS headers', async () => {
    for (const origin of ['http://evil.example', 'http://localhost:18234', 'null']) {
      const response = await preflight(origin);
      assert.equal(response.status, 403, origin);
      assert.equal(response.headers.get('access-control-allow-origin'), null);
      assert.equal((await post('/decode', { payloads: [] }, { ...bearer, Origin: origin })).status, 403, origin);
    }
    assert.equal((await preflight(UI_ORIGIN, 'content-type,x-custom')).status, 403);
  });
});

describe('codec server: where it listens (NOTIFY_CODEC_SERVER_HOST)', () => {
  /** The server from the configuration, on a free port: its keys are the test keys (test/setup.mjs). */
  async function fromEnvironment(extra: Record<string, string>): Promise<RunningCodecServer> {
    // The shell's own NOTIFY_CODEC_SERVER_HOST, if any, must not decide the default case.
    const config = loadConfig({ ...process.env, NOTIFY_CODEC_SERVER_HOST: undefined, TEMPORAL_ADDRESS: 'temporal.example:7233', NOTIFY_CODEC_SERVER_TOKEN: TOKEN, ...extra });
    const running = await codecServerFromConfig(config, { port: 0 });
    assert.ok(running, 'a token is set, so the server runs');
    return running;
  }
  const decodeNothing = (running: RunningCodecServer) =>
    fetch(`http://127.0.0.1:${running.port}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...bearer }, body: '{"payloads":[]}' });

  test('loopback only by default; every interface with 0.0.0.0, as docker-compose.yml runs it', async () => {
    for (const [extra, expected] of [[{}, '127.0.0.1'], [{ NOTIFY_CODEC_SERVER_HOST: '0.0.0.0' }, '0.0.0.0']] as const) {
      const running = await fromEnvironment(extra);
      try {
        assert.equal(running.listenAddress, expected);
        assert.equal((await decodeNothing(running)).status, 200);
      } finally {
        await running.stop();
      }
    }
  });

  test('an address this machine does not have, or a name that does not resolve, is refused naming the variable', async () => {
    // 203.0.113.7 is TEST-NET-3 (RFC 5737), never a local address; .invalid never resolves (RFC 6761).
    for (const host of ['203.0.113.7', 'no-such-host.invalid']) {
      await assert.rejects(fromEnvironment({ NOTIFY_CODEC_SERVER_HOST: host }), (error: Error) => {
        assert.match(error.message, new RegExp(`cannot listen on ${host.replace(/\./g, '\\.')}.*NOTIFY_CODEC_SERVER_HOST`));
        return true;
      });
    }
  });
});
