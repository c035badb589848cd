/**
 * Progress lines for slow steps, so that a first `npm start` that spends a minute downloading
 * does not look hung: one line when the step starts, one every 15 s while it runs, and one with
 * its duration at the end.
 */
export type Log = (line: string) => void;

/** Progress goes to stderr so that stdout stays usable for machine-readable output. */
export const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

export async function timedStep<T>(log: Log, what: string, step: () => Promise<T>, everyMs = 15_000): Promise<T> {
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  log(`${what}…`);
  const ticker = setInterval(() => log(`  … still ${what} (${seconds()}s)`), everyMs);
  try {
    const result = await step();
    log(`${what}… done in ${seconds()}s`);
    return result;
  } catch (error) {
    log(`${what}… failed after ${seconds()}s`);
    throw error;
  } finally {
    clearInterval(ticker);
  }
}
