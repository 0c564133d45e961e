import { describe, expect, it } from 'vitest';
import { parseOperatorCommand } from '../../../src-main/cli/operator-command';

describe('operator commands during a run', () => {
  it('reads the lab fault vocabulary from one typed line', () => {
    expect(parseOperatorCommand('crash leader', 5)).toEqual({
      type: 'crash',
      target: { kind: 'leader' },
    });
    expect(parseOperatorCommand('  restart   n3 ', 5)).toEqual({
      type: 'restart',
      target: { kind: 'node', node: 'n3' },
    });
    expect(parseOperatorCommand('partition majority-minority leader', 5)).toEqual({
      type: 'partition',
      shape: 'majority-minority',
      node: { kind: 'leader' },
      groups: null,
    });
    expect(parseOperatorCommand('cut n1 n2', 5)).toEqual({
      type: 'cut',
      from: { kind: 'node', node: 'n1' },
      to: { kind: 'node', node: 'n2' },
    });
    expect(parseOperatorCommand('heal', 5)).toEqual({ type: 'heal', what: 'all' });
  });

  it('explains what is wrong instead of guessing', () => {
    expect(parseOperatorCommand('crash n7', 5)).toEqual({
      error: expect.stringContaining('"n7" is not a node'),
    });
    expect(parseOperatorCommand('crash', 5)).toEqual({
      error: expect.stringContaining('needs a node'),
    });
    expect(parseOperatorCommand('partition sideways', 5)).toEqual({
      error: expect.stringContaining('needs a shape'),
    });
    expect(parseOperatorCommand('reboot n1', 5)).toEqual({
      error: expect.stringContaining('unknown command "reboot"'),
    });
  });
});
