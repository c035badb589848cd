/**
 * `npm run provision [-- --cluster]`: fetches whatever the local stack is missing into the
 * per-user cache (and Prometheus with promtool, for the alert rules and the bench) and prints where each piece is; with --cluster also the cluster's Temporal
 * server, SQL tool and Web UI (built with go install: minutes on a cold cache). CI runs it before
 * the tests so that their timings exclude downloads.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { stackCacheDir } from './cacheDir';
import { provisionAll } from './provision';
import { provisionPrometheus } from './provisionPrometheus';
import { provisionTemporalServer, provisionTemporalUi } from './provisionTemporalServer';
import type { ServerExecutable } from './provisionTypes';

function describe(executable: ServerExecutable): string {
  return executable.type === 'existing-path' ? executable.path : `(downloaded by the Temporal SDK into ${executable.downloadDir} on first use)`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { cluster: { type: 'boolean', default: false } } });
  const localStack = loadConfig().localStack;
  const started = Date.now();
  const stack = await provisionAll({ localStack });
  console.log(`cache:               ${stackCacheDir(localStack.cacheDir)}`);
  console.log(`temporal CLI:        ${describe(stack.temporalCli.executable)}  [${stack.temporalCli.source}]`);
  console.log(`temporal test server: ${describe(stack.testServer.executable)}  [${stack.testServer.source}]`);
  console.log(`ElasticMQ jars:      ${stack.elasticMq.libDir}  [${stack.elasticMq.source}]`);
  // The alert rules' tests and the bench's picture of the morning need them; npm start does not.
  const prometheus = await provisionPrometheus({ localStack });
  console.log(`prometheus:          ${prometheus.prometheus}  [${prometheus.source}]`);
  console.log(`promtool:            ${prometheus.promtool}`);
  if (values.cluster) {
    const server = await provisionTemporalServer({ localStack });
    const ui = await provisionTemporalUi({ localStack });
    console.log(`temporal server:     ${server.serverBinary}  [${server.source}]`);
    console.log(`temporal SQL tool:   ${server.sqlToolBinary}`);
    console.log(`PostgreSQL schema:   ${server.postgresSchemaDir}`);
    console.log(`Web UI server:       ${ui.binary}  [${ui.source}]`);
  }
  console.log(`provisioned in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
