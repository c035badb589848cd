/**
 * The CLI dispatcher and its `preview` command: called in-process with fake streams (main()), and
 * once or twice as a real process, as an operator would run it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import type { CliIo } from '../src/cli/command';
import { main } from '../src/cli/main';
import { loadCommands } from '../src/cli/registry';
import { previewCommand } from '../src/cli/commands/preview';

const ROOT = join(__dirname, '..');

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process: no environment but `env`, "now" fixed unless given. */
async function cli(argv: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; now?: string } = {}): Promise<Run> {
  const stdout = new Sink();
  const stderr = new Sink();
  const io: CliIo = {
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    stdout,
    stderr,
    env: options.env ?? {},
    now: () => new Date(options.now ?? '2026-11-23T12:00:00Z'),
  };
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function notification(overrides: Record<string, unknown> = {}, recipient: Record<string, unknown> = {}) {
  return {
    notificationId: 'n-1',
    channel: 'kakaotalk',
    category: 'advertising',
    recipient: { id: 'user-1', ...recipient },
    ...overrides,
  };
}

describe('the dispatcher', () => {
  test('help lists the commands, preview among them', async () => {
    const run = await cli(['help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^usage: npm run cli -- <command>/);
    assert.match(run.stdout, /^\s+preview\s+show when the quiet-hours policy would release/m);
    assert.match(run.stdout, /^\s+help\s+/m);
  });
  test('every command in src/cli/commands is registered, preview included', () => {
    const registry = loadCommands();
    assert.equal(registry.commands.get('preview'), previewCommand);
  });
  test('help <command> and <command> --help print its usage', async () => {
    for (const argv of [['help', 'preview'], ['preview', '--help']]) {
      const run = await cli(argv);
      assert.equal(run.code, 0);
      assert.match(run.stdout, /usage: npm run cli -- preview \[--at <ISO instant>\]/);
    }
  });
  test('no command, or an unknown one, is a usage error (exit 2)', async () => {
    const none = await cli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /usage:/);
    const unknown = await cli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
  test('a command that throws exits 1 with its message; argument errors exit 2 with the usage', async () => {
    const registry = {
      commands: new Map([
        ['boom', { name: 'boom', summary: 's', usage: 'boom', run: async () => { throw new Error('kaput'); } }],
        ['strict', { name: 'strict', summary: 's', usage: 'strict --n N', run: async () => { throw Object.assign(new TypeError("Unknown option '--x'"), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }); } }],
      ]),
      failures: [{ file: 'broken.ts', error: 'Cannot find module' }],
    };
    const io = (stderr: Sink): CliIo => ({ stdin: Readable.from([]), stdout: new Sink(), stderr });
    const boomErr = new Sink();
    assert.equal(await main(['boom'], io(boomErr), registry), 1);
    assert.match(boomErr.text, /boom failed: Error: kaput/);
    const strictErr = new Sink();
    assert.equal(await main(['strict', '--x'], io(strictErr), registry), 2);
    assert.match(strictErr.text, /Unknown option '--x'\nusage: npm run cli -- strict --n N/);
    const helpOut = new Sink();
    assert.equal(await main(['help'], { stdin: Readable.from([]), stdout: helpOut, stderr: new Sink() }, registry), 0);
    assert.match(helpOut.text, /failed to load:\n\s+broken\.ts: Cannot find module/);
  });
});

describe('preview, one notification from flags', () => {
  test('an advertisement at 22:30 in Seoul is held until 08:00, shown in UTC and in Seoul time', async () => {
    const run = await cli(['preview', '--at', '2026-11-23T22:30:00+09:00']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /release at\s+2026-11-23T23:00:00\.000Z\s+2026-11-24 08:00:00\.000 \+09:00/);
    assert.match(run.stdout, /reason\s+held-quiet-hours/);
    assert.match(run.stdout, /expired\s+no/);
    assert.match(run.stdout, /zone\s+Asia\/Seoul \(policy default\)/);
  });
  test('--json prints one decision record', async () => {
    const run = await cli(['preview', '--at', '2026-11-23T22:30:00+09:00', '--id', 'ad-7', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(jsonLines(run.stdout), [
      {
        notificationId: 'ad-7',
        category: 'advertising',
        timeZone: 'Asia/Seoul',
        nightConsent: false,
        at: '2026-11-23T13:30:00.000Z',
        releaseAt: '2026-11-23T23:00:00.000Z',
        releaseAtLocal: '2026-11-24T08:00:00.000+09:00',
        reason: 'held-quiet-hours',
        windowEndsAt: '2026-11-23T23:00:00.000Z',
        expired: false,
      },
    ]);
  });
  test('--at defaults to now', async () => {
    const run = await cli(['preview', '--json'], { now: '2026-11-23T03:00:00Z' }); // 12:00 in Seoul
    const [record] = jsonLines(run.stdout);
    assert.equal(record?.at, '2026-11-23T03:00:00.000Z');
    assert.equal(record?.reason, 'immediate');
    assert.equal(record?.releaseAt, '2026-11-23T03:00:00.000Z');
  });
  test('--consent releases at once; --category order with NOTIFY_HELD_CATEGORIES=advertising too', async () => {
    const consent = jsonLines((await cli(['preview', '--at', '2026-11-23T23:00:00+09:00', '--consent', '--json'])).stdout);
    assert.equal(consent[0]?.reason, 'immediate');
    const order = await cli(['preview', '--at', '2026-11-23T23:00:00+09:00', '--category', 'order', '--json'], {
      env: { NOTIFY_HELD_CATEGORIES: 'advertising' },
    });
    assert.equal(jsonLines(order.stdout)[0]?.reason, 'immediate');
    const ad = await cli(['preview', '--at', '2026-11-23T23:00:00+09:00', '--json'], { env: { NOTIFY_HELD_CATEGORIES: 'order' } });
    assert.equal(jsonLines(ad.stdout)[0]?.reason, 'held-quiet-hours');
  });
  test('the NOTIFY_QUIET_* environment and --zone: an end in New York’s spring-forward gap', async () => {
    const run = await cli(['preview', '--at', '2026-03-07T23:00:00-05:00', '--zone', 'America/New_York', '--json'], {
      // A window ending in the gap is narrower than the law's 21:00–08:00: only with the test override, which the record names.
      env: { NOTIFY_QUIET_END: '02:30', NOTIFY_ALLOW_NARROWER_QUIET_HOURS: 'true' },
    });
    const [record] = jsonLines(run.stdout);
    assert.equal(record?.releaseAt, '2026-03-08T07:00:00.000Z');
    assert.equal(record?.releaseAtLocal, '2026-03-08T03:00:00.000-04:00');
    assert.equal(record?.narrowerThanLaw, true);
    const refused = await cli(['preview', '--at', '2026-03-07T23:00:00-05:00', '--json'], { env: { NOTIFY_QUIET_END: '02:30' } });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /narrower than the law/);
  });
  test('NOTIFY_DEFAULT_TIME_ZONE that moves the law\'s window is refused, naming it; with the override it applies, and the record says so', async () => {
    const refused = await cli(['preview', '--at', '2026-11-23T22:00:00Z', '--json'], { env: { NOTIFY_DEFAULT_TIME_ZONE: 'Europe/London' } });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /NOTIFY_DEFAULT_TIME_ZONE: Europe\/London would let a recipient without a zone receive advertising between 21:00 and 08:00 in Korea/);
    const run = await cli(['preview', '--at', '2026-11-23T22:00:00Z', '--json'], { env: { NOTIFY_DEFAULT_TIME_ZONE: 'Europe/London', NOTIFY_ALLOW_NARROWER_QUIET_HOURS: 'true' } });
    const [record] = jsonLines(run.stdout);
    assert.equal(record?.timeZone, 'Europe/London');
    assert.equal(record?.releaseAt, '2026-11-24T08:00:00.000Z');
    assert.equal(record?.narrowerThanLaw, true);
  });
  test('--not-before and --expires-at', async () => {
    const later = jsonLines(
      (await cli(['preview', '--at', '2026-11-23T10:00:00+09:00', '--not-before', '2026-11-23T15:00:00+09:00', '--json'])).stdout,
    )[0];
    assert.equal(later?.reason, 'not-before');
    assert.equal(later?.releaseAt, '2026-11-23T06:00:00.000Z');
    const expired = await cli(['preview', '--at', '2026-11-23T22:00:00+09:00', '--expires-at', '2026-11-24T07:00:00+09:00']);
    assert.match(expired.stdout, /expired\s+yes/);
  });
  test('bad input: a bad --at or flag is a usage error (2), a bad notification fails (1)', async () => {
    const badAt = await cli(['preview', '--at', 'tonight']);
    assert.equal(badAt.code, 2);
    assert.match(badAt.stderr, /--at: expected an ISO-8601 instant/);
    const unknownFlag = await cli(['preview', '--colour']);
    assert.equal(unknownFlag.code, 2);
    const badCategory = await cli(['preview', '--category', 'spam']);
    assert.equal(badCategory.code, 1);
    assert.match(badCategory.stderr, /category/);
    const badZone = await cli(['preview', '--zone', 'KST']);
    assert.equal(badZone.code, 1);
    assert.match(badZone.stderr, /timeZone/);
  });
  test('a bad policy in the environment is named (exit 2)', async () => {
    const run = await cli(['preview'], { env: { NOTIFY_QUIET_START: '25:00' } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /NOTIFY_QUIET_START/);
    const category = await cli(['preview'], { env: { NOTIFY_HELD_CATEGORIES: 'advertising,marketing' } });
    assert.equal(category.code, 2);
    assert.match(category.stderr, /"marketing"/);
  });
});

describe('preview --stdin, JSON lines', () => {
  test('one line out per line in, in order; bad lines become { line, error } and the exit code is 1', async () => {
    const input = [
      JSON.stringify({ ...notification({ notificationId: 'a' }), at: '2026-11-23T23:00:00+09:00' }),
      'not json',
      JSON.stringify(notification({ notificationId: 'b', category: 'spam' })),
      '',
      JSON.stringify([1, 2]),
      JSON.stringify({ ...notification({ notificationId: 'c' }), at: 'yesterday' }),
      JSON.stringify(notification({ notificationId: 'd', category: 'order' }, { nightConsent: true, timeZone: 'Europe/London' })),
    ].join('\n');
    const run = await cli(['preview', '--stdin', '--at', '2026-11-23T13:00:00Z'], { stdin: `${input}\n` });
    assert.equal(run.code, 1);
    const records = jsonLines(run.stdout);
    assert.deepEqual(
      records.map((record) => record.line),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(records[0]?.notificationId, 'a');
    assert.equal(records[0]?.releaseAt, '2026-11-23T23:00:00.000Z'); // its own "at": 23:00 KST
    for (const index of [1, 2, 3, 4, 5]) {
      assert.deepEqual(Object.keys(records[index]!).sort(), ['error', 'line'], JSON.stringify(records[index]));
    }
    assert.match(String(records[1]?.error), /not JSON/);
    assert.match(String(records[2]?.error), /category/);
    assert.match(String(records[3]?.error), /empty line/);
    assert.match(String(records[4]?.error), /JSON object/);
    assert.match(String(records[5]?.error), /at: expected an ISO-8601 instant/);
    // --at as the default: 13:00Z is 22:00 in Seoul but 13:00 in London, and d has consent anyway.
    assert.equal(records[6]?.notificationId, 'd');
    assert.equal(records[6]?.timeZone, 'Europe/London');
    assert.equal(records[6]?.reason, 'immediate');
    assert.equal(records[6]?.releaseAt, '2026-11-23T13:00:00.000Z');
  });
  test('all good lines (CRLF endings, no final newline): exit 0', async () => {
    const input = [notification({ notificationId: 'x1' }), notification({ notificationId: 'x2', expiresAt: '2026-11-24T07:00:00+09:00' })]
      .map((n) => JSON.stringify(n))
      .join('\r\n');
    const run = await cli(['preview', '--stdin', '--at', '2026-11-23T22:00:00+09:00'], { stdin: input });
    assert.equal(run.code, 0, run.stdout);
    const records = jsonLines(run.stdout);
    assert.equal(records.length, 2);
    assert.equal(records[0]?.releaseAt, '2026-11-23T23:00:00.000Z');
    assert.equal(records[1]?.expired, true);
  });
  test('a recipient without a zone gets NOTIFY_DEFAULT_TIME_ZONE, not the schema’s Asia/Seoul', async () => {
    const run = await cli(['preview', '--stdin', '--at', '2026-11-23T22:00:00Z'], {
      stdin: `${JSON.stringify(notification())}\n`,
      env: { NOTIFY_DEFAULT_TIME_ZONE: 'America/New_York', NOTIFY_ALLOW_NARROWER_QUIET_HOURS: 'true' },
    });
    const [record] = jsonLines(run.stdout);
    assert.equal(record?.timeZone, 'America/New_York');
    // 22:00Z is 17:00 in New York: not quiet.
    assert.equal(record?.reason, 'immediate');
  });
  test('per-notification flags cannot be combined with --stdin', async () => {
    const run = await cli(['preview', '--stdin', '--category', 'order'], { stdin: '' });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--category/);
  });
});

describe('as a process', () => {
  const tsxCli = (args: string[], input?: string, env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      input,
      encoding: 'utf8',
      env: { ...process.env, TZ: 'Pacific/Chatham', ...env },
      maxBuffer: 64 * 1024 * 1024,
    });

  test('help', () => {
    const result = tsxCli(['help']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /preview/);
  });
  test('5,000 lines through real pipes: 5,000 lines out, in order', () => {
    const lines = Array.from({ length: 5000 }, (_, i) =>
      i % 1000 === 999 ? '{"broken": ' : JSON.stringify(notification({ notificationId: `bulk-${i}` })),
    );
    const result = tsxCli(['preview', '--stdin', '--at', '2026-11-23T22:00:00+09:00'], `${lines.join('\n')}\n`, {
      NOTIFY_MORNING_SPREAD_SECONDS: '600',
    });
    assert.equal(result.status, 1, result.stderr);
    const records = jsonLines(result.stdout);
    assert.equal(records.length, 5000);
    records.forEach((record, index) => assert.equal(record.line, index + 1));
    assert.equal(records.filter((record) => 'error' in record).length, 5);
    // Spread over [08:00, 08:10) Seoul.
    for (const record of records.filter((r) => !('error' in r))) {
      const release = Date.parse(String(record.releaseAt));
      assert.ok(release >= Date.parse('2026-11-24T08:00:00+09:00') && release < Date.parse('2026-11-24T08:10:00+09:00'));
    }
  });
});

describe('reschedule on the command line', () => {
  test('an instant without an offset is a usage error, reported before anything connects', async () => {
    // TEMPORAL_ADDRESS points nowhere: a command that connected first would fail differently.
    const run = await cli(['reschedule', 'n-1', '2026-11-24T09:00:00'], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /notBefore/);
    assert.match(run.stderr, /offset/);
  });
});

describe('preview --stdin with a morning cap', () => {
  test("each held line says what the cap and the collapse keys would do with the night's batch", async () => {
    const line = (id: string, at: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ notificationId: id, recipient: { id: 'night-owl' }, channel: 'push', category: 'advertising', payload: { id }, at, ...extra });
    const input = [
      line('ad-1', '2026-11-23T21:30:00+09:00'),
      line('ad-2', '2026-11-23T22:00:00+09:00', { collapseKey: 'sale' }),
      line('order-1', '2026-11-23T22:30:00+09:00', { category: 'order' }),
      line('ad-3', '2026-11-23T23:00:00+09:00'),
      line('ad-4', '2026-11-24T00:00:00+09:00', { collapseKey: 'sale' }),
      line('ad-5', '2026-11-24T02:00:00+09:00'),
      line('day', '2026-11-24T12:00:00+09:00'),
    ].join('\n');
    const outcomes = async (env: Record<string, string>) => {
      const run = await cli(['preview', '--stdin'], { stdin: `${input}\n`, env });
      assert.equal(run.code, 0, run.stderr);
      return Object.fromEntries(jsonLines(run.stdout).map((record) => [record.notificationId, (record.morning as { outcome?: string } | undefined)?.outcome ?? '-']));
    };
    assert.deepEqual(await outcomes({ NOTIFY_MORNING_CAP: '2' }), { 'ad-1': 'capped', 'ad-2': 'collapsed', 'order-1': '-', 'ad-3': 'capped', 'ad-4': 'admitted', 'ad-5': 'admitted', day: '-' });
    assert.deepEqual(await outcomes({ NOTIFY_MORNING_CAP: '2', NOTIFY_MORNING_CAP_OVERFLOW: 'digest' }), { 'ad-1': 'digested', 'ad-2': 'collapsed', 'order-1': '-', 'ad-3': 'digested', 'ad-4': 'digested', 'ad-5': 'admitted', day: '-' });
    // Without a cap, only the collapse key acts.
    assert.deepEqual(await outcomes({}), { 'ad-1': '-', 'ad-2': 'collapsed', 'order-1': '-', 'ad-3': '-', 'ad-4': 'admitted', 'ad-5': '-', day: '-' });
  });
});
