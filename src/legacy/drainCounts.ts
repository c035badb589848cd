/** What one reconciliation did with the legacy messages it received. Pure: the workflow imports it. */
export interface DrainCounts {
  received: number;
  started: number;
  /** Foreign bodies started as legacy forwards. */
  forwarded: number;
  alreadyPresent: number;
  deadLettered: number;
}

export const EMPTY_COUNTS: DrainCounts = { received: 0, started: 0, forwarded: 0, alreadyPresent: 0, deadLettered: 0 };

export function addCounts(a: DrainCounts, b: DrainCounts): DrainCounts {
  return {
    received: a.received + b.received,
    started: a.started + b.started,
    forwarded: a.forwarded + b.forwarded,
    alreadyPresent: a.alreadyPresent + b.alreadyPresent,
    deadLettered: a.deadLettered + b.deadLettered,
  };
}
