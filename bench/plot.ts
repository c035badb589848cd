/**
 * A line plot as PNG with no dependency but pngjs: messages delivered over time since T, one line
 * per system. Text is drawn with a built-in 5x7 bitmap font (upper case, digits, a few signs), so
 * the plot looks the same on every machine.
 */
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

const FONT: Record<string, string[]> = {
  A: ['01110', '10001', '10001', '11111', '10001', '10001', '10001'],
  B: ['11110', '10001', '10001', '11110', '10001', '10001', '11110'],
  C: ['01110', '10001', '10000', '10000', '10000', '10001', '01110'],
  D: ['11110', '10001', '10001', '10001', '10001', '10001', '11110'],
  E: ['11111', '10000', '10000', '11110', '10000', '10000', '11111'],
  F: ['11111', '10000', '10000', '11110', '10000', '10000', '10000'],
  G: ['01110', '10001', '10000', '10111', '10001', '10001', '01111'],
  H: ['10001', '10001', '10001', '11111', '10001', '10001', '10001'],
  I: ['01110', '00100', '00100', '00100', '00100', '00100', '01110'],
  J: ['00111', '00010', '00010', '00010', '00010', '10010', '01100'],
  K: ['10001', '10010', '10100', '11000', '10100', '10010', '10001'],
  L: ['10000', '10000', '10000', '10000', '10000', '10000', '11111'],
  M: ['10001', '11011', '10101', '10101', '10001', '10001', '10001'],
  N: ['10001', '10001', '11001', '10101', '10011', '10001', '10001'],
  O: ['01110', '10001', '10001', '10001', '10001', '10001', '01110'],
  P: ['11110', '10001', '10001', '11110', '10000', '10000', '10000'],
  Q: ['01110', '10001', '10001', '10001', '10101', '10010', '01101'],
  R: ['11110', '10001', '10001', '11110', '10100', '10010', '10001'],
  S: ['01111', '10000', '10000', '01110', '00001', '00001', '11110'],
  T: ['11111', '00100', '00100', '00100', '00100', '00100', '00100'],
  U: ['10001', '10001', '10001', '10001', '10001', '10001', '01110'],
  V: ['10001', '10001', '10001', '10001', '10001', '01010', '00100'],
  W: ['10001', '10001', '10001', '10101', '10101', '10101', '01010'],
  X: ['10001', '10001', '01010', '00100', '01010', '10001', '10001'],
  Y: ['10001', '10001', '01010', '00100', '00100', '00100', '00100'],
  Z: ['11111', '00001', '00010', '00100', '01000', '10000', '11111'],
  '0': ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  '1': ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  '2': ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  '3': ['11111', '00010', '00100', '00010', '00001', '10001', '01110'],
  '4': ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  '5': ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  '6': ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  '7': ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  '8': ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  '9': ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
  ' ': ['00000', '00000', '00000', '00000', '00000', '00000', '00000'],
  '.': ['00000', '00000', '00000', '00000', '00000', '01100', '01100'],
  ',': ['00000', '00000', '00000', '00000', '01100', '00100', '01000'],
  ':': ['00000', '01100', '01100', '00000', '01100', '01100', '00000'],
  '-': ['00000', '00000', '00000', '11111', '00000', '00000', '00000'],
  '(': ['00010', '00100', '01000', '01000', '01000', '00100', '00010'],
  ')': ['01000', '00100', '00010', '00010', '00010', '00100', '01000'],
  '/': ['00001', '00010', '00010', '00100', '01000', '01000', '10000'],
  '=': ['00000', '00000', '11111', '00000', '11111', '00000', '00000'],
  '%': ['11001', '11010', '00010', '00100', '01000', '01011', '10011'],
  '+': ['00000', '00100', '00100', '11111', '00100', '00100', '00000'],
  '*': ['00000', '10101', '01110', '11111', '01110', '10101', '00000'],
  '<': ['00010', '00100', '01000', '10000', '01000', '00100', '00010'],
  '>': ['01000', '00100', '00010', '00001', '00010', '00100', '01000'],
};

type Rgb = [number, number, number];

export const PALETTE: Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
];

class Canvas {
  readonly png: PNG;
  constructor(readonly width: number, readonly height: number) {
    this.png = new PNG({ width, height });
    this.png.data.fill(255);
  }
  set(x: number, y: number, [r, g, b]: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const index = (yi * this.width + xi) * 4;
    this.png.data[index] = r;
    this.png.data[index + 1] = g;
    this.png.data[index + 2] = b;
    this.png.data[index + 3] = 255;
  }
  rect(x: number, y: number, w: number, h: number, color: Rgb): void {
    for (let i = 0; i < w; i += 1) for (let j = 0; j < h; j += 1) this.set(x + i, y + j, color);
  }
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, thickness = 1): void {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1) * 2;
    const half = Math.floor(thickness / 2);
    for (let step = 0; step <= steps; step += 1) {
      const x = x0 + ((x1 - x0) * step) / steps;
      const y = y0 + ((y1 - y0) * step) / steps;
      for (let dx = -half; dx <= half; dx += 1) for (let dy = -half; dy <= half; dy += 1) this.set(x + dx, y + dy, color);
    }
  }
  /** Text at (x, y) top-left, `scale` pixels per font dot; returns its width. */
  text(x: number, y: number, text: string, color: Rgb = [0, 0, 0], scale = 2, vertical = false): number {
    let cursor = 0;
    for (const char of text.toUpperCase()) {
      const glyph = FONT[char] ?? FONT['*']!;
      glyph.forEach((row, gy) =>
        [...row].forEach((dot, gx) => {
          if (dot !== '1') return;
          for (let sx = 0; sx < scale; sx += 1)
            for (let sy = 0; sy < scale; sy += 1) {
              if (vertical) this.set(x + gy * scale + sy, y - (cursor + gx * scale + sx), color);
              else this.set(x + cursor + gx * scale + sx, y + gy * scale + sy, color);
            }
        }),
      );
      cursor += 6 * scale;
    }
    return cursor;
  }
}

