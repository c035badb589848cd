import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { MorningVerdict } from '../policy';
import type { MorningGateInput } from '../workflows/morningGate';
import type { GateRegistration } from '../workflows/morningGateMessages';

/** What the morning activities need of src/client/morningGates.ts, on the Temporal client the activity is given. */
export interface MorningGateOperations {
  register(gateId: string, input: MorningGateInput, registration: GateRegistration): Promise<MorningVerdict>;
  withdraw(gateId: string, notificationId: string): Promise<void>;
  tell(gateId: string, changes: { notificationId: string; verdict: MorningVerdict; seq: number }[]): Promise<Record<string, 'told' | 'settled' | 'missing'>>;
}

export interface MorningDeps {
  morningGatesFor: (temporal: Client) => MorningGateOperations;
}

/**
 * The morning gates' side effects, as local activities: a gate telling notifications a changed
 * verdict, and a notification that moves (a cancel, a consent change, a reschedule) leaving its
 * gate or registering with another.
 */
export function createMorningActivities({ morningGatesFor }: MorningDeps) {
  const gates = () => morningGatesFor(Context.current().client);
  return {
    async tellNotifications({ gateId, changes }: { gateId: string; changes: { notificationId: string; verdict: MorningVerdict; seq: number }[] }) {
      return gates().tell(gateId, changes);
    },
    async withdrawFromGate({ gateId, notificationId }: { gateId: string; notificationId: string }): Promise<void> {
      await gates().withdraw(gateId, notificationId);
    },
    async registerWithGate({ gateId, input, registration }: { gateId: string; input: MorningGateInput; registration: GateRegistration }): Promise<MorningVerdict> {
      return gates().register(gateId, input, registration);
    },
  };
}
