import { createDeliveryActivities, type DeliveryDeps } from './delivery';

export type ActivityDeps = DeliveryDeps;

/**
 * Builds every activity the worker runs from its dependencies, so that tests can pass an
 * SQS client pointed at ElasticMQ (or a fake) without touching module state.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDeliveryActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DeliveryRequest } from './delivery';
