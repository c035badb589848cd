import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The per-user cache that provisioned binaries and jars live in, outside the repository so that
 * every clone (and `git clean`) shares one copy: $NOTIFY_CACHE_DIR (config.localStack.cacheDir),
 * else $XDG_CACHE_HOME/kst-notification-scheduler, else ~/.cache/kst-notification-scheduler.
 * Each tool gets a sub-directory named by its version, so a version bump never reuses an old copy.
 */
export function stackCacheDir(configured?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (configured) return resolve(configured);
  if (env.NOTIFY_CACHE_DIR) return resolve(env.NOTIFY_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(base, 'kst-notification-scheduler');
}
