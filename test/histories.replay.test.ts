/**
 * The golden histories (test/histories, recorded from real runs by `npm run histories:record`)
 * replayed against the workflow bundle that production runs: bundled with the options of
 * `npm run build` (src/workers/workflowCode.ts), with the project's data converter and the suite's
 * keys, which the histories were encrypted with. A change to the workflows that would give a run in
 * flight other commands than its history holds (a reordered or new command without `patched()`)
 * fails here with the nondeterminism error that would strand that run at the next deploy.
 * Nothing runs but the replay: no server, no activities.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { dataConverterFromConfig } from '../src/security/dataConverter';
import { WORKFLOW_BUNDLE_OPTIONS } from '../src/workers/workflowCode';
import { recordedHistories, recordedHistory, type RecordedHistory } from './histories/index';

/** Every state a workflow can be in when a deploy lands (docs/operations.md, "Golden histories"). */
const REQUIRED_STATES = [
  'notification-held-after-change',
  'notification-retrying',
  'notification-staged-in-the-lead',
  'gate-before-freeze',
  'gate-after-freeze',
  'gate-digest-sent',
  'notification-capped',
  'notification-digested',
  'reconciler-run',
  'compliance-report',
];

/** Replays the histories against a bundle; what failed, and with what error. */
async function replay(entries: RecordedHistory[], code: string): Promise<{ replayed: number; errors: { entry: RecordedHistory; message: string }[] }> {
  const histories = entries.map((entry) => ({ workflowId: entry.workflowId, history: recordedHistory(entry) }));
  const errors: { entry: RecordedHistory; message: string }[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: { code }, dataConverter: dataConverterFromConfig(loadConfig()) }, histories)) {
    replayed += 1;
    const entry = entries.find((candidate) => candidate.workflowId === result.workflowId)!;
    if (result.error) errors.push({ entry, message: `${result.error.name}: ${result.error.message}` });
  }
  return { replayed, errors };
}

describe('the golden histories replay against the production workflow bundle', () => {
  let code: string;
  before(async () => {
    ({ code } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: new DefaultLogger('WARN') }));
  }, { timeout: 180_000 });

  test('every state a deploy can find a workflow in has a history', () => {
    assert.deepEqual(recordedHistories().map((entry) => entry.name).sort(), [...REQUIRED_STATES].sort());
  });

  test('each replays without a nondeterminism error', { timeout: 180_000 }, async () => {
    const entries = recordedHistories();
    const failed = await replay(entries, code);
    assert.equal(failed.replayed, entries.length);
    if (failed.errors.length === 0) return;
    // The production bundle encrypts failure messages (its failure converter): replay the failing
    // ones once more without it, only to say in clear what went wrong.
    const { code: readable } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, failureConverterPath: undefined, logger: new DefaultLogger('WARN') });
    const explained = await replay(failed.errors.map(({ entry }) => entry), readable);
    const lines = failed.errors.map(({ entry }) => {
      const clear = explained.errors.find((error) => error.entry.name === entry.name)?.message ?? '(replays without the failure converter)';
      return `${entry.name} (${entry.state}):\n  ${clear}`;
    });
    assert.fail(`${failed.errors.length} of ${entries.length} golden histories no longer replay:\n${lines.join('\n')}`);
  });
});
