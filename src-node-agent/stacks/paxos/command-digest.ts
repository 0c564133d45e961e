import { hash53 } from '../../core/hash';
import type { Command } from './messages';

const NOOP_DIGEST = hash53('noop').toString(16).padStart(14, '0');

/**
 * Digest of a command for `executed` events (what the agreement checker compares). Built
 * field by field rather than through JSON.stringify: every replica digests every accepted
 * command, so this is on the hot path of the simulator.
 */
export function commandDigest(cmd: Command): string {
  if (cmd.type === 'noop') return NOOP_DIGEST;
  let text = '';
  for (const req of cmd.reqs) {
    const op = req.op;
    text += `${req.client}\u001f${req.seq}\u001f${op.f}\u001f${op.key}\u001f`;
    switch (op.f) {
      case 'get':
        break;
      case 'add':
        text += String(op.delta);
        break;
      case 'cas':
        text += `${typeof op.expected}:${String(op.expected)}\u001f${typeof op.value}:${String(op.value)}`;
        break;
      default:
        text += `${typeof op.value}:${String(op.value)}`;
    }
    text += '\u001e';
  }
  return hash53(text).toString(16).padStart(14, '0');
}
