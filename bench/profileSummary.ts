/**
 * Where a thread's CPU went, from a V8 `.cpuprofile` (`node --cpu-prof --cpu-prof-dir DIR …`
 * writes one per thread: the worker's main thread and its workflow thread apart).
 *
 *   node --import tsx bench/profileSummary.ts FILE                      busy seconds per 5 s, to find the send window
 *   node --import tsx bench/profileSummary.ts FILE --from 95 --to 168   shares within it (seconds since the profile began)
 *
 * Shares are of the busy samples (idle left out): by package or source file (self time), the
 * functions with the most self time, and the most inclusive time (a function and what it called).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const BUCKET_SECONDS = 5;
const V8_PSEUDO_FRAMES = new Set(['(program)', '(garbage collector)']);

/** An npm package (`@temporalio/worker`), a project file, or V8's own pseudo-frames. */
function placeOf({ functionName, url }: CallFrame): string {
  if (V8_PSEUDO_FRAMES.has(functionName)) return functionName;
  if (!url) return '(native)';
  const inPackage = url.split('node_modules/').slice(1).pop();
  if (inPackage) return inPackage.split('/').slice(0, inPackage.startsWith('@') ? 2 : 1).join('/');
  return url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '');
}

function top(seconds: Map<string, number>, busy: number, count: number): string[] {
  return [...seconds]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, value]) => `${value.toFixed(2).padStart(8)} s ${((100 * value) / busy).toFixed(1).padStart(5)} %  ${name}`);
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string', default: '30' } } });
  const file = positionals[0];
  if (!file) throw new Error('usage: bench/profileSummary.ts FILE [--from SECONDS --to SECONDS] [--top N]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const from = values.from === undefined ? undefined : Number(values.from);
  const to = values.to === undefined ? Number.POSITIVE_INFINITY : Number(values.to);

  const busyPerBucket: number[] = [];
  const selfByPlace = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, seconds: number) => map.set(key, (map.get(key) ?? 0) + seconds);
  let busy = 0;
  let elapsedUs = 0;
  profile.samples.forEach((id, index) => {
    elapsedUs += profile.timeDeltas[index]!;
    // A sample stands for the time until the next one.
    const seconds = (profile.timeDeltas[index + 1] ?? 0) / 1e6;
    const at = elapsedUs / 1e6;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') return;
    const bucket = Math.floor(at / BUCKET_SECONDS);
    busyPerBucket[bucket] = (busyPerBucket[bucket] ?? 0) + seconds;
    if (from === undefined || at < from || at > to) return;
    busy += seconds;
    add(selfByPlace, placeOf(node.callFrame), seconds);
    add(selfByFunction, `${node.callFrame.functionName || '(anonymous)'} ${placeOf(node.callFrame)}:${node.callFrame.lineNumber}`, seconds);
    // Each function once per sample, however deep it recurses.
    const onStack = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
      const frame = byId.get(current)!.callFrame;
      onStack.add(`${frame.functionName || '(anonymous)'} ${placeOf(frame)}`);
    }
    for (const name of onStack) add(inclusive, name, seconds);
  });

  console.log(`busy seconds per ${BUCKET_SECONDS} s since the profile began:`);
  console.log(Array.from(busyPerBucket, (value, bucket) => `${bucket * BUCKET_SECONDS}:${(value ?? 0).toFixed(1)}`).join(' '));
  if (from === undefined) return;
  const count = Number(values.top);
  console.log(`\n${busy.toFixed(1)} busy seconds from ${from} s to ${to} s\n-- self, by package or file`);
  for (const line of top(selfByPlace, busy, count)) console.log(line);
  console.log('-- self, by function');
  for (const line of top(selfByFunction, busy, count)) console.log(line);
  console.log('-- inclusive, by function');
  for (const line of top(inclusive, busy, count * 2)) console.log(line);
}

main();