export function textWidth(text: string, scale = 2): number {
  return text.length * 6 * scale;
}

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalized = raw / magnitude;
  const nice = normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10;
  return nice * magnitude;
}

export interface Series {
  label: string;
  /** [x, y] points, x ascending. */
  points: [number, number][];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** Log-scaled x axis (seconds spanning orders of magnitude). */
  logX?: boolean;
}

/** Draws the series and writes the PNG. */
export function writeLinePlot(file: string, options: PlotOptions): void {
  const width = options.width ?? 1100;
  const legendRows = options.series.length;
  const height = (options.height ?? 600) + legendRows * 24 + 10;
  const canvas = new Canvas(width, height);
  const left = 100;
  const right = 30;
  const top = 50;
  const bottom = 80 + legendRows * 24 + 10;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const allPoints = options.series.flatMap((series) => series.points);
  const xMax = Math.max(...allPoints.map(([x]) => x), 1);
  const yMax = Math.max(...allPoints.map(([, y]) => y), 1);
  const firstPositive = Math.min(...allPoints.filter(([x, y]) => x > 0 && y > 0).map(([x]) => x), 1);
  const logMin = Math.max(0.01, 10 ** Math.floor(Math.log10(firstPositive)));
  const xScale = options.logX
    ? (x: number) => left + (Math.log10(Math.max(x, logMin) / logMin) / Math.log10((xMax * 1.05) / logMin)) * plotWidth
    : (x: number) => left + (x / (xMax * 1.02)) * plotWidth;
  const yScale = (y: number) => top + plotHeight - (y / (yMax * 1.05)) * plotHeight;
  const grid: Rgb = [225, 225, 225];
  const axis: Rgb = [60, 60, 60];

  // Grid and ticks.
  const yStep = niceStep(yMax, 6);
  for (let y = 0; y <= yMax * 1.05; y += yStep) {
    const py = yScale(y);
    canvas.line(left, py, left + plotWidth, py, grid);
    const label = y >= 1000 ? `${y / 1000}K` : String(y);
    canvas.text(left - 10 - textWidth(label), py - 7, label, axis);
  }
  const xTicks: number[] = [];
  if (options.logX) {
    for (let decade = logMin; decade <= xMax * 1.05; decade *= 10) for (const m of [1, 2, 5]) if (decade * m <= xMax * 1.05) xTicks.push(decade * m);
  } else {
    const xStep = niceStep(xMax, 10);
    for (let x = 0; x <= xMax * 1.02; x += xStep) xTicks.push(x);
  }
  for (const x of xTicks) {
    const px = xScale(x);
    canvas.line(px, top, px, top + plotHeight, grid);
    const label = Number(x.toPrecision(3)).toString();
    canvas.text(px - textWidth(label) / 2, top + plotHeight + 10, label, axis);
  }
  canvas.line(left, top, left, top + plotHeight, axis, 2);
  canvas.line(left, top + plotHeight, left + plotWidth, top + plotHeight, axis, 2);

  // Titles.
  canvas.text((width - textWidth(options.title, 3)) / 2, 12, options.title, [0, 0, 0], 3);
  canvas.text(left + (plotWidth - textWidth(options.xLabel)) / 2, top + plotHeight + 40, options.xLabel, [0, 0, 0]);
  canvas.text(20, top + (plotHeight + textWidth(options.yLabel)) / 2, options.yLabel, [0, 0, 0], 2, true);

  // Lines.
  options.series.forEach((series, index) => {
    const color = PALETTE[index % PALETTE.length]!;
    for (let i = 1; i < series.points.length; i += 1) {
      const [x0, y0] = series.points[i - 1]!;
      const [x1, y1] = series.points[i]!;
      canvas.line(xScale(x0), yScale(y0), xScale(x1), yScale(y1), color, 3);
    }
  });

  // Legend below the axis title.
  options.series.forEach((series, index) => {
    const color = PALETTE[index % PALETTE.length]!;
    const y = top + plotHeight + 75 + index * 24;
    canvas.rect(left + 8, y + 4, 28, 6, color);
    canvas.text(left + 44, y, series.label, [0, 0, 0]);
  });

  writeFileSync(file, PNG.sync.write(canvas.png));
}
