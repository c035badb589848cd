/**
 * The golden histories: recorded by test/histories/record.ts (`npm run histories:record`), replayed
 * by test/histories.replay.test.ts. index.json names each file, the workflow it came from and the
 * state it stands for; the files are histories as `temporal workflow show -o json` prints them, with
 * payloads encrypted under the suite's keys (test/setup.mjs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromCliJson } from './historyJson';

export const HISTORIES_DIR = __dirname;

export interface RecordedHistory {
  /** Also the file's name without .json. */
  name: string;
  file: string;
  workflowId: string;
  /** The state a deploy would find the workflow in. */
  state: string;
}

export function recordedHistories(): RecordedHistory[] {
  return JSON.parse(readFileSync(join(HISTORIES_DIR, 'index.json'), 'utf8')) as RecordedHistory[];
}

/** The recorded history, as the SDK's History message (what Worker.runReplayHistories takes). */
export function recordedHistory(entry: RecordedHistory) {
  return historyFromCliJson(JSON.parse(readFileSync(join(HISTORIES_DIR, entry.file), 'utf8')));
}
