/**
 * Provisions every binary the local stack runs, each at most once per version per user (see
 * cacheDir.ts). A second run finds everything in the cache and touches no network.
 */
import { provisionElasticMq, type ProvisionedElasticMq } from './provisionElasticMq';
import { provisionTemporalCli } from './provisionTemporalCli';
import { provisionTestServer } from './provisionTestServer';
import type { ProvisionedServer, ProvisionOptions } from './provisionTypes';

export { provisionElasticMq, provisionTemporalCli, provisionTestServer };
export type { ProvisionedElasticMq, ProvisionedServer, ProvisionOptions };
export type { ServerExecutable } from './provisionTypes';

export interface ProvisionedStack {
  temporalCli: ProvisionedServer;
  testServer: ProvisionedServer;
  elasticMq: ProvisionedElasticMq;
}

/** One after the other: they share 2 cores and the network, and the progress lines stay readable. */
export async function provisionAll(options: ProvisionOptions = {}): Promise<ProvisionedStack> {
  const temporalCli = await provisionTemporalCli(options);
  const testServer = await provisionTestServer(options);
  const elasticMq = await provisionElasticMq(options);
  return { temporalCli, testServer, elasticMq };
}
