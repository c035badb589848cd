/**
 * An experiment, not a setting: load with `node --require ./bench/withoutVmTimeout.cjs --import tsx
 * bench/run.ts …` to measure what the Temporal SDK's per-call execution timeout costs (bench/README.md,
 * "The SDK's deadlock timeout").
 *
 * The SDK passes its 5 s deadlock timeout (`isolateExecutionTimeout`, not a public option) to every
 * `vm` call into a workflow context, and Node starts and joins a watchdog thread for every call that
 * carries a timeout. This drops the timeout in worker threads (where the SDK runs workflows), and with
 * it the SDK's detection of workflow code that never yields, so it belongs in a benchmark only.
 * Worker threads inherit `--require`, so it reaches the SDK's workflow threads; the main thread is
 * left alone.
 */
'use strict';
const vm = require('node:vm');
const { isMainThread } = require('node:worker_threads');

if (!isMainThread) {
  const withoutTimeout = (options) => {
    if (options === null || typeof options !== 'object' || !('timeout' in options)) return options;
    const { timeout: _dropped, ...rest } = options;
    return rest;
  };
  const scriptRunInContext = vm.Script.prototype.runInContext;
  vm.Script.prototype.runInContext = function (context, options) {
    return scriptRunInContext.call(this, context, withoutTimeout(options));
  };
  const runInContext = vm.runInContext;
  vm.runInContext = (code, context, options) => runInContext(code, context, withoutTimeout(options));
}
