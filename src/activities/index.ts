import { createDeliveryActivities, type DeliveryDeps } from './delivery';
import { createLegacyQueueActivities, type LegacyQueueDeps } from './legacyQueue';
import { createMorningActivities, type MorningDeps } from './morning';
import { createPolicyActivities, type PolicyDeps } from './policy';
import { createReportActivities, type ReportDeps } from './report';

export type ActivityDeps = DeliveryDeps & LegacyQueueDeps & PolicyDeps & MorningDeps & ReportDeps;

/**
 * Builds every activity the worker runs from its dependencies, so that tests can pass an
 * SQS client pointed at ElasticMQ (or a fake) without touching module state.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDeliveryActivities(deps),
    ...createLegacyQueueActivities(deps),
    ...createPolicyActivities(deps),
    ...createMorningActivities(deps),
    ...createReportActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DeliveryRequest, DeliveryResult } from './delivery';
export type { DrainOptions, LegacySource, NotificationScheduler } from './legacyQueue';
export type { MorningGateOperations } from './morning';
