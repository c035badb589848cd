/**
 * The codec server: Temporal's codec server protocol over HTTP, so that the Web UI (and the
 * `temporal` CLI with --codec-endpoint) can show decrypted payloads to an operator who holds the
 * token. The keys never leave this process; the UI sends it payloads and gets them back decoded.
 *
 * - `POST …/decode`, `POST …/encode`: body and answer are `{ "payloads": [Payload…] }` in protobuf
 *   JSON (bytes as base64). Only the last path segment counts, so it can be mounted under any prefix
 *   (e.g. the CLI's `/{namespace}/decode`). Bad JSON or a payload the codec refuses: 400.
 * - `X-Namespace` (sent by the UI and the CLI): this server holds one namespace's keys; a request
 *   naming another namespace gets 404, as Temporal's sample codec servers answer.
 * - Authentication, either of:
 *   - `Authorization: Bearer <NOTIFY_CODEC_SERVER_TOKEN>`: the CLI (`--codec-auth "Bearer …"`), scripts;
 *   - a session cookie set by `/login` after the operator typed the token there: the Web UI. The UI
 *     cannot send a fixed bearer token: it sends `Authorization` only with "pass access token" (its
 *     own OIDC login's token, and only to https endpoints), and cookies only with "include
 *     cross-origin credentials". So an operator signs in here once per browser and ticks that option
 *     in the UI's Codec Server settings. Without either: 401, and the UI shows ciphertext.
 * - CORS for the configured origins only (the Web UI's), with credentials; preflights are answered
 *   for them and refused (403) for any other origin, as is any request from another origin (its
 *   own pages, the sign-in form, are same-origin).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { PayloadCodecError } from './errors';

export interface CodecServerOptions {
  codec: PayloadCodec;
  token: string;
  /** The namespace whose payloads this server's keys decrypt. */
  namespace: string;
  /** Origins (scheme://host:port) whose pages may call it: the Web UI's. */
  allowedOrigins: readonly string[];
  /** Largest request body accepted; default 16 MiB (the UI sends a whole event's payloads at once). */
  maxBodyBytes?: number;
  log?: (line: string) => void;
  /** The clock sessions expire by (epoch ms); the system clock by default (tests move it). */
  now?: () => number;
}

export const SESSION_COOKIE = 'notify_codec_session';
const SESSION_SECONDS = 12 * 3600;
const ALLOWED_HEADERS = ['authorization', 'authorization-extras', 'content-type', 'x-namespace'];
const ProtoPayloads = temporal.api.common.v1.Payloads;

/** Protobuf JSON's bytes: base64, standard or URL-safe, padding optional. */
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'expected base64');
/** The request body, checked before protobufjs, which would skip a field of the wrong type silently. */
const PayloadsJson = z.object({
  payloads: z.array(
    z
      .object({ metadata: z.record(base64).optional(), data: base64.optional(), externalPayloads: z.array(z.unknown()).optional() })
      .strict(),
  ),
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();
/** Constant-time comparison of two strings of any length. */
const sameSecret = (given: string, expected: string) => timingSafeEqual(sha256(given), sha256(expected));

/**
 * Browser sessions. The cookie is `v1.<expiry, epoch s>.<random id>.<HMAC>`, signed with a key
 * derived from the token, never the token itself (browsers send a localhost cookie to every port
 * of localhost, and the token also opens the bearer door). The server checks the signature and
 * the expiry itself (the browser's Max-Age is only a hint), signing out revokes that session's id
 * on this server until it would have expired, and a new token ends every session at once: their
 * signatures no longer match. Stateless apart from the revocations, so a restart keeps sessions
 * signed in (but forgets sign-outs: a signed-out cookie is also deleted from its browser).
 */
class Sessions {
  private readonly key: Buffer;
  /** Revoked session ids, with when they would have expired anyway (epoch s). */
  private readonly revoked = new Map<string, number>();

  constructor(
    token: string,
    private readonly now: () => number,
  ) {
    this.key = createHmac('sha256', token).update('notify-codec-ui-session-v1').digest();
  }

  issue(): string {
    const expires = Math.floor(this.now() / 1000) + SESSION_SECONDS;
    const payload = `v1.${expires}.${randomBytes(16).toString('base64url')}`;
    return `${payload}.${this.sign(payload)}`;
  }

  /** The session's id if the cookie is one this server signed, not expired and not signed out. */
  valid(cookie: string | undefined): string | undefined {
    const parts = cookie?.split('.') ?? [];
    if (parts.length !== 4 || parts[0] !== 'v1') return undefined;
    const [, expires, id, signature] = parts as [string, string, string, string];
    if (!sameSecret(signature, this.sign(`v1.${expires}.${id}`))) return undefined;
    if (!(Number(expires) > this.now() / 1000)) return undefined;
    return this.revoked.has(id) ? undefined : id;
  }

  revoke(cookie: string | undefined): void {
    const id = this.valid(cookie);
    if (id === undefined) return;
    const nowSeconds = this.now() / 1000;
    for (const [revokedId, expires] of this.revoked) if (expires <= nowSeconds) this.revoked.delete(revokedId);
    this.revoked.set(id, Number(cookie!.split('.')[1]));
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

function cookies(request: IncomingMessage): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0) jar.set(part.slice(0, separator).trim(), part.slice(separator + 1).trim());
  }
  return jar;
}

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}input{width:100%;padding:.4rem;font-family:monospace}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

