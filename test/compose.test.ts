/**
 * docker-compose.yml is valid and agrees with the code: the ElasticMQ queue file is what
 * src/stack/elasticMqConfig.ts generates, the workers' queue names and region are the
 * configuration's defaults, the images are the pinned ones, the search attributes that
 * compose registers are the ones the workflows use, and its Temporal server runs like
 * `npm run cluster`'s (the same configuration file, dynamic configuration, schema script,
 * shard count and variables). No Docker engine is needed: only `docker-compose config`.
 * Without docker-compose the test fails (it must not pass unchecked).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { TypedSearchAttributes } from '@temporalio/common';
import { loadConfig } from '../src/config';
import { NOTIFICATION_SEARCH_ATTRIBUTES } from '../src/searchAttributes';
import { findOnPath } from '../src/stack/commands';
import { configuredQueueNames, elasticMqConfig } from '../src/stack/elasticMqConfig';
import { CLUSTER_FILES } from '../src/stack/cluster/files';
import { POSTGRES_PASSWORD, POSTGRES_USER } from '../src/stack/cluster/postgres';
import { DEFAULT_CLUSTER_SHARDS } from '../src/stack/cluster/startCluster';
import { temporalServerEnvironment } from '../src/stack/cluster/temporalServer';
import { COMPOSE_IMAGES } from '../src/stack/versions';
import { webUiCodecVariables } from '../src/stack/cluster/webUi';
import { COMPILED_WORKER_MAIN } from '../src/stack/workerBuild';

const ROOT = join(__dirname, '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const DEFAULTS = loadConfig({});
/** `npm run codec-server`'s entry point, and where `npm run build` (tsconfig.build.json: src → dist) compiles it. */
const SOURCE_CODEC_SERVER_MAIN = join(ROOT, 'src', 'security', 'codecServerMain.ts');
const COMPILED_CODEC_SERVER_MAIN = join(ROOT, 'dist', 'security', 'codecServerMain.js');

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | null>;
  volumes?: (string | { source: string; target: string })[];
  ports?: ({ published: number | string; target: number } | string)[];
  deploy?: { replicas?: number };
  entrypoint?: string[];
  command?: string[];
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

function readResolvedCompose(env: NodeJS.ProcessEnv = process.env): { services: Record<string, ComposeService> } {
  const compose = dockerCompose();
  const shebang = readFileSync(compose, 'utf8').split('\n', 1)[0] ?? '';
  const yaml = execFileSync(compose, ['-f', COMPOSE_FILE, 'config'], { cwd: ROOT, encoding: 'utf8', env });
  if (shebang.startsWith('#!') && shebang.includes('python')) {
    const python = shebang.slice(2).trim().split(/\s+/)[0]!;
    const json = execFileSync(python, ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: yaml, encoding: 'utf8' });
    return JSON.parse(json);
  }
  // Compose v2 (a Go binary) prints JSON itself.
  return JSON.parse(execFileSync(compose, ['-f', COMPOSE_FILE, 'config', '--format', 'json'], { cwd: ROOT, encoding: 'utf8', env }));
}

/** A service's environment as the configuration reads it (a bare `VAR:` is empty). */
const envOf = (service: ComposeService): Record<string, string> =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([key, value]) => [key, value ?? '']));

/** A service's published ports as { host address, host port, container port }, whichever form compose printed them in. */
function publishedPorts(service: ComposeService): { hostIp: string; published: string; target: string }[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port !== 'string') return { hostIp: (port as { host_ip?: string }).host_ip ?? '', published: String(port.published), target: String(port.target) };
    const parts = port.replace(/\/(tcp|udp)$/, '').split(':');
    const [target, published, hostIp] = [parts.pop()!, parts.pop() ?? '', parts.join(':')];
    return { hostIp, published, target };
  });
}

/** A service's published ports as `host:container`. */
const portsOf = (service: ComposeService): string[] => publishedPorts(service).map(({ published, target }) => `${published}:${target}`);

