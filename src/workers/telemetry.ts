/**
 * The worker process's Temporal runtime: its logger and, when asked, the SDK's own Prometheus
 * exporter, which serves the SDK's metrics (task slots, schedule-to-start latencies, the sticky
 * cache, …) and the project's (src/metricNames.ts) on one `/metrics` endpoint.
 *
 * Exported as Prometheus names them: counters end in `_total`, durations are seconds and say so
 * (`temporal_workflow_task_schedule_to_start_latency_seconds`); the SDK's default would have been
 * milliseconds and counters without a suffix. Runtime.install may run once per process, before any
 * connection.
 */
import { DefaultLogger, Runtime, type LogLevel, type Logger } from '@temporalio/worker';
import type { Config } from '../config';
import { HISTOGRAM_BUCKETS } from '../metricNames';

/** The port `npm start` serves metrics on unless NOTIFY_METRICS_PORT says otherwise (0: none). */
export const LOCAL_STACK_METRICS_PORT = 9464;

export interface RuntimeTelemetry {
  /** Where the metrics are served (http://host:port/metrics), or undefined. */
  metricsUrl?: string;
}

/** The Prometheus exporter's options for an endpoint on host:port. */
export function prometheusExporter(host: string, port: number) {
  return {
    prometheus: {
      bindAddress: `${host}:${port}`,
      countersTotalSuffix: true,
      unitSuffix: true,
      useSecondsForDurations: true,
      histogramBucketOverrides: HISTOGRAM_BUCKETS,
    },
  };
}

/**
 * Installs the runtime: `metrics.port` set and not 0 serves metrics there. `logger` as given (the
 * SDK's default otherwise). Fails, naming the setting, when the port is taken.
 */
export function installRuntime(options: { metrics: Config['metrics']; logger?: Logger; shutdownSignals?: NodeJS.Signals[] }): RuntimeTelemetry {
  const { host, port } = options.metrics;
  const metrics = port ? prometheusExporter(host, port) : undefined;
  try {
    Runtime.install({
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.shutdownSignals ? { shutdownSignals: options.shutdownSignals } : {}),
      ...(metrics ? { telemetryOptions: { metrics } } : {}),
    });
  } catch (error) {
    if (!metrics) throw error;
    throw new Error(`the metrics endpoint ${host}:${port} could not be served (${(error as Error).message}); another port can be set with NOTIFY_METRICS_PORT (0: none)`);
  }
  return port ? { metricsUrl: `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}/metrics` } : {};
}

export function defaultLogger(level: LogLevel): Logger {
  return new DefaultLogger(level);
}
