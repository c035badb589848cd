/**
 * ElasticMQ, the SQS-compatible server: a thin jar on Maven Central, so its ~40 dependencies are
 * resolved once into the cache and run from there with `java -cp '<lib>/*'`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { stackCacheDir } from './cacheDir';
import { findOnPath, ToolchainMissingError } from './commands';
import { installAtomically, mavenCopyDependencies } from './installers';
import { stderrLog, timedStep } from './progress';
import type { ProvisionOptions } from './provisionTypes';
import { VERSIONS } from './versions';

export interface ProvisionedElasticMq {
  /** Directory of jars; the class path is `<libDir>/*`. */
  libDir: string;
  source: string;
}

export const ELASTICMQ_ARTIFACT = {
  groupId: 'org.elasticmq',
  artifactId: `elasticmq-server_${VERSIONS.elasticMqScala}`,
  version: VERSIONS.elasticMq,
};

export function elasticMqCachePaths(cacheDir: string) {
  const dir = join(cacheDir, `elasticmq-${VERSIONS.elasticMq}`);
  return { dir, libDir: join(dir, 'lib') };
}

async function hasJars(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((name) => name.startsWith('elasticmq-server') && name.endsWith('.jar'));
  } catch {
    return false;
  }
}

export async function provisionElasticMq(options: ProvisionOptions = {}): Promise<ProvisionedElasticMq> {
  const localStack = options.localStack ?? loadConfig().localStack;
  const log = options.log ?? stderrLog;
  const paths = elasticMqCachePaths(stackCacheDir(localStack.cacheDir));
  const source = `cache (Maven ${ELASTICMQ_ARTIFACT.artifactId} ${VERSIONS.elasticMq})`;
  if (await hasJars(paths.libDir)) return { libDir: paths.libDir, source };
  // Java runs it; checking now gives the clearer error before minutes of resolving.
  if (!findOnPath('java')) throw new ToolchainMissingError('java', 'run ElasticMQ (the local SQS)');
  await timedStep(log, `provisioning ElasticMQ ${VERSIONS.elasticMq} from Maven Central (${ELASTICMQ_ARTIFACT.groupId}:${ELASTICMQ_ARTIFACT.artifactId}) into ${paths.dir}`, () =>
    installAtomically(paths.dir, async (dir) => {
      await mavenCopyDependencies(ELASTICMQ_ARTIFACT, dir);
    }),
  );
  return { libDir: paths.libDir, source };
}
