import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A toolchain that provisioning needs is not installed; the message names it and what it was for. */
export class ToolchainMissingError extends Error {
  override readonly name = 'ToolchainMissingError';
  constructor(
    readonly tool: string,
    purpose: string,
  ) {
    super(`${tool} is not installed (or not on PATH); it is needed to ${purpose}`);
  }
}

export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
}

/** The full path of an executable on PATH, or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs a command to completion and returns its output; on a non-zero exit the error carries the
 * last lines of the output, which is where pip, go and mvn say what went wrong.
 */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => reject(new CommandFailedError(`cannot run ${command}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolvePromise({ stdout, stderr });
      const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-25).join('\n');
      reject(new CommandFailedError(`${command} ${args.join(' ')} exited with ${signal ?? code}:\n${tail}`));
    });
  });
}

/** True when `command args` runs and exits 0 (used to probe `python3 -m pip --version`). */
export async function commandWorks(command: string, args: string[]): Promise<boolean> {
  try {
    await runCommand(command, args);
    return true;
  } catch {
    return false;
  }
}
