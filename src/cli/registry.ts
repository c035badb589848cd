/**
 * The command registry: every CliCommand exported by a file in src/cli/commands/.
 * A file that fails to load (a half-written command, a missing dependency) does not take the
 * other commands down with it; `help` lists it and invoking it reports why.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isCliCommand, type CliCommand } from './command';

export interface CommandRegistry {
  /** By name, sorted. */
  commands: Map<string, CliCommand>;
  /** Files in the commands folder that could not be loaded, with the reason. */
  failures: { file: string; error: string }[];
}

export const COMMANDS_DIR = join(__dirname, 'commands');

const COMMAND_FILE = /^(?!index\.)[^.]+\.(ts|js)$/;

export function loadCommands(dir: string = COMMANDS_DIR): CommandRegistry {
  const found: CliCommand[] = [];
  const failures: CommandRegistry['failures'] = [];
  for (const file of readdirSync(dir).filter((name) => COMMAND_FILE.test(name)).sort()) {
    try {
      const exported: Record<string, unknown> = require(join(dir, file));
      for (const value of Object.values(exported)) if (isCliCommand(value)) found.push(value);
    } catch (error) {
      failures.push({ file, error: error instanceof Error ? error.message.split('\n')[0]! : String(error) });
    }
  }
  const commands = new Map<string, CliCommand>();
  for (const command of found.sort((a, b) => a.name.localeCompare(b.name))) {
    if (commands.has(command.name) && commands.get(command.name) !== command) {
      failures.push({ file: '(registry)', error: `two commands are named ${JSON.stringify(command.name)}` });
      continue;
    }
    commands.set(command.name, command);
  }
  return { commands, failures };
}
