/** What a workflow asks of the worker's own configuration. */
export interface PolicyDeps {
  /** NOTIFY_ALLOW_NARROWER_QUIET_HOURS: this worker runs workflows whose window is narrower than the law's (tests, benchmarks). */
  allowNarrowerQuietHours?: boolean;
}

export function createPolicyActivities({ allowNarrowerQuietHours = false }: PolicyDeps) {
  return {
    /**
     * Whether this worker allows a quiet window narrower than the law's. The workflow asks only
     * when its input carries such a window: the input can come from anyone who can start a
     * workflow, the worker's configuration only from its operator.
     */
    async narrowerQuietHoursAllowed(): Promise<boolean> {
      return allowNarrowerQuietHours;
    },
  };
}
