/**
 * The Temporal SDK starts its servers as children of this process and kills them on teardown,
 * but a process that dies without tearing down (SIGKILL, a native crash in a test) leaves them
 * running, holding ports and memory for the next run. A guard finds the server among our
 * children and hands its pid to a tiny detached shell that holds a pipe from us: a line on the
 * pipe (normal teardown) lets it exit quietly; the pipe closing without one (we died) makes it
 * kill the server. Linux only (it reads /proc); elsewhere it does nothing.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface OrphanGuard {
  /** Call after a successful teardown: the server is gone, so the watchdog must not fire. */
  release(): void;
}

const guarded = new Set<number>();

function childrenOf(parent: number): { pid: number; argv0: string }[] {
  const found: { pid: number; argv0: string }[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may contain spaces, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      const argv0 = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0] ?? '';
      found.push({ pid: Number(entry), argv0 });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Guards the newest unguarded child whose program is `executablePath` (or, for the SDK's own
 * download, whose name starts with "temporal").
 */
export function guardServerProcess(executablePath: string | undefined): OrphanGuard {
  const matches = childrenOf(process.pid).filter(({ pid, argv0 }) =>
    !guarded.has(pid) && (executablePath ? argv0 === executablePath : basename(argv0).startsWith('temporal')),
  );
  const server = matches.sort((a, b) => b.pid - a.pid)[0];
  if (!server) return { release: () => {} };
  guarded.add(server.pid);
  const watchdog = spawn('/bin/sh', ['-c', 'read -r _done || kill -KILL "$0" 2>/dev/null', String(server.pid)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.unref();
  watchdog.stdin!.on('error', () => {});
  // Unref'd so that the pipe does not keep the event loop (and so a test run) alive.
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
  return {
    release() {
      guarded.delete(server.pid);
      watchdog.stdin!.end('done\n');
    },
  };
}
