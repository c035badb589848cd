/**
 * `npm run test:model -- --runs N --seed S [--max-commands M]`: the model-based test of the morning
 * cap (test/morning.model.test.ts) with more sequences, or another seed. Prints the shrunk sequence
 * of a failure, and exits 1.
 */
import { parseArgs } from 'node:util';
import { startTimeSkippingEnv } from '../helpers/stack';
import { checkMorningModel, ModelHarness, profile } from './morningCommands';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '2000' }, seed: { type: 'string' }, 'max-commands': { type: 'string', default: '12' }, path: { type: 'string' } } });
const runs = Number(values.runs);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const maxCommands = Number(values['max-commands']);

async function main(): Promise<void> {
  const env = await startTimeSkippingEnv();
  const harness = new ModelHarness(env);
  const started = Date.now();
  try {
    await harness.startWorker();
    console.log(`model test: ${runs} sequences, seed ${seed}, at most ${maxCommands} commands each`);
    await checkMorningModel(harness, { runs, seed, maxCommands, ...(values.path ? { path: values.path } : {}) });
    console.log(`model test: ${runs} sequences passed in ${((Date.now() - started) / 1000).toFixed(0)} s (seed ${seed})`);
  } finally {
    for (const [label, { count, ms }] of [...profile].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${label.padEnd(18)} ${String(count).padStart(5)} × ${(ms / count).toFixed(0).padStart(5)} ms = ${(ms / 1000).toFixed(1)} s`);
    await harness.stop();
    await env.teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
