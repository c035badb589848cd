/**
 * The modules every workflow on a worker thread shares: the bundle's preloadModules
 * (src/workers/workflowCode.ts) load this file once per thread, before any workflow exists, and
 * with it everything it imports. Without it the SDK runs each module again for every workflow it
 * creates, and a held notification's workflow is created at its release, in the morning window.
 *
 * The imports are written as the workflow code writes them, so that the bundler resolves the same
 * files: named in the preload list itself, 'zod' resolved to zod's CommonJS build while the
 * workflows import its ES module, and a bare require of a side-effect-free package was dropped.
 * Sharing zod and the schemas as well took the worker's CPU per released notification from 25.2 to
 * 20.9 ms (release of 3,000 without staging, one run each, back to back:
 * bench/results/experiments/2026-11-30-shared-zod-*.json); luxon and the policy, earlier, from
 * 36.5 to 28.5 ms (2026-11-30-shared-modules-*.json).
 *
 * Only stateless code belongs here, since every workflow sees the same module, and the SDK freezes
 * what these modules export:
 * - luxon: its caches of zones and Intl formatters hold pure answers;
 * - zod: classes, and module state only `setErrorMap` changes, which nothing calls;
 * - the policy: pure functions and a memo of valid zone names;
 * - the notification contract, whose schemas are not exported for that reason (src/notification.ts);
 * - the failure types and search attribute keys: constants;
 * - the evidence record and the Web UI's texts: pure functions.
 */
export * as luxon from 'luxon';
export * as zod from 'zod';
export * as policy from '../policy';
export * as notification from '../notification';
export * as failureTypes from '../failureTypes';
export * as searchAttributes from '../searchAttributes';
export * as evidence from '../evidence';
export * as webUiText from '../webUiText';