export function createCodecServer(options: CodecServerOptions): Server {
  const { codec, token, namespace } = options;
  const allowedOrigins = new Set(options.allowedOrigins);
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 2 ** 20;
  const log = options.log ?? (() => undefined);
  const sessions = new Sessions(token, options.now ?? Date.now);

  const authenticated = (request: IncomingMessage): boolean => {
    const authorization = request.headers.authorization ?? '';
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
    if (bearer !== undefined) return sameSecret(bearer, token);
    return sessions.valid(cookies(request).get(SESSION_COOKIE)) !== undefined;
  };

  const convert = async (action: 'encode' | 'decode', request: IncomingMessage): Promise<unknown> => {
    const requestedNamespace = request.headers['x-namespace'];
    if (typeof requestedNamespace === 'string' && requestedNamespace !== '' && requestedNamespace !== namespace) {
      throw new HttpError(404, `no codec for namespace "${requestedNamespace}" (this server holds the keys of "${namespace}")`);
    }
    let payloads;
    try {
      const body = PayloadsJson.safeParse(JSON.parse(await readBody(request, maxBodyBytes)));
      if (!body.success) {
        throw new TypeError(`expected {"payloads": [{"metadata": {…base64}, "data": base64}]}: ${body.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`);
      }
      payloads = ProtoPayloads.fromObject(body.data).payloads;
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw new HttpError(400, `invalid body: ${(error as Error).message}`);
    }
    try {
      const converted = action === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
      return ProtoPayloads.toObject(ProtoPayloads.create({ payloads: converted }), { bytes: String, longs: String });
    } catch (error) {
      if (error instanceof PayloadCodecError) throw new HttpError(400, error.message);
      throw error;
    }
  };

  // The Web UI is the first origin allowed to call this server: the pages link back to its workflow list.
  const webUi = options.allowedOrigins[0];
  const backToUi = webUi
    ? `<p><a href="${escapeHtml(`${webUi}/namespaces/${encodeURIComponent(namespace)}/workflows`)}">Back to the Temporal Web UI</a> (${escapeHtml(webUi)})</p>`
    : '';
  const loginPage = (signedIn: boolean, failed: boolean) =>
    signedIn
      ? page(
          'Signed in to the codec server',
          `<p>This browser now sends its session to the codec server for 12 hours.</p>
<p>In the Temporal Web UI, open <b>Codec Server</b> (the data encoder settings), choose <b>Use my browser setting</b>,
enter this server's address as the endpoint and tick <b>Include cross-origin credentials</b>. Open the UI and this
server under the same host name (both localhost, say): the session cookie is not sent across sites.</p>
${backToUi}<form method="post" action="logout"><button>Sign out</button></form>`,
        )
      : page(
          'Codec server sign-in',
          `${failed ? '<p><b>Wrong token.</b></p>' : ''}<p>The token is NOTIFY_CODEC_SERVER_TOKEN (for the local stack: in
<code>.data/local-secrets.env</code>).</p>
<form method="post" action="login"><label>Token <input name="token" type="password" autocomplete="off" autofocus></label>
<p><button>Sign in</button></p></form>${backToUi}`,
        );

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://codec.invalid');
    const origin = request.headers.origin;
    const ownOrigin = `${request.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http'}://${request.headers.host}`;
    // Browsers send Origin on a form's POST too: the sign-in page posting to itself is same-origin.
    if (origin !== undefined && origin !== ownOrigin) {
      if (!allowedOrigins.has(origin)) throw new HttpError(403, `origin ${origin} is not allowed (NOTIFY_CODEC_SERVER_ORIGINS)`);
      response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Access-Control-Allow-Credentials', 'true');
      response.setHeader('Vary', 'Origin');
    }
    if (request.method === 'OPTIONS') {
      const requested = (request.headers['access-control-request-headers'] ?? '')
        .split(',')
        .map((header) => header.trim().toLowerCase())
        .filter(Boolean);
      const refused = requested.filter((header) => !ALLOWED_HEADERS.includes(header));
      if (origin === undefined || refused.length > 0) throw new HttpError(403, `preflight refused${refused.length ? `: headers ${refused.join(', ')}` : ''}`);
      response.setHeader('Access-Control-Allow-Methods', 'POST');
      response.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS.join(', '));
      response.setHeader('Access-Control-Max-Age', '600');
      // Chrome's Private Network Access preflight, for a UI served from a public address.
      if (request.headers['access-control-request-private-network'] === 'true') response.setHeader('Access-Control-Allow-Private-Network', 'true');
      response.writeHead(204).end();
      return;
    }
    const action = url.pathname.split('/').filter(Boolean).at(-1);
    if (action === 'encode' || action === 'decode') {
      if (request.method !== 'POST') throw new HttpError(405, 'use POST');
      if (!authenticated(request)) throw new HttpError(401, 'missing or wrong token: Authorization: Bearer <token>, or sign in at /login');
      const body = JSON.stringify(await convert(action, request));
      response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(body);
      return;
    }
    if (action === 'login' || action === 'logout') {
      const headers = {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      };
      if (request.method === 'GET' && action === 'login') {
        response.writeHead(200, headers).end(loginPage(url.searchParams.has('signed-in'), url.searchParams.has('failed')));
        return;
      }
      if (request.method !== 'POST') throw new HttpError(405, 'use GET or POST');
      const secure = request.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
      if (action === 'logout') {
        sessions.revoke(cookies(request).get(SESSION_COOKIE));
        response.writeHead(303, { ...headers, Location: 'login', 'Set-Cookie': `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure}` }).end();
        return;
      }
      const given = new URLSearchParams(await readBody(request, 4096)).get('token')?.trim() ?? '';
      if (!sameSecret(given, token)) {
        log(`codec server: failed sign-in from ${request.socket.remoteAddress}`);
        response.writeHead(303, { ...headers, Location: 'login?failed' }).end();
        return;
      }
      log(`codec server: a browser signed in from ${request.socket.remoteAddress}`);
      response
        .writeHead(303, {
          ...headers,
          Location: 'login?signed-in',
          'Set-Cookie': `${SESSION_COOKIE}=${sessions.issue()}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_SECONDS}${secure}`,
        })
        .end();
      return;
    }
    throw new HttpError(404, 'not found: POST /encode or /decode, or /login');
  };

  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) log(`codec server: ${(error as Error).stack ?? String(error)}`);
      if (response.headersSent) {
        response.destroy();
        return;
      }
      // Drain what is left of the body, so that the client reads the answer instead of a reset.
      request.resume();
      response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(status === 500 ? 'internal error' : (error as Error).message);
    });
  });
}

export interface RunningCodecServer {
  /** http://host:port, what the UI's codec endpoint is set to. */
  url: string;
  port: number;
  /** The address it listens on, as the socket reports it (127.0.0.1, or 0.0.0.0 for every interface). */
  listenAddress: string;
  stop(): Promise<void>;
}

/** Listens on host:port (port 0: a free one) and resolves once it accepts connections. */
export async function startCodecServer(options: CodecServerOptions & { port: number; host?: string; publicHost?: string }): Promise<RunningCodecServer> {
  const server = createCodecServer(options);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new Error(`port ${options.port} for the codec server is taken; another port can be set with NOTIFY_CODEC_SERVER_PORT`));
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
        reject(new Error(`the codec server cannot listen on ${host} (${error.code}): NOTIFY_CODEC_SERVER_HOST must be an address of this machine, or 0.0.0.0 for all of them`));
      } else reject(error);
    });
    server.listen(options.port, host, () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${options.publicHost ?? 'localhost'}:${port}`,
    port,
    listenAddress: address,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
