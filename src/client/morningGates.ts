/**
 * The client side of the morning gates (src/workflows/morningGate.ts): register a held
 * notification and get its verdict at once (update-with-start), withdraw one, and tell
 * notifications a changed verdict (what the gate's local activity does through this).
 */
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy } from '@temporalio/common';
import { FAILURE_TYPES } from '../failureTypes';
import { workflowIdFor } from '../notification';
import type { MorningVerdict } from '../policy';
import type { morningGateWorkflow, MorningGateInput } from '../workflows/morningGate';
import { morningVerdictUpdate, registerUpdate, withdrawUpdate, type GateRegistration } from '../workflows/morningGateMessages';

export { morningGateId } from '../workflows/morningGateMessages';

/** What a changed verdict met: told, the notification can no longer change (settled), or not there yet. */
export type TellAnswer = 'told' | 'settled' | 'missing';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A gate takes at most 10 updates in flight (the server's limit per workflow); many clients
 * registering one recipient's notifications at once are told RESOURCE_EXHAUSTED beyond that, after
 * the SDK's own retries. Those are retried here for this long, with jitter.
 */
const BUSY_GATE_RETRY_MS = 120_000;

function isBusy(error: unknown): boolean {
  const codes = [error, (error as { cause?: unknown })?.cause].map((each) => (each as { code?: unknown } | undefined)?.code);
  return codes.includes(8) || /RESOURCE_EXHAUSTED|in-flight updates/i.test(String((error as Error)?.message ?? ''));
}

/** A workflow that has ended answers an update with NotFound-like errors ("already completed"). */
function isClosed(error: unknown): boolean {
  return /already completed|workflow execution (is )?(already )?completed|not found/i.test(`${(error as Error)?.message ?? ''} ${(error as { cause?: Error })?.cause?.message ?? ''}`);
}

export class MorningGates {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** Registers a notification with its gate, starting the gate if it is not running yet; resolves to its verdict. */
  async register(gateId: string, input: MorningGateInput, registration: GateRegistration): Promise<MorningVerdict> {
    const giveUpAt = Date.now() + BUSY_GATE_RETRY_MS;
    for (let attempt = 1; ; attempt += 1) {
      const startWorkflowOperation = new WithStartWorkflowOperation<typeof morningGateWorkflow>('morningGateWorkflow', {
        workflowId: gateId,
        taskQueue: this.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        // A gate that has closed (its morning is over) is not started again with an empty plan.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      try {
        return await this.client.workflow.executeUpdateWithStart(registerUpdate, { args: [registration], startWorkflowOperation });
      } catch (error) {
        if (isBusy(error) && Date.now() < giveUpAt) {
          await sleep(Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
          continue;
        }
        // The morning this notification was held for is over and decided: it does not go.
        if ((error as { name?: string }).name === 'WorkflowExecutionAlreadyStartedError') return { outcome: 'capped' };
        throw error;
      }
    }
  }

  /** Takes a notification out of its gate's plan; nothing to do if the gate has closed. */
  async withdraw(gateId: string, notificationId: string): Promise<void> {
    try {
      await this.client.workflow.getHandle(gateId).executeUpdate(withdrawUpdate, { args: [{ notificationId }] });
    } catch (error) {
      if (error instanceof WorkflowNotFoundError || isClosed(error)) return;
      throw error;
    }
  }

  /** Tells notifications their changed verdicts, each once (the update id makes a retry a no-op). */
  async tell(gateId: string, changes: { notificationId: string; verdict: MorningVerdict; seq: number }[]): Promise<Record<string, TellAnswer>> {
    const answers: Record<string, TellAnswer> = {};
    await Promise.all(
      changes.map(async ({ notificationId, verdict, seq }) => {
        try {
          await this.client.workflow
            .getHandle(workflowIdFor(notificationId))
            .executeUpdate(morningVerdictUpdate, { args: [{ verdict, gateId }], updateId: `${gateId}:${seq}:${notificationId}` });
          answers[notificationId] = 'told';
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) answers[notificationId] = 'missing';
          else if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type === FAILURE_TYPES.notHeld) answers[notificationId] = 'settled';
          else if (isClosed(error)) answers[notificationId] = 'settled';
          else throw error;
        }
      }),
    );
    return answers;
  }
}
