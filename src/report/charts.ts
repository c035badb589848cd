/**
 * Charts as SVG, from Vega-Lite specs, rendered headlessly (no browser, no canvas, no network), and
 * as PNG through resvg where a picture file is needed. Used by the compliance report's HTML page and
 * by the benchmark's release plot.
 *
 * Vega-Lite, because a chart is then a small declarative spec that anyone can read and change, and
 * Vega's SVG renderer needs no native canvas; resvg (a Rust SVG renderer with prebuilt binaries on
 * the npm registry) turns the SVG into a PNG with the machine's fonts.
 *
 * Vega 5 and Vega-Lite 5 (the newest of those lines), not 6: the 6 releases are ES modules only, and
 * vega-canvas awaits at its top level, which this CommonJS build (tsconfig `module: commonjs`, and
 * the worker's bundle) cannot `require`.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type ChartSpec = TopLevelSpec;

/** Renders a Vega-Lite spec to a standalone SVG document. */
export async function renderChartSvg(spec: ChartSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** An SVG document as PNG, `width` pixels wide (default: the SVG's own size). */
export function svgToPng(svg: string, options: { width?: number } = {}): Buffer {
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: options.width ? { mode: 'width', value: options.width } : { mode: 'original' },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return Buffer.from(resvg.render().asPng());
}
