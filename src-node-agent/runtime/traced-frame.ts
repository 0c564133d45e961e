/**
 * Peer frames with a message id, used only while message tracing is on. The id travels as
 * `m: "<incarnation>.<counter>"` between `t` and the payload; the receiver prefixes the peer
 * id its handshake proved, so a peer cannot claim ids in another node's name. Untraced
 * frames stay `{t, msg|req|rep}`, byte for byte as before.
 */

export type PeerFrameKind = 'msg' | 'req' | 'rep';

/** The payload key of each frame kind. */
const PAYLOAD_KEY = { msg: 'msg', req: 'req', rep: 'rep' } as const;

/** Wire ids longer than this are not ours: the receiver records the message with mid ''. */
export const MAX_WIRE_ID_CHARS = 40;

/** Type labels are cut to this length (they come from peers, before validation). */
export const MAX_TYPE_CHARS = 64;

/**
 * A length-prefixed frame `{"t":kind,"m":wireId,<key>:payload}` built around the payload's
 * JSON, so a broadcast serializes the message once however many ids it needs. The text is
 * exactly what JSON.stringify of the same object gives, which keeps the receiver's byte
 * count equal to the sender's.
 */
export function encodeTracedFrame(
  kind: PeerFrameKind,
  wireId: string,
  payloadJson: string | undefined,
): Buffer {
  // JSON.stringify(undefined) is undefined: the key is then left out, as encodeFrame would.
  const text =
    payloadJson === undefined
      ? `{"t":"${kind}","m":"${wireId}"}`
      : `{"t":"${kind}","m":"${wireId}","${PAYLOAD_KEY[kind]}":${payloadJson}}`;
  const bytes = Buffer.byteLength(text, 'utf8');
  const frame = Buffer.allocUnsafe(4 + bytes);
  frame.writeUInt32BE(bytes, 0);
  frame.write(text, 4, 'utf8');
  return frame;
}

/**
 * The label a diagram shows for a message: the stack message's discriminator (`t` in our
 * stacks, `type` in others), `request` for client requests, `reply-<type>` for replies.
 */
export function messageType(kind: PeerFrameKind, payload: unknown): string {
  const p = payload as { t?: unknown; type?: unknown } | null | undefined;
  let label: string;
  if (kind === 'req') {
    label = 'request';
  } else if (kind === 'rep') {
    label = typeof p?.type === 'string' ? `reply-${p.type}` : 'reply';
  } else if (typeof p?.t === 'string') {
    label = p.t;
  } else if (typeof p?.type === 'string') {
    label = p.type;
  } else {
    label = 'message';
  }
  return label.length > MAX_TYPE_CHARS ? label.slice(0, MAX_TYPE_CHARS) : label;
}

/** The message id of a received frame, or '' when the sender did not trace (or lied). */
export function receivedMid(peer: string, frame: { readonly m?: unknown }): string {
  const m = frame.m;
  return typeof m === 'string' && m.length > 0 && m.length <= MAX_WIRE_ID_CHARS
    ? `${peer}.${m}`
    : '';
}

/** The payload of a peer frame of `kind`. */
export function framePayload(kind: PeerFrameKind, frame: object): unknown {
  return (frame as Record<string, unknown>)[PAYLOAD_KEY[kind]];
}
