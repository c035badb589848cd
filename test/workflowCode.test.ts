/**
 * The workflow bundle shares what it claims to share (src/workflows/sharedModules.ts). A module the
 * preload does not reach is evaluated again for every workflow a worker creates, silently: nothing
 * fails, the release only gets slower. Unit test: it bundles the sources with the production
 * options and reads webpack's module graph; no server runs.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_OPTIONS } from '../src/workers/workflowCode';

/** Each module's id and the ids it requires, from webpack's development output. */
function moduleGraph(code: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const headers = [...code.matchAll(/^\/\*\*\*\/ "([^"]+)":?$/gm)];
  headers.forEach((header, index) => {
    const body = code.slice(header.index, headers[index + 1]?.index ?? code.length);
    graph.set(header[1]!, [...body.matchAll(/__webpack_require__\(\/\*! [^*]* \*\/ "([^"]+)"\)/g)].map((match) => match[1]!));
  });
  return graph;
}

function reachable(graph: Map<string, string[]>, roots: string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    pending.push(...(graph.get(id) ?? []));
  }
  return seen;
}

describe('the modules the workflows share', () => {
  let graph: Map<string, string[]>;
  let preloaded: Set<string>;
  before(async () => {
    const { code } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: new DefaultLogger('WARN') });
    graph = moduleGraph(code);
    const preload = code.slice(code.indexOf('exports.preloadModules = function preloadModules()'), code.indexOf('exports.importWorkflows'));
    preloaded = reachable(graph, [...preload.matchAll(/__webpack_require__\(\/\*[^*]*\*\/ \/\*! [^*]* \*\/ "([^"]+)"\)/g)].map((match) => match[1]!));
  });

  test('zod, luxon, the policy and the notification contract, as the notification workflow reaches them, are all preloaded', () => {
    const workflow = reachable(graph, ['./src/workflows/notification.ts']);
    const meantShared = [...workflow].filter((id) =>
      /\/node_modules\/(zod|luxon)\/|^\.\/src\/(policy\/|notification\.ts|failureTypes\.ts|searchAttributes\.ts|evidence\.ts|webUiText\.ts)/.test(id),
    );
    // Each of these is its own module in the bundle: an empty list would prove nothing.
    for (const expected of [/\/zod\//, /\/luxon\//, /^\.\/src\/policy\//, /^\.\/src\/notification\.ts$/]) {
      assert.ok(meantShared.some((id) => expected.test(id)), `the notification workflow reaches no module matching ${expected}`);
    }
    assert.deepEqual(meantShared.filter((id) => !preloaded.has(id)), [], 'evaluated again for every workflow');
  });
});
