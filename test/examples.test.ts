/** The files in examples/ are what the README says they are. Unit test: the parsers and the CLI in-process, nothing stubbed. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { main as cliMain } from '../src/cli/main';
import { notificationFromJson } from '../src/cli/notificationJson';
import { classifyLegacyMessage, PoisonLegacyMessageError } from '../src/legacy/legacyMessage';
import { parseNotification } from '../src/notification';
import { testLegacyIds } from './helpers/stack';

const EXAMPLES = join(__dirname, '..', 'examples');
const read = (name: string) => readFileSync(join(EXAMPLES, name), 'utf8');

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('examples/', () => {
  test('every notification file is a valid notification, one per category', () => {
    const files = readdirSync(EXAMPLES).filter((name) => name.endsWith('.json'));
    const categories = files.map((name) => parseNotification(notificationFromJson(read(name), name)).category);
    assert.deepEqual([...new Set(categories)].sort(), ['advertising', 'delivery', 'order', 'refund']);
  });

  test('campaign.jsonl previews line by line, and with a cap of 2 says what the cap does to the night', async () => {
    const stdout = new Sink();
    const stderr = new Sink();
    const code = await cliMain(['preview', '--stdin'], { stdin: Readable.from([read('campaign.jsonl')]), stdout, stderr, env: { ...process.env, NOTIFY_MORNING_CAP: '2' } });
    assert.equal(code, 0, stderr.text);
    const records = stdout.text.trim().split('\n').map((line) => JSON.parse(line) as { notificationId: string; morning?: { outcome: string } });
    assert.equal(records.length, read('campaign.jsonl').trim().split('\n').length);
    const outcomes = Object.fromEntries(records.map((record) => [record.notificationId, record.morning?.outcome]));
    assert.deepEqual(
      [outcomes['night-1'], outcomes['night-2'], outcomes['night-4'], outcomes['night-5'], outcomes['night-7']],
      ['capped', 'collapsed', 'capped', 'admitted', 'admitted'],
    );
  });

  test('the legacy bodies: documented (numbers exact), encoded twice, a producer\'s own, and poison', () => {
    const documented = classifyLegacyMessage(read('legacy/documented.json').trim(), testLegacyIds());
    assert.ok(documented.kind === 'notification');
    assert.match(documented.notification.payloadJson ?? '', /"orderId":1234567890123456789/);
    const double = classifyLegacyMessage(read('legacy/double-encoded.json').trim(), testLegacyIds());
    assert.ok(double.kind === 'notification');
    assert.equal(double.notification.notificationId, 'legacy-order-991');
    assert.equal(classifyLegacyMessage(read('legacy/foreign.json').trim(), testLegacyIds()).kind, 'foreign');
    assert.throws(() => classifyLegacyMessage(read('legacy/poison.json').trim(), testLegacyIds()), (error: unknown) => error instanceof PoisonLegacyMessageError && /channel/.test(error.message));
  });
});
