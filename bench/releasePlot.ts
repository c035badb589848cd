/**
 * The benchmark's plots, Vega-Lite specs rendered by src/report/charts.ts and written as PNG next to
 * the results: the release (messages received downstream over time since the release instant T, one
 * line per system, the median run of each, T marked), and the release curve (the share of each
 * size received over time since T, one line per size).
 */
import { writeFileSync } from 'node:fs';
import { renderChartSvg, svgToPng, type ChartSpec } from '../src/report/charts';
import type { BenchResults } from './report';

interface Curve {
  totalMs: number;
  curve: [number, number][];
}

/** The median run by time to the last receive. */
function medianRun(runs: Curve[]): Curve | undefined {
  if (runs.length === 0) return undefined;
  const sorted = [...runs].sort((a, b) => a.totalMs - b.totalMs);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** 0, then 1, 2 and 5 times each power of ten, up to the last second drawn. */
function logTicks(last: number): number[] {
  const ticks = [0];
  for (let decade = 1; decade <= last; decade *= 10) {
    for (const step of [1, 2, 5]) if (decade * step <= last) ticks.push(decade * step);
  }
  return ticks;
}

export function releasePlotSpec(results: BenchResults): ChartSpec | undefined {
  const group = results.byLatency[0];
  const systems = (
    [
      [`Temporal, staged ${results.flags.prestageSeconds} s`, medianRun(group?.staged ?? [])],
      ['Temporal, staging off', medianRun(group?.unstaged ?? [])],
      ['Temporal floor (timer-only workflow)', medianRun(results.floor)],
      ['Legacy drain', medianRun(group?.legacy ?? [])],
      [`BullMQ (concurrency ${results.flags.bullmqConcurrency})`, medianRun(group?.bullmq ?? [])],
      ['SQS ceiling (SendMessageBatch)', medianRun(group?.ceiling ?? [])],
    ] as [string, Curve | undefined][]
  ).filter((entry): entry is [string, Curve] => entry[1] !== undefined);
  if (systems.length === 0) return undefined;
  const points = systems.flatMap(([name, run]) => {
    const system = `${name}: ${(run.totalMs / 1000).toFixed(1)} s`;
    return run.curve.map(([ms, received]) => ({ system, seconds: Math.max(ms, 0) / 1000, received }));
  });
  const lastSecond = Math.max(...points.map((point) => point.seconds));
  const seconds = {
    field: 'seconds',
    type: 'quantitative',
    title: 'seconds since the release instant T (symmetric log scale)',
    scale: { type: 'symlog' },
    // Vega's own symlog ticks leave the first ten seconds unlabelled, where the fast systems finish.
    axis: { values: logTicks(lastSecond), format: ',d' },
  } as const;
  return {
    title: `Release of ${results.flags.n.toLocaleString('en-US')} held notifications, as received downstream (SQS +${group?.latencyMs ?? 0} ms)`,
    width: 760,
    height: 380,
    layer: [
      {
        data: { values: points },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
        encoding: {
          x: seconds,
          y: { field: 'received', type: 'quantitative', title: 'messages received by the consumer' },
          color: { field: 'system', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2, labelLimit: 480 } },
        },
      },
      {
        data: { values: [{ seconds: 0, label: 'T' }] },
        layer: [
          { mark: { type: 'rule', strokeDash: [4, 4], color: 'black' }, encoding: { x: seconds } },
          { mark: { type: 'text', align: 'left', dx: 4, dy: -6, baseline: 'top', fontWeight: 'bold' }, encoding: { x: seconds, y: { value: 0 }, text: { field: 'label' } } },
        ],
      },
    ],
  } as ChartSpec;
}

/** The release curve: per size, the share received by each second since T (the jump at T is what was staged before it). */
export function releaseCurveSpec(results: BenchResults): ChartSpec | undefined {
  const runs = results.curve ?? [];
  if (runs.length === 0) return undefined;
  const sizeOf = (run: (typeof runs)[number]) =>
    `${run.n.toLocaleString('en-US')}: ${(run.stagedBeforeT ?? 0).toLocaleString('en-US')} staged before T, last at ${(run.totalMs / 1000).toFixed(1)} s`;
  const points = runs.flatMap((run) => run.curve.map(([ms, received]) => ({ size: sizeOf(run), seconds: Math.max(ms, 0) / 1000, share: received / run.n })));
  return {
    title: `Staged releases by size, lead ${runs[0]!.prestageSeconds} s: share received downstream since T`,
    width: 760,
    height: 380,
    data: { values: points },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
    encoding: {
      x: { field: 'seconds', type: 'quantitative', title: 'seconds since the release instant T' },
      y: { field: 'share', type: 'quantitative', title: 'share of the notifications received', axis: { format: '.0%' } },
      // In the order the sizes ran (smallest first), not sorted as text.
      color: { field: 'size', type: 'nominal', title: 'notifications due', scale: { domain: runs.map(sizeOf) }, legend: { orient: 'bottom', columns: 1, labelLimit: 480 } },
    },
  } as ChartSpec;
}

/** Writes a plot as PNG; returns false when the results hold nothing to draw. */
async function writePlot(file: string, spec: ChartSpec | undefined): Promise<boolean> {
  if (!spec) return false;
  writeFileSync(file, svgToPng(await renderChartSvg(spec), { width: 1100 }));
  return true;
}

export const writeReleasePlot = (file: string, results: BenchResults) => writePlot(file, releasePlotSpec(results));
export const writeReleaseCurvePlot = (file: string, results: BenchResults) => writePlot(file, releaseCurveSpec(results));