function mountSource(service: ComposeService, target: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    if (typeof volume === 'string') {
      const [source, mountTarget] = volume.split(':');
      if (mountTarget === target) return source;
    } else if (volume.target === target) return volume.source;
  }
  return undefined;
}

/** The host file behind a path inside the container, through whichever mount contains it. */
function hostPathOf(service: ComposeService, containerPath: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    const [source, target] = typeof volume === 'string' ? volume.split(':') : [volume.source, volume.target];
    if (source && target && containerPath.startsWith(`${target}/`)) return join(source, containerPath.slice(target.length + 1));
  }
  return undefined;
}

/** The variables docker/temporal/config.yaml reads (`env "NAME"`). */
function templateVariables(): Set<string> {
  const template = readFileSync(CLUSTER_FILES.serverConfig, 'utf8');
  return new Set([...template.matchAll(/env "([A-Z0-9_]+)"/g)].map(([, name]) => name!));
}

/** Read by the server's command line (TEMPORAL_SERVER_CONFIG_FILE_PATH, TEMPORAL_ALLOW_NO_AUTH) or the image's entrypoint (BIND_ON_IP). */
const READ_OUTSIDE_THE_TEMPLATE = new Set(['TEMPORAL_SERVER_CONFIG_FILE_PATH', 'TEMPORAL_ALLOW_NO_AUTH', 'BIND_ON_IP']);

/** The cluster's server variables for a sample cluster (the ports do not matter here). */
function clusterServerVariables(): Record<string, string> {
  const port = 10_000;
  return temporalServerEnvironment({
    postgres: { host: '127.0.0.1', port: 5432, user: POSTGRES_USER, password: POSTGRES_PASSWORD },
    shards: DEFAULT_CLUSTER_SHARDS,
    ports: {
      frontendGrpc: port, frontendHttp: port + 1, frontendMembership: port + 2, historyGrpc: port + 3, historyMembership: port + 4,
      matchingGrpc: port + 5, matchingMembership: port + 6, workerGrpc: port + 7, workerMembership: port + 8, metrics: port + 9,
    },
  });
}

