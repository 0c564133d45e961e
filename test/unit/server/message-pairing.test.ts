import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src-main/record/schema';
import {
  MessageRing,
  messageEventOf,
  pairMessages,
  type MessageEvent,
} from '../../../src-main/server/messages/message-pairing';

const ev = (
  t_ms: number,
  node: string,
  dir: MessageEvent['dir'],
  peer: string,
  mid: string,
): MessageEvent => ({
  t_ms,
  node,
  dir,
  peer,
  type: 'accept',
  mid,
});

describe('message pairing', () => {
  it('pairs a send and its receipt by mid, from sender to receiver', () => {
    const { messages, truncated } = pairMessages(
      [ev(10, 'n1', 'send', 'n2', 'n1.1.1'), ev(12, 'n2', 'recv', 'n1', 'n1.1.1')],
      0,
      100,
      10,
    );
    expect(truncated).toBe(false);
    expect(messages).toEqual([
      {
        mid: 'n1.1.1',
        from: 'n1',
        to: 'n2',
        type: 'accept',
        sent_ms: 10,
        received_ms: 12,
        dropped: false,
      },
    ]);
  });

  it('marks drops on the sender and on the receiver, keeping the direction', () => {
    const { messages } = pairMessages(
      [
        ev(10, 'n1', 'drop', 'n2', 'n1.1.2'), // n1's filter refused to send
        ev(11, 'n3', 'send', 'n1', 'n3.1.1'),
        ev(13, 'n1', 'drop', 'n3', 'n3.1.1'), // n1's filter refused to deliver
      ],
      0,
      100,
      10,
    );
    expect(messages).toEqual([
      {
        mid: 'n1.1.2',
        from: 'n1',
        to: 'n2',
        type: 'accept',
        sent_ms: 10,
        received_ms: null,
        dropped: true,
      },
      {
        mid: 'n3.1.1',
        from: 'n3',
        to: 'n1',
        type: 'accept',
        sent_ms: 11,
        received_ms: null,
        dropped: true,
      },
    ]);
  });

  it('keeps messages whose send or receipt is in the window, and truncates at the limit', () => {
    const events = [
      ev(5, 'n1', 'send', 'n2', 'a'),
      ev(15, 'n2', 'recv', 'n1', 'a'), // received inside [10, 20]
      ev(30, 'n1', 'send', 'n2', 'b'), // outside
      ev(11, 'n1', 'send', 'n3', 'c'),
      ev(12, 'n1', 'send', 'n3', 'd'),
    ];
    const all = pairMessages(events, 10, 20, 10);
    expect(all.messages.map((m) => m.mid)).toEqual(['a', 'c', 'd']);
    const cut = pairMessages(events, 10, 20, 2);
    expect(cut.truncated).toBe(true);
    expect(cut.messages.map((m) => m.mid)).toEqual(['a', 'c']);
  });

  it('reads message events from agent records only', () => {
    const rec: RunRecord = {
      t_ms: 3,
      type: 'agent',
      node: 'n2',
      incarnation: 1,
      seq: 1,
      raw_ms: 3,
      event: {
        kind: 'message',
        dir: 'recv',
        peer: 'n1',
        type: 'prepare',
        mid: 'n1.1.9',
        bytes: 40,
      },
    };
    expect(messageEventOf(rec)).toEqual({
      t_ms: 3,
      node: 'n2',
      dir: 'recv',
      peer: 'n1',
      type: 'prepare',
      mid: 'n1.1.9',
    });
    expect(messageEventOf({ t_ms: 1, type: 'note', text: 'x' })).toBeNull();
  });

  it('the live ring is bounded and keeps the newest events in order', () => {
    const ring = new MessageRing(3);
    for (let i = 1; i <= 5; i++) ring.push(ev(i, 'n1', 'send', 'n2', `m${i}`));
    expect(ring.size).toBe(3);
    expect(ring.overwritten).toBe(2);
    expect(Array.from(ring.events(), (e) => e.mid)).toEqual(['m3', 'm4', 'm5']);
    expect(ring.oldest_ms()).toBe(3);
    expect(() => new MessageRing(0)).toThrow(/capacity/);
  });
});
