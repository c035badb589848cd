import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { DigestEntry } from '../digest';
import type { MorningGateInput } from '../workflows/morningGate';
import type { MorningVerdict } from '../policy';
import type { DigestAttemptOutcome, GateRegistration } from '../workflows/morningGateMessages';

/** What the morning activities need of src/client/morningGates.ts, on the Temporal client the activity is given. */
export interface MorningGateOperations {
  join(gateId: string, input: MorningGateInput, registration: GateRegistration): Promise<'joined' | 'closed'>;
  leave(gateId: string, notificationId: string, seq: number): Promise<void>;
  tellVerdicts(gateId: string, verdicts: readonly { notificationId: string; seq: number; verdict: MorningVerdict }[]): Promise<void>;
  lock(gateId: string, attempt: number, notificationIds: readonly string[]): Promise<Record<string, DigestEntry | null>>;
  tell(gateId: string, attempt: number, notificationIds: readonly string[], result: DigestAttemptOutcome): Promise<void>;
}

export interface MorningDeps {
  morningGatesFor: (temporal: Client) => MorningGateOperations;
}

/**
 * The morning gates' side effects: a notification moving between mornings (leave one, join
 * another: a local activity); a gate telling verdicts, locking its digest's notifications and
 * telling them how the attempt ended (activities, so that the gate holds no workflow task while
 * the notifications answer).
 */
export function createMorningActivities({ morningGatesFor }: MorningDeps) {
  const gates = () => morningGatesFor(Context.current().client);
  return {
    /** Leaves the morning it was registered with (if any), then joins the new one (if any), in that order. */
    async moveMorning({ leave, join }: { leave?: { gateId: string; notificationId: string; seq: number }; join?: { gateId: string; input: MorningGateInput; registration: GateRegistration } }): Promise<'joined' | 'closed' | 'left'> {
      if (leave) await gates().leave(leave.gateId, leave.notificationId, leave.seq);
      return join ? gates().join(join.gateId, join.input, join.registration) : 'left';
    },
    async tellVerdicts({ gateId, verdicts }: { gateId: string; verdicts: { notificationId: string; seq: number; verdict: MorningVerdict }[] }): Promise<void> {
      await gates().tellVerdicts(gateId, verdicts);
    },
    async lockDigestMembers({ gateId, attempt, notificationIds }: { gateId: string; attempt: number; notificationIds: string[] }): Promise<Record<string, DigestEntry | null>> {
      return gates().lock(gateId, attempt, notificationIds);
    },
    async tellDigestOutcome({ gateId, attempt, notificationIds, result }: { gateId: string; attempt: number; notificationIds: string[]; result: DigestAttemptOutcome }): Promise<void> {
      await gates().tell(gateId, attempt, notificationIds, result);
    },
  };
}
