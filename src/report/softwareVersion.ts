/** The name and version of this software, from package.json, for the report's header. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function softwareVersion(): { name: string; version: string } {
  // The nearest package.json above this file: src/report from source, dist/src/report when built.
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string };
      return { name: pkg.name, version: pkg.version };
    }
    if (dirname(dir) === dir) return { name: 'kst-notification-scheduler', version: 'unknown' };
  }
}
