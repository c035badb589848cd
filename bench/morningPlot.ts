/**
 * The picture of a morning, from what Prometheus scraped while it happened (`npm run bench --
 * --watch`, bench/watch.ts): over seconds since T, the messages staged, sent and released
 * (cumulative, from the worker's counters), the lag of each message after its release (p50, p99 over
 * 5 s), and from the Temporal server the workflow tasks completed per second, beside the
 * held-due-soon gauge the staging alert reads. Drawn with the report's chart library
 * (src/report/charts.ts: Vega-Lite, SVG, PNG).
 */
import { writeFileSync } from 'node:fs';
import { renderChartSvg, svgToPng, type ChartSpec } from '../src/report/charts';

export interface MorningSeries {
  /** A line's name, e.g. "staged"; points are [seconds since T, value]. */
  name: string;
  points: [number, number][];
}

export interface MorningPicture {
  title: string;
  leadSeconds: number;
  /** The seconds since T the picture spans. */
  domain: [number, number];
  counts: MorningSeries[];
  lag: MorningSeries[];
  server: MorningSeries[];
}

function panel(series: MorningSeries[], yTitle: string, picture: MorningPicture, options: { log?: boolean } = {}) {
  const { leadSeconds, domain } = picture;
  const x = { field: 'seconds', type: 'quantitative', title: 'seconds since the release instant T', scale: { domain } } as const;
  const marks = [{ seconds: 0, label: 'T' }, ...(leadSeconds > 0 ? [{ seconds: -leadSeconds, label: 'T − lead' }] : [])];
  const values = series.flatMap((line) => line.points.filter(([, value]) => !options.log || value > 0).map(([seconds, value]) => ({ series: line.name, seconds, value })));
  if (values.length === 0) {
    // Nothing was recorded (an unstaged run's lag needs the release instant in the send's request).
    return {
      width: 760,
      height: 60,
      data: { values: [{ seconds: (domain[0] + domain[1]) / 2, text: `${yTitle}: nothing recorded in this run` }] },
      mark: { type: 'text', fontSize: 13 },
      encoding: { x: { ...x, axis: null }, text: { field: 'text' } },
    };
  }
  return {
    width: 760,
    height: 220,
    layer: [
      {
        data: { values },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', title: yTitle, ...(options.log ? { scale: { type: 'log' } } : {}) },
          color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'right', labelLimit: 300 } },
        },
      },
      {
        data: { values: marks },
        layer: [
          { mark: { type: 'rule', strokeDash: [4, 4], color: 'black' }, encoding: { x } },
          { mark: { type: 'text', align: 'left', dx: 4, dy: -6, baseline: 'top', fontWeight: 'bold' }, encoding: { x, y: { value: 0 }, text: { field: 'label' } } },
        ],
      },
    ],
  };
}

export function morningSpec(picture: MorningPicture): ChartSpec {
  return {
    title: picture.title,
    vconcat: [
      panel(picture.counts, 'messages (cumulative)', picture),
      panel(picture.lag, 'lag after the release (s, log)', picture, { log: true }),
      panel(picture.server, 'per second / held', picture),
    ],
    resolve: { scale: { color: 'independent' } },
  } as ChartSpec;
}

export async function writeMorningPicture(file: string, picture: MorningPicture): Promise<void> {
  writeFileSync(file, svgToPng(await renderChartSvg(morningSpec(picture)), { width: 1100 }));
}
