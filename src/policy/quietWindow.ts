/**
 * The quiet window as times of day: "HH:mm" settings, the wall-clock times they keep quiet, and
 * the law's window that a configured one must cover.
 */

/** The settings of a window: [quietStart, quietEnd) local wall time, wrapping midnight when start > end. */
export interface WindowSettings {
  quietStart: string;
  quietEnd: string;
}

/** A quiet window as two times of day in milliseconds since local midnight. */
export interface Window {
  start: number;
  end: number;
}

/** The law's window (art. 50(3)): advertising is not sent 21:00–08:00 without night-time consent. */
export const LEGAL_QUIET_WINDOW: WindowSettings = Object.freeze({ quietStart: '21:00', quietEnd: '08:00' });

const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** "HH:mm" (24-hour) as milliseconds since local midnight; throws an Error naming the field. */
export function parseTimeOfDay(value: unknown, field: string): number {
  const match = typeof value === 'string' ? TIME_OF_DAY.exec(value) : null;
  if (!match) {
    throw new Error(`invalid ${field} ${JSON.stringify(value)}: expected HH:mm in 24-hour form, e.g. "21:00"`);
  }
  return (Number(match[1]) * 60 + Number(match[2])) * 60_000;
}

/** The window of some settings, or undefined when start == end (no quiet hours). */
export function windowOf(settings: WindowSettings): Window | undefined {
  const start = parseTimeOfDay(settings.quietStart, 'quietStart');
  const end = parseTimeOfDay(settings.quietEnd, 'quietEnd');
  return start === end ? undefined : { start, end };
}

/** Whether a wall-clock time of day (ms since local midnight) is inside the window. */
export function wallTimeIsQuiet(wall: number, window: Window): boolean {
  return window.start < window.end ? wall >= window.start && wall < window.end : wall >= window.start || wall < window.end;
}

/** Whether every wall-clock time that `inner` keeps quiet is quiet under `outer` too. */
export function windowCovers(outer: WindowSettings, inner: WindowSettings): boolean {
  return windowCoversWindow(windowOf(outer), windowOf(inner));
}

/** windowCovers on windows as milliseconds since local midnight (undefined: no quiet hours). */
export function windowCoversWindow(around: Window | undefined, within: Window | undefined): boolean {
  if (!within) return true;
  if (!around) return false;
  const innerWraps = within.start > within.end;
  if (around.start < around.end) return !innerWraps && around.start <= within.start && within.end <= around.end;
  // A window that wraps midnight leaves one stretch allowed, [end, start), which does not.
  if (innerWraps) return around.start <= within.start && within.end <= around.end;
  return within.end <= around.end || within.start >= around.start;
}

/** Whether a policy keeps at least the law's window quiet (it may keep a wider one). */
export function coversLegalWindow(settings: WindowSettings): boolean {
  return windowCovers(settings, LEGAL_QUIET_WINDOW);
}
