// The workflows this worker runs; the worker bundles this file (workflowsPath).
// Each type's Worker Versioning behaviour is set on the functions by ./versioningBehaviors.
import './versioningBehaviors';
export * from './smoke';
export * from './notification';
export * from './reconcileLegacyQueue';
export * from './morningGate';
export * from './complianceReport';
