// The workflows this worker runs; the worker bundles this file (workflowsPath).
export * from './smoke';
export * from './notification';
export * from './reconcileLegacyQueue';
export * from './morningGate';
export * from './complianceReport';