describe('docker-compose.yml', () => {
  test('is valid for docker-compose (config -q)', () => {
    execFileSync(dockerCompose(), ['-f', COMPOSE_FILE, 'config', '-q'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  });

  test('every published port listens on loopback only, unless NOTIFY_PUBLISH_ADDRESS asks for another address', () => {
    // The Temporal frontend has no authentication, ElasticMQ none either: not on every interface by default.
    const published = Object.entries(resolvedCompose().services).flatMap(([name, service]) => publishedPorts(service).map((port) => ({ name, ...port })));
    assert.ok(published.length >= 4, `expected the frontend, the UI, ElasticMQ and the codec server published, got ${published.map((port) => port.name).join(', ')}`);
    for (const port of published) assert.equal(port.hostIp, '127.0.0.1', `${port.name} publishes ${port.published} on "${port.hostIp || 'every interface'}"`);
    const everywhere = readResolvedCompose({ ...process.env, NOTIFY_PUBLISH_ADDRESS: '0.0.0.0' });
    for (const [name, service] of Object.entries(everywhere.services)) {
      for (const port of publishedPorts(service)) assert.equal(port.hostIp, '0.0.0.0', `${name} with NOTIFY_PUBLISH_ADDRESS=0.0.0.0`);
    }
  });

  test('a browser on another machine decodes payloads when NOTIFY_PUBLIC_HOST names this one', () => {
    const remote = readResolvedCompose({ ...process.env, NOTIFY_PUBLISH_ADDRESS: '0.0.0.0', NOTIFY_PUBLIC_HOST: 'notify.internal' });
    assert.equal(envOf(remote.services['temporal-ui']!).TEMPORAL_CODEC_ENDPOINT, 'http://notify.internal:8081');
    const origins = envOf(remote.services['codec-server']!).NOTIFY_CODEC_SERVER_ORIGINS!.split(',');
    assert.ok(origins.includes('http://notify.internal:8233'), `the codec server accepts the UI's origin (got ${origins.join(', ')})`);
    const local = resolvedCompose();
    assert.equal(envOf(local.services['temporal-ui']!).TEMPORAL_CODEC_ENDPOINT, 'http://localhost:8081');
  });

  test('ElasticMQ gets the queue file that the local stack generates', () => {
    const { services } = resolvedCompose();
    const elasticmq = services.elasticmq;
    assert.ok(elasticmq, 'an elasticmq service');
    assert.equal(elasticmq.image, COMPOSE_IMAGES.elasticMq);
    const source = mountSource(elasticmq, '/opt/elasticmq.conf');
    assert.equal(source, join(ROOT, 'docker', 'elasticmq.conf'));
    const published = portsOf(elasticmq);
    assert.ok(published.includes('9324:9324'), `ElasticMQ published on 9324 (got ${published.join(', ')})`);
    const expected = elasticMqConfig({ port: 9324, bindHost: '0.0.0.0', queues: configuredQueueNames(DEFAULTS.sqs), region: DEFAULTS.sqs.region });
    assert.equal(readFileSync(source!, 'utf8'), expected, 'docker/elasticmq.conf differs from elasticMqConfig(); regenerate it');
  });

  test("the workers' environment agrees with the configuration defaults", () => {
    const { services } = resolvedCompose();
    const worker = services.worker;
    assert.ok(worker?.build, 'a worker service built from this repository');
    assert.equal(worker.deploy?.replicas, 2);
    const env = envOf(worker);
    const config = loadConfig(env);
    assert.deepEqual(configuredQueueNames(config.sqs), configuredQueueNames(DEFAULTS.sqs));
    assert.equal(config.sqs.region, DEFAULTS.sqs.region);
    assert.equal(config.temporal.taskQueue, DEFAULTS.temporal.taskQueue);
    assert.equal(config.temporal.namespace, services['temporal-setup']?.environment?.TEMPORAL_NAMESPACE);
    assert.equal(config.sqs.endpoint, 'http://elasticmq:9324');
    assert.equal(config.temporal.address, 'temporal:7233');
  });

  test('the codec server runs from the same build with the workers\' keys, reachable from the host, and the UI uses it', () => {
    const { services } = resolvedCompose();
    const codecServer = services['codec-server'];
    assert.ok(codecServer?.build, 'a codec-server service built from this repository');
    assert.ok(existsSync(SOURCE_CODEC_SERVER_MAIN));
    assert.deepEqual(codecServer.command, ['node', relative(ROOT, COMPILED_CODEC_SERVER_MAIN)]);
    const env = envOf(codecServer);
    const workerEnv = envOf(services.worker!);
    for (const name of ['NOTIFY_CODEC_KEYS', 'NOTIFY_CODEC_KEY_ID']) assert.equal(env[name], workerEnv[name], `${name} as the workers have it`);
    const config = loadConfig(env);
    assert.ok(config.codec.server.token, 'a token, or the server would not start');
    // Inside a container, loopback would be unreachable through the published port.
    assert.equal(config.codec.server.host, '0.0.0.0');
    assert.equal(config.temporal.namespace, services['temporal-setup']?.environment?.TEMPORAL_NAMESPACE);
    const codecPort = config.codec.server.port;
    assert.ok(portsOf(codecServer).includes(`${codecPort}:${codecPort}`), `published on ${codecPort}`);
    // The UI's pages, as the browser sees them, may call it, and the UI is pointed at it as npm run cluster points its own.
    const ui = services['temporal-ui']!;
    const uiHostPort = portsOf(ui).map((port) => port.split(':')[0]).find(Boolean);
    assert.ok(config.codec.server.allowedOrigins.includes(`http://localhost:${uiHostPort}`), 'the UI origin is allowed');
    const uiEnv = envOf(ui);
    for (const [name, value] of Object.entries(webUiCodecVariables(`http://localhost:${codecPort}`))) assert.equal(uiEnv[name], value, name);
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
    // The image runs the compiled worker that `npm run build` writes, as the cluster does.
    assert.match(dockerfile, /^RUN npm run build$/m);
    assert.match(dockerfile, new RegExp(`^CMD \\["node", "${relative(ROOT, COMPILED_WORKER_MAIN)}"\\]$`, 'm'));
  });

  test('the Temporal server reads the configuration, dynamic configuration and variables that npm run cluster gives its own', () => {
    const { services } = resolvedCompose();
    const temporal = services.temporal;
    assert.ok(temporal, 'a temporal service');
    const env = envOf(temporal);
    assert.equal(hostPathOf(temporal, env.TEMPORAL_SERVER_CONFIG_FILE_PATH ?? ''), CLUSTER_FILES.serverConfig, 'the server configuration file');
    assert.equal(hostPathOf(temporal, env.DYNAMIC_CONFIG_FILE_PATH ?? ''), CLUSTER_FILES.dynamicConfig, 'the dynamic configuration file');

    const cluster = clusterServerVariables();
    const readByServer = new Set([...templateVariables(), ...READ_OUTSIDE_THE_TEMPLATE]);
    // Neither side sets a variable the server does not read (a typo would silently fall back to a default).
    assert.deepEqual(Object.keys(env).filter((name) => !readByServer.has(name)), [], 'compose sets variables the server does not read');
    assert.deepEqual(Object.keys(cluster).filter((name) => !readByServer.has(name)), [], 'the cluster sets variables the server does not read');
    // Both set everything but addresses, ports and log level, to the same values where they are not host-specific.
    const hostSpecific = /(_PORT|_SEEDS|_ADDRESS|_ENDPOINT|^BIND_ON_IP|^LOG_LEVEL|_FILE_PATH)$/;
    const shared = (variables: Record<string, string>) => Object.keys(variables).filter((name) => !hostSpecific.test(name)).sort();
    assert.deepEqual(shared(env), shared(cluster), 'compose and the cluster set different server variables');
    for (const name of shared(cluster)) assert.equal(env[name], cluster[name], `${name} differs between compose and the cluster`);
    assert.equal(env.NUM_HISTORY_SHARDS, String(DEFAULT_CLUSTER_SHARDS));
    assert.ok(env.DB_PORT && env.POSTGRES_SEEDS && env.PROMETHEUS_ENDPOINT, 'compose names the database and the metrics endpoint');
  });

  test('the schemas are set up by the script npm run cluster runs', () => {
    const { services } = resolvedCompose();
    const schema = services['temporal-schema'];
    assert.ok(schema, 'a temporal-schema service');
    const script = (schema.entrypoint ?? []).find((part) => part.endsWith('.sh'));
    assert.equal(hostPathOf(schema, script ?? ''), CLUSTER_FILES.schemaScript);
    const env = envOf(schema);
    const used = new Set([...readFileSync(CLUSTER_FILES.schemaScript, 'utf8').matchAll(/\$\{([A-Z0-9_]+)/g)].map(([, name]) => name!));
    assert.deepEqual(['POSTGRES_SEEDS', 'DB_PORT', 'POSTGRES_USER', 'POSTGRES_PWD'].filter((name) => !used.has(name) || !env[name]), []);
  });

  test('compose registers exactly the search attributes the workflows use', () => {
    const script = readFileSync(join(ROOT, 'docker', 'temporal', 'setup-namespace.sh'), 'utf8');
    const registered = [...script.matchAll(/^create_attribute (\w+) (\w+)$/gm)].map(([, name, type]) => `${name}=${type}`).sort();
    const expected = NOTIFICATION_SEARCH_ATTRIBUTES.map(({ name, type }) => `${name}=${TypedSearchAttributes.toMetadataType(type)}`).sort();
    assert.deepEqual(registered, expected);
  });
});
