/**
 * The operator's command line: `npm run cli -- <command> [args]`, `npm run cli -- help`.
 * Commands live in src/cli/commands/, one CliCommand export each (see src/cli/command.ts).
 */
import { distance } from 'fastest-levenshtein';
import { environmentWithRunningStack } from '../stack/runningStack';
import { UsageError, type CliCommand, type CliIo } from './command';
import { loadCommands, type CommandRegistry } from './registry';

const PROGRAM = 'npm run cli --';

function helpText(registry: CommandRegistry): string {
  const width = Math.max(4, ...[...registry.commands.keys()].map((name) => name.length));
  const lines = [
    `usage: ${PROGRAM} <command> [arguments]`,
    '',
    'commands:',
    ...[...registry.commands.values()].map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    `  ${'help'.padEnd(width)}  list the commands, or show one command's usage: help <command>`,
  ];
  if (registry.failures.length > 0) {
    lines.push('', 'command files that failed to load:');
    for (const failure of registry.failures) lines.push(`  ${failure.file}: ${failure.error}`);
  }
  return `${lines.join('\n')}\n`;
}

function usageOf(command: CliCommand): string {
  return `usage: ${PROGRAM} ${command.usage}\n`;
}

/**
 * The commands a mistyped name most likely stands for: those it begins (at most three), else the
 * nearest by edits, if a few edits away (two, more for long names, never half the word).
 */
export function nearestCommands(name: string, names: readonly string[]): string[] {
  const typed = name.toLowerCase();
  const starting = names.filter((candidate) => typed.length >= 2 && candidate.startsWith(typed));
  if (starting.length > 0 && starting.length <= 3) return starting;
  const allowed = Math.min(Math.max(2, Math.floor(typed.length / 3)), Math.floor(typed.length / 2));
  const ranked = names.map((candidate) => ({ candidate, edits: distance(typed, candidate) })).filter(({ edits }) => edits <= allowed);
  const fewest = Math.min(...ranked.map(({ edits }) => edits));
  return ranked.filter(({ edits }) => edits === fewest).slice(0, 3).map(({ candidate }) => candidate);
}

function unknownCommand(name: string, registry: CommandRegistry): string {
  const suggestions = nearestCommands(name, [...registry.commands.keys(), 'help']).map((candidate) => JSON.stringify(candidate));
  if (suggestions.length > 0) {
    const options = suggestions.length === 1 ? suggestions[0] : `${suggestions.slice(0, -1).join(', ')} or ${suggestions.at(-1)}`;
    return `unknown command ${JSON.stringify(name)}: did you mean ${options}? (\`${PROGRAM} help\` lists every command)\n`;
  }
  return `unknown command ${JSON.stringify(name)}\n\n${helpText(registry)}`;
}

/** Node's parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or malformed options. */
function isArgumentError(error: unknown): error is Error {
  if (error instanceof UsageError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

export async function main(argv: string[], io: CliIo, registry: CommandRegistry = loadCommands()): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.stderr.write(helpText(registry));
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = args[0];
    if (topic === undefined) {
      io.stdout.write(helpText(registry));
      return 0;
    }
    const command = registry.commands.get(topic);
    if (!command) {
      io.stderr.write(unknownCommand(topic, registry));
      return 2;
    }
    io.stdout.write(`${command.summary}\n${usageOf(command)}`);
    return 0;
  }
  const command = registry.commands.get(name);
  if (!command) {
    io.stderr.write(unknownCommand(name, registry));
    return 2;
  }
  const optionsEnd = args.indexOf('--');
  const options = optionsEnd === -1 ? args : args.slice(0, optionsEnd);
  if (options.includes('--help') || options.includes('-h')) {
    io.stdout.write(`${command.summary}\n${usageOf(command)}`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (isArgumentError(error)) {
      io.stderr.write(`${command.name}: ${error.message}\n${usageOf(command)}`);
      return 2;
    }
    io.stderr.write(`${command.name} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  // `npm start` or `npm run cluster` in another shell: talk to it without exports (set variables win).
  const discovered = environmentWithRunningStack(process.env);
  if (discovered.stack && discovered.applied.length > 0) {
    const { stack } = discovered;
    const { env } = discovered;
    process.stderr.write(
      `using the running ${stack.kind === 'cluster' ? 'cluster (npm run cluster)' : 'local stack (npm start)'} of pid ${stack.pid}: ` +
        `Temporal ${env.TEMPORAL_ADDRESS}, SQS ${env.AWS_ENDPOINT_URL_SQS ?? `AWS ${env.AWS_REGION ?? ''}`} (exported variables win)\n`,
    );
  }
  main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: discovered.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
