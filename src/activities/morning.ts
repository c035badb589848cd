import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { DigestEntry } from '../digest';
import type { MorningGateInput } from '../workflows/morningGate';
import type { DigestAttemptOutcome, GateRegistration, VerdictAnswer } from '../workflows/morningGateMessages';

/** What the morning activities need of src/client/morningGates.ts, on the Temporal client the activity is given. */
export interface MorningGateOperations {
  join(gateId: string, input: MorningGateInput, registration: GateRegistration): Promise<'joined' | 'closed'>;
  leave(gateId: string, notificationId: string, seq: number): Promise<void>;
  verdict(gateId: string, notificationId: string): Promise<VerdictAnswer>;
  lock(gateId: string, attempt: number, notificationIds: readonly string[]): Promise<Record<string, DigestEntry | null>>;
  tell(gateId: string, attempt: number, notificationIds: readonly string[], result: DigestAttemptOutcome): Promise<void>;
}

export interface MorningDeps {
  morningGatesFor: (temporal: Client) => MorningGateOperations;
}

/**
 * The morning gates' side effects, as local activities: a notification moving between mornings
 * (leave one, join another) and asking its verdict; a gate locking its digest's notifications and
 * telling them how the attempt ended.
 */
export function createMorningActivities({ morningGatesFor }: MorningDeps) {
  const gates = () => morningGatesFor(Context.current().client);
  return {
    /** Leaves the morning it was registered with (if any), then joins the new one (if any), in that order. */
    async moveMorning({ leave, join }: { leave?: { gateId: string; notificationId: string; seq: number }; join?: { gateId: string; input: MorningGateInput; registration: GateRegistration } }): Promise<'joined' | 'closed' | 'left'> {
      if (leave) await gates().leave(leave.gateId, leave.notificationId, leave.seq);
      return join ? gates().join(join.gateId, join.input, join.registration) : 'left';
    },
    async askMorning({ gateId, notificationId }: { gateId: string; notificationId: string }): Promise<VerdictAnswer> {
      return gates().verdict(gateId, notificationId);
    },
    async lockDigestMembers({ gateId, attempt, notificationIds }: { gateId: string; attempt: number; notificationIds: string[] }): Promise<Record<string, DigestEntry | null>> {
      return gates().lock(gateId, attempt, notificationIds);
    },
    async tellDigestOutcome({ gateId, attempt, notificationIds, result }: { gateId: string; attempt: number; notificationIds: string[]; result: DigestAttemptOutcome }): Promise<void> {
      await gates().tell(gateId, attempt, notificationIds, result);
    },
  };
}
