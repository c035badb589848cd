/**
 * The shape of one CLI command. Each file in src/cli/commands/ exports one or more of these; the
 * dispatcher (src/cli/main.ts) finds them there, so adding a command is adding a file.
 */
import { once } from 'node:events';

export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The environment for loadConfig(); process.env when absent (tests pass their own). */
  env?: NodeJS.ProcessEnv;
  /** The clock for "now" defaults; the system clock when absent (tests pass a fixed one). */
  now?: () => Date;
}

export interface CliCommand {
  /** What the operator types: `npm run cli -- <name> ...`. */
  name: string;
  /** One line for `help`. */
  summary: string;
  /** The arguments, e.g. `status <notificationId>`; printed by `help <name>` and on usage errors. */
  usage: string;
  /** Runs the command; resolves to the process exit code (0 ok, 1 failed, 2 usage error). */
  run(args: string[], io: CliIo): Promise<number>;
}

export function isCliCommand(value: unknown): value is CliCommand {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<CliCommand>;
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.summary === 'string' &&
    typeof candidate.usage === 'string' &&
    typeof candidate.run === 'function'
  );
}

/** A usage error: the dispatcher prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Writes one line, waiting for the stream to drain when its buffer is full (large outputs). */
export async function writeLine(stream: NodeJS.WritableStream, line: string): Promise<void> {
  if (!stream.write(`${line}\n`)) await once(stream, 'drain');
}
