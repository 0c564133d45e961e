import type { AnyStack } from './protocol';

export type GuardResult =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

export type InputKind = 'message' | 'request' | 'reply';

/**
 * The schema check at a node's door, shared by every driver: whatever arrives from the network
 * is parsed with the stack's schema before the stack sees it. A bad input becomes a reason to
 * count and report — never an exception inside the stack.
 */
export function guardInput(stack: AnyStack, kind: InputKind, payload: unknown): GuardResult {
  const schema =
    kind === 'message'
      ? stack.messageSchema
      : kind === 'request'
        ? stack.requestSchema
        : stack.replySchema;
  const result = schema.safeParse(payload);
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return { ok: false, reason: `${kind} does not match the ${stack.name} schema: ${issues}` };
}
