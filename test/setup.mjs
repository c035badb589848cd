// Preloaded into every test process (see the test script in package.json).
//
// 1. The suite's fixed secrets, in process.env so that every process of the suite shares them,
//    worker child processes included (they inherit the environment): two payload-codec keys (the
//    current one and an older one, as after a rotation), the codec server's token and the
//    recipient-hash key. Fixed, so that a test run never depends on a developer's environment or on
//    the local stack's generated .data/local-secrets.env. Derived from labels rather than pasted as
//    random-looking literals: they protect nothing.
// 2. The Temporal runtime logs warnings and errors only, so that a failing assertion is not buried
//    under "worker state changed" lines. Plain JavaScript, and only on the main thread: Node passes
//    --import on to the SDK's workflow threads too. Workers started as child processes log as in
//    production.
import { createHash } from 'node:crypto';
import { isMainThread } from 'node:worker_threads';

const testSecret = (label, encoding = 'base64') => createHash('sha256').update(`kst-notification-scheduler test ${label}`).digest(encoding);
process.env.NOTIFY_CODEC_KEYS = `test-2026b:${testSecret('codec key 2026b')},test-2026a:${testSecret('codec key 2026a')}`;
process.env.NOTIFY_CODEC_KEY_ID = 'test-2026b';
process.env.NOTIFY_CODEC_SERVER_TOKEN = testSecret('codec server token', 'base64url');
process.env.NOTIFY_RECIPIENT_HASH_KEY = testSecret('recipient hash key');
process.env.NOTIFY_REPORT_SIGNING_KEY = testSecret('report signing key');

if (isMainThread) {
  const { DefaultLogger, Runtime } = await import('@temporalio/worker');
  // A failure a test makes on purpose (its message starts with "[simulated]") is not worth a line.
  const simulated = (entry) => String(entry.meta?.error?.message ?? entry.meta?.failure ?? '').startsWith('[simulated]');
  const print = new DefaultLogger('WARN');
  Runtime.install({ logger: new DefaultLogger('WARN', (entry) => simulated(entry) || print.log(entry.level, entry.message, entry.meta)) });
}
