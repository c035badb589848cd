import { parseArgs } from 'node:util';
import { loadConfig } from '../../config';
import { InvalidReportRangeError, reportInterval } from '../../report/reportRange';
import { verifyReport } from '../../report/manifest';
import { reportSigningKey, writeComplianceReport } from '../../report/writeReport';
import { UsageError, writeLine, type CliCommand } from '../command';
import { assertStackFor } from '../localStack';
import { withClient } from '../withClient';

async function verify(args: string[], io: Parameters<CliCommand['run']>[1]): Promise<number> {
  if (args.length !== 1) throw new UsageError('report verify takes one directory');
  const config = loadConfig(io.env);
  const result = await verifyReport(args[0]!, reportSigningKey(config));
  const versions = result.versions.length > 1 ? `; versions v1–v${result.versions.at(-1)}, each naming the one before` : '';
  if (result.ok) {
    await writeLine(io.stdout, `${args[0]}: intact (${result.files} files match the signed manifest${versions})`);
    return 0;
  }
  await writeLine(io.stderr, `${args[0]}: NOT intact`);
  for (const problem of result.problems) await writeLine(io.stderr, `  ${problem}`);
  return 1;
}

export const reportCommand: CliCommand = {
  name: 'report',
  summary: 'write the compliance report of KST days (JSON, CSV, HTML with charts, signed; a new version beside any earlier one), or verify one',
  usage: 'report --date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD [--out DIR] [--json]\n       report verify DIR   (a version, OUT/<range>/v<N>, or a range, OUT/<range>: all its versions)',
  async run(args, io) {
    if (args[0] === 'verify') return verify(args.slice(1), io);
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { date: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(' ')}`);
    if (values.date && (values.from || values.to)) throw new UsageError('give --date, or --from and --to, not both');
    const fromDate = values.date ?? values.from;
    const toDate = values.date ?? values.to;
    if (!fromDate || !toDate) throw new UsageError('--date, or --from and --to, is required');
    try {
      reportInterval({ fromDate, toDate });
    } catch (error) {
      if (error instanceof InvalidReportRangeError) throw new UsageError(error.message);
      throw error;
    }
    const config = loadConfig(io.env);
    // "No local stack found" before "no signing key": the stack generates the key.
    assertStackFor(config);
    reportSigningKey(config);
    const written = await withClient(config, (client) =>
      writeComplianceReport({ client: client.temporal, config, ...(io.now ? { now: io.now } : {}) }, { fromDate, toDate }, values.out ?? config.report.dir),
    );
    if (values.json) await writeLine(io.stdout, JSON.stringify(written));
    else {
      await writeLine(io.stdout, `${written.passed ? 'PASS' : 'FAIL'}: ${written.verdict}`);
      await writeLine(io.stdout, `${written.notifications} notifications; report in ${written.dir} (${written.files.join(', ')})`);
      if (written.supersedes) await writeLine(io.stdout, `version ${written.version}: supersedes version ${written.supersedes}, which stays beside it (a sealed report is never replaced)`);
    }
    return written.passed ? 0 : 1;
  },
};
