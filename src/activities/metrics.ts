/**
 * The delivery activity's metrics (names in src/metricNames.ts): what each send tells about the
 * morning, recorded on the SDK's metric meter of the activity (`Context.current().metricMeter`), so
 * that they leave through the worker's Prometheus endpoint with the SDK's own. Outside an activity
 * (a unit test calling the function directly) nothing is recorded.
 */
import { Context } from '@temporalio/activity';
import { noopMetricMeter, type MetricMeter } from '@temporalio/common';
import { categoryLabel, COUNTERS, HISTOGRAMS } from '../metricNames';
import type { DeliveryRequest, DeliveryResult } from './delivery';

/** What one successful send tells. */
export interface SendMeasurement {
  category: string;
  /** Handed to SQS before its release instant, with a delay. */
  staged: boolean;
  /** Seconds between the hand-over and the release instant (staged only). */
  aheadOfReleaseSeconds?: number;
  /** Seconds between the release instant and the moment it became receivable; undefined when the request does not say its release instant. */
  lagSeconds?: number;
  /** Receivable where its decision did not allow it: see COUNTERS.insideQuietWindow. */
  insideQuietWindow: boolean;
  /** When it becomes receivable (epoch ms). */
  receivableAtMs: number;
}

/**
 * The release instant of a send: `releaseAt` when it is staged, else `dueAt` (the decision's release
 * instant, which a workflow may pass for the lag of an unstaged send).
 */
function releaseInstantMs(request: DeliveryRequest): number | undefined {
  const text = request.releaseAt ?? request.dueAt;
  return text === undefined ? undefined : Date.parse(text);
}

/**
 * Measures a send from its request and result alone (pure). "Inside the quiet window" is judged
 * against the send's own decision, which the request carries: a notification the window held
 * (`held-quiet-hours`) must not be receivable before its release instant, the end of that window;
 * and every notification the window applies to carries a deadline, the start of its next window
 * (or its expiry, if that comes first), at or after which it must not be receivable. A deadline
 * equal to the expiry is the expiry, not a window.
 */
export function measureSend(request: DeliveryRequest, result: Pick<DeliveryResult, 'stagedAt' | 'releasedAt'>): SendMeasurement {
  const stagedAtMs = Date.parse(result.stagedAt);
  const receivableAtMs = Date.parse(result.releasedAt);
  const releaseMs = releaseInstantMs(request);
  const staged = request.releaseAt !== undefined && Date.parse(request.releaseAt) > stagedAtMs;
  const expiresAt = 'expiresAt' in request.notification ? request.notification.expiresAt : undefined;
  const windowStartMs =
    request.deadline !== undefined && (expiresAt === undefined || Date.parse(expiresAt) !== Date.parse(request.deadline)) ? Date.parse(request.deadline) : undefined;
  const beforeWindowEnd = request.releaseReason === 'held-quiet-hours' && releaseMs !== undefined && receivableAtMs < releaseMs;
  const afterWindowStart = windowStartMs !== undefined && receivableAtMs >= windowStartMs;
  return {
    category: categoryLabel(request.notification),
    staged,
    ...(staged ? { aheadOfReleaseSeconds: (releaseMs! - stagedAtMs) / 1000 } : {}),
    ...(releaseMs !== undefined ? { lagSeconds: Math.max(0, receivableAtMs - releaseMs) / 1000 } : {}),
    insideQuietWindow: beforeWindowEnd || afterWindowStart,
    receivableAtMs,
  };
}

/** The meter of the running activity, or one that records nothing outside an activity. */
function activityMeter(): MetricMeter {
  try {
    return Context.current().metricMeter;
  } catch {
    return noopMetricMeter;
  }
}

/**
 * Records a successful send. `nowMs` is the instant on the send's own reckoning of the server's
 * clock; a staged message is counted as released when its delay ends (a timer of this process).
 */
export function recordSend(measurement: SendMeasurement, nowMs: number, meter: MetricMeter = activityMeter()): void {
  const tags = { category: measurement.category };
  meter.createCounter(measurement.staged ? COUNTERS.staged : COUNTERS.sent).add(1, tags);
  if (measurement.aheadOfReleaseSeconds !== undefined) meter.createHistogram(HISTOGRAMS.stagedAhead, 'float').record(measurement.aheadOfReleaseSeconds, tags);
  if (measurement.lagSeconds !== undefined) meter.createHistogram(HISTOGRAMS.releaseLag, 'float').record(measurement.lagSeconds, tags);
  // Always touched, so that the alarm's series exists (at 0) from the first send on.
  meter.createCounter(COUNTERS.insideQuietWindow).add(measurement.insideQuietWindow ? 1 : 0, tags);
  const released = meter.createCounter(COUNTERS.released);
  const delayMs = measurement.receivableAtMs - nowMs;
  if (delayMs <= 0) released.add(1, tags);
  // Unref'd: a worker that shuts down does not wait for it (the count is then lost, the message is not).
  else setTimeout(() => released.add(1, tags), delayMs).unref();
}

/** Records a failed send attempt with its failure type. */
export function recordSendFailure(request: DeliveryRequest, reason: string, meter: MetricMeter = activityMeter()): void {
  meter.createCounter(COUNTERS.sendFailures).add(1, { category: categoryLabel(request.notification), reason });
}
