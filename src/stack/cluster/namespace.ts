/**
 * The namespace and this project's search attributes on a fresh (or existing) cluster, as
 * docker/temporal/setup-namespace.sh does for compose: created only where missing, then waited
 * for until the servers use them.
 *
 * Each service finds the attributes in its namespace cache, refreshed every 2 s, not re-read on
 * every lookup (docker/temporal/dynamicconfig/docker.yaml says why). So after adding attributes
 * this waits until the frontend answers a visibility query on them, and then two refresh intervals
 * for the history service, which checks the attributes a workflow upserts.
 */
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { NOTIFICATION_SEARCH_ATTRIBUTES } from '../../searchAttributes';
import { INDEXED_VALUE_TYPE } from '../temporalServers';

/** How long closed workflows stay visible; compose registers the namespace with the same. */
export const NAMESPACE_RETENTION_DAYS = 7;

const ALREADY_EXISTS = 6; // gRPC status code
/** Twice `system.namespaceCacheRefreshInterval` (2 s, the server's default, which docker.yaml keeps). */
const NAMESPACE_CACHE_CATCH_UP_MS = 4_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type AddSearchAttributesRequest = Parameters<Connection['operatorService']['addSearchAttributes']>[0];

async function retrying<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'not ready';
  for (;;) {
    try {
      const result = await attempt();
      if (result !== undefined) return result;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms: ${lastError}`);
    await sleep(500);
  }
}

/** Creates what is missing and resolves once workflows can be listed in the namespace with every attribute. */
export async function ensureNamespace(address: string, namespace: string, timeoutMs = 120_000): Promise<'created' | 'existed'> {
  const connection = await Connection.connect({ address });
  try {
    let created = false;
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(`${NAMESPACE_RETENTION_DAYS} days`),
      });
      created = true;
    } catch (error) {
      if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
    }
    await retrying(`namespace ${namespace} was not served`, timeoutMs, async () =>
      (await connection.workflowService.describeNamespace({ namespace })).namespaceInfo ? true : undefined,
    );

    const wanted = Object.fromEntries(NOTIFICATION_SEARCH_ATTRIBUTES.map(({ name, type }) => [name, INDEXED_VALUE_TYPE[type]]));
    const missing = async () => {
      const { customAttributes = {} } = await connection.operatorService.listSearchAttributes({ namespace });
      return Object.keys(wanted).filter((name) => !(name in customAttributes));
    };
    const toAdd = await missing();
    if (toAdd.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(toAdd.map((name) => [name, wanted[name]])),
      } as AddSearchAttributesRequest);
      created = true;
    }
    await retrying(`search attributes of ${namespace} were not registered`, timeoutMs, async () => ((await missing()).length === 0 ? true : undefined));
    // Visibility queries on them work once the frontend's namespace cache has caught up. They were
    // added in one namespace update, so the cache that knows one knows them all.
    const client = new Client({ connection, namespace });
    await retrying(`namespace ${namespace} did not answer a visibility query`, timeoutMs, async () => {
      await client.workflow.count(`NotificationStatus = 'held'`);
      return true;
    });
    if (toAdd.length > 0) await sleep(NAMESPACE_CACHE_CATCH_UP_MS); // the history service's cache, which no query shows
    return created ? 'created' : 'existed';
  } finally {
    await connection.close();
  }
}
