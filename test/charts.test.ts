/**
 * src/report/charts.ts: a Vega-Lite spec becomes an SVG with the marks the spec asks for, the same
 * bytes every time, and that SVG becomes a PNG of the asked width with its text drawn.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderChartSvg, svgToPng, type ChartSpec } from '../src/report/charts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// Two systems as lines over seconds since T, with T marked: the shape of the benchmark's plot.
const twoSeries: ChartSpec = {
  width: 300,
  height: 150,
  layer: [
    {
      data: {
        values: [
          { system: 'staged', seconds: 0, received: 0 },
          { system: 'staged', seconds: 1, received: 60 },
          { system: 'staged', seconds: 2, received: 100 },
          { system: 'legacy drain', seconds: 0, received: 0 },
          { system: 'legacy drain', seconds: 3, received: 40 },
          { system: 'legacy drain', seconds: 6, received: 100 },
        ],
      },
      mark: 'line',
      encoding: {
        x: { field: 'seconds', type: 'quantitative' },
        y: { field: 'received', type: 'quantitative' },
        color: { field: 'system', type: 'nominal' },
      },
    },
    { data: { values: [{ seconds: 0 }] }, mark: 'rule', encoding: { x: { field: 'seconds', type: 'quantitative' } } },
  ],
};

/** The elements inside the SVG group Vega draws for marks of this type and role (`role-mark`, `role-legend-label`). */
function marksOf(svg: string, type: string, role: string): string[] {
  const group = new RegExp(`<g class="mark-${type} role-${role}(?: [^"]*)?"[^>]*>(.*?)</g>`, 'gs');
  return [...svg.matchAll(group)].map((match) => match[1]!);
}

test('a spec renders to an SVG with one line per series, each series in the legend, and the rule', async () => {
  const svg = await renderChartSvg(twoSeries);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);

  const lines = marksOf(svg, 'line', 'mark').flatMap((group) => group.match(/<path [^>]*d="M[^"]+"/g) ?? []);
  assert.equal(lines.length, 2, 'one path per series');
  assert.notEqual(lines[0], lines[1]);

  const labels = marksOf(svg, 'text', 'legend-label').flatMap((group) => [...group.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]));
  assert.deepEqual(labels.sort(), ['legacy drain', 'staged']);

  assert.equal(marksOf(svg, 'rule', 'mark').join('').match(/<line /g)?.length, 1, 'the rule at T');
});

test('the same spec renders to the same bytes (a chart in a signed report must not change by itself)', async () => {
  assert.equal(await renderChartSvg(twoSeries), await renderChartSvg(twoSeries));
});

test('svgToPng returns a PNG of the asked width, and of the SVG\'s own width when none is asked', async () => {
  const svg = await renderChartSvg(twoSeries);
  const ownWidth = Number(/^<svg [^>]*width="(\d+)"/.exec(svg)?.[1]);
  assert.ok(ownWidth > 300, `the SVG's width: ${ownWidth}`);

  const wide = svgToPng(svg, { width: 800 });
  assert.deepEqual(wide.subarray(0, 8), PNG_SIGNATURE);
  // IHDR comes first: width and height as 32-bit big-endian integers at bytes 16 and 20.
  assert.equal(wide.readUInt32BE(16), 800);

  assert.equal(svgToPng(svg).readUInt32BE(16), ownWidth);
});

test('svgToPng draws the text (the system fonts are found): the same chart without its text makes a smaller PNG', async () => {
  const withText = await renderChartSvg({ ...twoSeries, title: 'A TITLE WITH MANY LETTERS IN IT' } as ChartSpec);
  const blank = withText.replace(/<text[^>]*>[^<]*<\/text>/g, '');
  assert.notEqual(blank, withText);
  // Text drawn means more ink, so a larger compressed image than the same chart with no text at all.
  assert.ok(svgToPng(withText, { width: 600 }).length > svgToPng(blank, { width: 600 }).length * 1.1, 'text adds to the image');
});
