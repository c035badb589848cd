import type { Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ConfigError } from '../config';
import type { ReportRange } from '../report/reportRange';
import type { WrittenReport } from '../report/writeReport';

export interface ReportDeps {
  /** Writes the report of a range with the worker's client (where, and signed with what, is the worker's configuration); absent: this worker writes no reports. */
  reportWriterFor?: (client: Client) => (range: ReportRange) => Promise<WrittenReport>;
}

export function createReportActivities(deps: ReportDeps) {
  return {
    async writeComplianceReportFiles(range: ReportRange): Promise<WrittenReport> {
      if (!deps.reportWriterFor) throw new ConfigError('this worker was built without a report writer');
      return deps.reportWriterFor(Context.current().client)(range);
    },
  };
}
