/**
 * docker-compose.yml is valid and agrees with the code: the ElasticMQ queue file is what
 * src/stack/elasticMqConfig.ts generates, the workers' queue names and region are the
 * configuration's defaults, the images are the pinned ones, and the search attributes that
 * compose registers are the ones the workflows use. No Docker engine is needed: only
 * `docker-compose config`. Without docker-compose the test fails (it must not pass unchecked).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TypedSearchAttributes } from '@temporalio/common';
import { loadConfig } from '../src/config';
import { NOTIFICATION_SEARCH_ATTRIBUTES } from '../src/searchAttributes';
import { findOnPath } from '../src/stack/commands';
import { configuredQueueNames, elasticMqConfig } from '../src/stack/elasticMqConfig';
import { COMPOSE_IMAGES } from '../src/stack/versions';

const ROOT = join(__dirname, '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const DEFAULTS = loadConfig({});

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | null>;
  volumes?: (string | { source: string; target: string })[];
  ports?: ({ published: number | string; target: number } | string)[];
  deploy?: { replicas?: number };
  entrypoint?: string[];
}

function dockerCompose(): string {
  const path = findOnPath('docker-compose');
  assert.ok(path, 'docker-compose is not installed: `apt-get install -y docker-compose` (.ci/run installs it). This test checks docker-compose.yml and must not be skipped.');
  return path;
}

/** `docker-compose config` as an object: compose v1 prints YAML, which its own Python (with PyYAML) turns into JSON. */
let resolved: { services: Record<string, ComposeService> } | undefined;
function resolvedCompose(): { services: Record<string, ComposeService> } {
  resolved ??= readResolvedCompose();
  return resolved;
}

function readResolvedCompose(): { services: Record<string, ComposeService> } {
  const compose = dockerCompose();
  const shebang = readFileSync(compose, 'utf8').split('\n', 1)[0] ?? '';
  const yaml = execFileSync(compose, ['-f', COMPOSE_FILE, 'config'], { cwd: ROOT, encoding: 'utf8' });
  if (shebang.startsWith('#!') && shebang.includes('python')) {
    const python = shebang.slice(2).trim().split(/\s+/)[0]!;
    const json = execFileSync(python, ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: yaml, encoding: 'utf8' });
    return JSON.parse(json);
  }
  // Compose v2 (a Go binary) prints JSON itself.
  return JSON.parse(execFileSync(compose, ['-f', COMPOSE_FILE, 'config', '--format', 'json'], { cwd: ROOT, encoding: 'utf8' }));
}

function mountSource(service: ComposeService, target: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    if (typeof volume === 'string') {
      const [source, mountTarget] = volume.split(':');
      if (mountTarget === target) return source;
    } else if (volume.target === target) return volume.source;
  }
  return undefined;
}

describe('docker-compose.yml', () => {
  test('is valid for docker-compose (config -q)', () => {
    execFileSync(dockerCompose(), ['-f', COMPOSE_FILE, 'config', '-q'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  });

  test('ElasticMQ gets the queue file that the local stack generates', () => {
    const { services } = resolvedCompose();
    const elasticmq = services.elasticmq;
    assert.ok(elasticmq, 'an elasticmq service');
    assert.equal(elasticmq.image, COMPOSE_IMAGES.elasticMq);
    const source = mountSource(elasticmq, '/opt/elasticmq.conf');
    assert.equal(source, join(ROOT, 'docker', 'elasticmq.conf'));
    const published = (elasticmq.ports ?? []).map((port) => (typeof port === 'string' ? port : `${port.published}:${port.target}`));
    assert.ok(published.includes('9324:9324'), `ElasticMQ published on 9324 (got ${published.join(', ')})`);
    const expected = elasticMqConfig({ port: 9324, bindHost: '0.0.0.0', queues: configuredQueueNames(DEFAULTS.sqs), region: DEFAULTS.sqs.region });
    assert.equal(readFileSync(source!, 'utf8'), expected, 'docker/elasticmq.conf differs from elasticMqConfig(); regenerate it');
  });

  test("the workers' environment agrees with the configuration defaults", () => {
    const { services } = resolvedCompose();
    const worker = services.worker;
    assert.ok(worker?.build, 'a worker service built from this repository');
    assert.equal(worker.deploy?.replicas, 2);
    const env = Object.fromEntries(Object.entries(worker.environment ?? {}).map(([key, value]) => [key, value ?? '']));
    const config = loadConfig(env);
    assert.deepEqual(configuredQueueNames(config.sqs), configuredQueueNames(DEFAULTS.sqs));
    assert.equal(config.sqs.region, DEFAULTS.sqs.region);
    assert.equal(config.temporal.taskQueue, DEFAULTS.temporal.taskQueue);
    assert.equal(config.temporal.namespace, services['temporal-setup']?.environment?.TEMPORAL_NAMESPACE);
    assert.equal(config.sqs.endpoint, 'http://elasticmq:9324');
    assert.equal(config.temporal.address, 'temporal:7233');
  });

  test('images are the pinned ones', () => {
    const { services } = resolvedCompose();
    assert.equal(services.postgresql?.image, COMPOSE_IMAGES.postgres);
    assert.equal(services.temporal?.image, COMPOSE_IMAGES.temporalServer);
    assert.equal(services['temporal-schema']?.image, COMPOSE_IMAGES.temporalAdminTools);
    assert.equal(services['temporal-setup']?.image, COMPOSE_IMAGES.temporalAdminTools);
    assert.equal(services['temporal-ui']?.image, COMPOSE_IMAGES.temporalUi);
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, new RegExp(`^FROM ${COMPOSE_IMAGES.node.replace(/[.]/g, '\\.')}$`, 'm'));
  });

  test('compose registers exactly the search attributes the workflows use', () => {
    const script = readFileSync(join(ROOT, 'docker', 'temporal', 'setup-namespace.sh'), 'utf8');
    const registered = [...script.matchAll(/^create_attribute (\w+) (\w+)$/gm)].map(([, name, type]) => `${name}=${type}`).sort();
    const expected = NOTIFICATION_SEARCH_ATTRIBUTES.map(({ name, type }) => `${name}=${TypedSearchAttributes.toMetadataType(type)}`).sort();
    assert.deepEqual(registered, expected);
  });
});
