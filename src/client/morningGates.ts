/**
 * The client side of the morning gates (src/workflows/morningGate.ts), as the morning activities use
 * it: a notification joins or leaves its morning (signals); a gate tells notifications their
 * verdicts (signals: a verdict told twice is the same), locks the notifications of its digest and
 * tells them how its attempt ended (an update to each, with an id per attempt, so that a retried
 * activity repeats nothing).
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { inLanes } from '../inLanes';
import { workflowIdFor } from '../notification';
import type { DigestEntry } from '../digest';
import type { morningGateWorkflow, MorningGateInput } from '../workflows/morningGate';
import {
  digestOutcomeUpdate,
  lockForDigestUpdate,
  morningVerdictSignal,
  registerSignal,
  withdrawSignal,
  type DigestAttemptOutcome,
  type GateRegistration,
} from '../workflows/morningGateMessages';
import type { MorningVerdict } from '../policy';

export { morningGateId } from '../workflows/morningGateMessages';

/** Signals or updates in flight at once from one gate's activity (each goes to a different notification). */
const REQUESTS_IN_FLIGHT = 32;

/** A workflow that has ended answers an update with errors like "workflow execution already completed". */
function isClosed(error: unknown): boolean {
  if (error instanceof WorkflowNotFoundError) return true;
  return /already completed|workflow execution (is )?(already )?completed|not found/i.test(`${(error as Error)?.message ?? ''} ${(error as { cause?: Error })?.cause?.message ?? ''}`);
}

export class MorningGates {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /**
   * Registers a notification with its morning's gate, starting the gate if it is not running.
   * `closed`: that gate has already ended (its morning is over), and is not started again.
   */
  async join(gateId: string, input: MorningGateInput, registration: GateRegistration): Promise<'joined' | 'closed'> {
    try {
      await this.client.workflow.signalWithStart<typeof morningGateWorkflow, [GateRegistration]>('morningGateWorkflow', {
        workflowId: gateId,
        taskQueue: this.taskQueue,
        args: [input],
        signal: registerSignal,
        signalArgs: [registration],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      return 'joined';
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return 'closed';
      throw error;
    }
  }

  /** Takes a notification out of its gate's plan; nothing to do if the gate has ended. */
  async leave(gateId: string, notificationId: string, seq: number): Promise<void> {
    try {
      await this.client.workflow.getHandle(gateId).signal(withdrawSignal, { notificationId, seq });
    } catch (error) {
      if (!isClosed(error)) throw error;
    }
  }

  /** Tells each notification the gate's verdict for its registration; one that ended meanwhile is skipped. */
  async tellVerdicts(gateId: string, verdicts: readonly { notificationId: string; seq: number; verdict: MorningVerdict }[]): Promise<void> {
    await inLanes(verdicts, REQUESTS_IN_FLIGHT, async ({ notificationId, seq, verdict }) => {
      try {
        await this.client.workflow.getHandle(workflowIdFor(notificationId)).signal(morningVerdictSignal, { gateId, seq, verdict });
      } catch (error) {
        if (!isClosed(error)) throw error;
      }
    });
  }

  /** Locks each notification into attempt `attempt` at the digest; those that ended or moved are not locked. */
  async lock(gateId: string, attempt: number, notificationIds: readonly string[]): Promise<Record<string, DigestEntry | null>> {
    const entries: Record<string, DigestEntry | null> = {};
    await inLanes(notificationIds, REQUESTS_IN_FLIGHT, async (notificationId) => {
      try {
        const answer = await this.client.workflow
          .getHandle(workflowIdFor(notificationId))
          .executeUpdate(lockForDigestUpdate, { args: [{ gateId, attempt }], updateId: `${gateId}:lock:${attempt}` });
        entries[notificationId] = answer.locked ? answer.entry : null;
      } catch (error) {
        if (!isClosed(error)) throw error;
        entries[notificationId] = null;
      }
    });
    return entries;
  }

  /** Tells each locked notification how the attempt ended. */
  async tell(gateId: string, attempt: number, notificationIds: readonly string[], result: DigestAttemptOutcome): Promise<void> {
    await inLanes(notificationIds, REQUESTS_IN_FLIGHT, async (notificationId) => {
      try {
        await this.client.workflow
          .getHandle(workflowIdFor(notificationId))
          .executeUpdate(digestOutcomeUpdate, { args: [{ gateId, attempt, result }], updateId: `${gateId}:outcome:${attempt}` });
      } catch (error) {
        if (!isClosed(error)) throw error;
      }
    });
  }
}
