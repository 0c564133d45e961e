import type { AnyStack } from '../core/protocol';
import { paxosStack } from './paxos';
import { pbftStack } from './pbft';

/** Every stack FaultLab can run, by name. */
export const stacks: ReadonlyMap<string, AnyStack> = new Map<string, AnyStack>([
  [paxosStack.name, paxosStack],
  [pbftStack.name, pbftStack],
]);

export function getStack(name: string): AnyStack {
  const stack = stacks.get(name);
  if (stack === undefined) {
    throw new Error(`unknown stack "${name}"; available: ${Array.from(stacks.keys()).join(', ')}`);
  }
  return stack;
}
