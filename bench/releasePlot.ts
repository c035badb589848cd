/**
 * The benchmark's release plot: messages received downstream over time since the release instant
 * T, one line per system (the median run of each), T marked. A Vega-Lite spec rendered by
 * src/report/charts.ts, written as PNG next to the results.
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

/** Writes the plot as PNG; returns false when the results hold no release to draw. */
export async function writeReleasePlot(file: string, results: BenchResults): Promise<boolean> {
  const spec = releasePlotSpec(results);
  if (!spec) return false;
  writeFileSync(file, svgToPng(await renderChartSvg(spec), { width: 1100 }));
  return true;
}
