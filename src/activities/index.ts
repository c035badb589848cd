import { createDeliveryActivities, type DeliveryDeps } from './delivery';
import { createLegacyQueueActivities, type LegacyQueueDeps } from './legacyQueue';

export type ActivityDeps = DeliveryDeps & LegacyQueueDeps;

/**
 * Builds every activity the worker runs from its dependencies, so that tests can pass an
 * SQS client pointed at ElasticMQ (or a fake) without touching module state.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDeliveryActivities(deps),
    ...createLegacyQueueActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DeliveryRequest, DeliveryResult } from './delivery';
export type { DrainOptions, NotificationScheduler } from './legacyQueue';
