/**
 * Prometheus and promtool: promtool tests the alert rules (deploy/prometheus), a Prometheus server
 * scrapes the worker and the Temporal server during `npm run bench -- --watch`.
 *
 * Order: both on PATH; the cache; Debian's `prometheus` package (`apt-get download`, then
 * `dpkg -x`: the two binaries without installing the package or its service; apt's package lists
 * must be there, which `.ci/run` sees to); `go install` of both from the Go module proxy (minutes).
 */
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { stackCacheDir } from './cacheDir';
import { findOnPath, isExecutable, runCommand, ToolchainMissingError } from './commands';
import { goInstall, installAtomically } from './installers';
import { stderrLog, timedStep } from './progress';
import type { ProvisionOptions } from './provisionTypes';
import { VERSIONS } from './versions';

export interface ProvisionedPrometheus {
  prometheus: string;
  promtool: string;
  /** Where they came from: "PATH", "cache (Debian prometheus 2.42.0+ds-…)", … */
  source: string;
}

export function prometheusCachePaths(cacheDir: string) {
  const debianDir = join(cacheDir, `prometheus-debian-${VERSIONS.prometheusDebian}`);
  const goDir = join(cacheDir, `prometheus-go-${VERSIONS.prometheusGo.replace(/^v/, '')}`);
  return {
    debianDir,
    debian: { prometheus: join(debianDir, 'bin', 'prometheus'), promtool: join(debianDir, 'bin', 'promtool') },
    goDir,
    go: { prometheus: join(goDir, 'prometheus'), promtool: join(goDir, 'promtool') },
  };
}

/** Debian's package for this release, unpacked into `dir/bin`; fails unless its version is of the pinned line. */
async function fromDebianPackage(dir: string): Promise<void> {
  const aptGet = findOnPath('apt-get');
  const dpkg = findOnPath('dpkg');
  if (!aptGet || !dpkg) throw new ToolchainMissingError('apt-get and dpkg', "fetch Debian's prometheus package");
  const scratch = await mkdtemp(join(tmpdir(), 'kst-prometheus-deb-'));
  try {
    await runCommand(aptGet, ['download', 'prometheus'], { cwd: scratch });
    const deb = (await readdir(scratch)).find((name) => name.startsWith('prometheus_') && name.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download prometheus left no .deb');
    const version = decodeURIComponent(deb.split('_')[1] ?? '');
    if (!version.startsWith(`${VERSIONS.prometheusDebian}.`)) throw new Error(`Debian's prometheus is ${version}, not of the pinned ${VERSIONS.prometheusDebian} line`);
    await runCommand(dpkg, ['-x', join(scratch, deb), join(scratch, 'root')]);
    await mkdir(join(dir, 'bin'), { recursive: true });
    for (const binary of ['prometheus', 'promtool']) await copyFile(join(scratch, 'root', 'usr', 'bin', binary), join(dir, 'bin', binary));
    await runCommand('chmod', ['755', join(dir, 'bin', 'prometheus'), join(dir, 'bin', 'promtool')]);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function provisionPrometheus(options: ProvisionOptions = {}): Promise<ProvisionedPrometheus> {
  const localStack = options.localStack ?? loadConfig().localStack;
  const log = options.log ?? stderrLog;
  const onPath = { prometheus: findOnPath('prometheus'), promtool: findOnPath('promtool') };
  if (onPath.prometheus && onPath.promtool) return { prometheus: onPath.prometheus, promtool: onPath.promtool, source: 'PATH' };

  const paths = prometheusCachePaths(stackCacheDir(localStack.cacheDir));
  const debianSource = `cache (Debian prometheus ${VERSIONS.prometheusDebian})`;
  const goSource = `cache (go install prometheus ${VERSIONS.prometheusGo})`;
  if (isExecutable(paths.debian.prometheus) && isExecutable(paths.debian.promtool)) return { ...paths.debian, source: debianSource };
  if (isExecutable(paths.go.prometheus) && isExecutable(paths.go.promtool)) return { ...paths.go, source: goSource };

  const failures: string[] = [];
  try {
    await timedStep(log, `provisioning Prometheus ${VERSIONS.prometheusDebian} from Debian's package (apt-get download, dpkg -x) into ${paths.debianDir}`, () =>
      installAtomically(paths.debianDir, fromDebianPackage),
    );
    return { ...paths.debian, source: debianSource };
  } catch (error) {
    failures.push(`Debian package: ${(error as Error).message}`);
  }
  try {
    await timedStep(log, `provisioning Prometheus ${VERSIONS.prometheusGo} with go install (takes minutes)`, () =>
      installAtomically(paths.goDir, (dir) =>
        goInstall(['github.com/prometheus/prometheus/cmd/prometheus', 'github.com/prometheus/prometheus/cmd/promtool'], VERSIONS.prometheusGo, dir),
      ),
    );
    return { ...paths.go, source: goSource };
  } catch (error) {
    failures.push(`go install: ${(error as Error).message}`);
  }
  throw new Error(`could not provision Prometheus and promtool:\n  ${failures.join('\n  ')}`);
}
