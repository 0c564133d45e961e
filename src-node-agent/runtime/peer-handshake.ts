import type { Socket } from 'node:net';
import { FramedSocket } from './framed-socket';
import { encodeFrame } from './framing';
import {
  acceptorMac,
  authFrameSchema,
  authOkFrameSchema,
  challengeFrameSchema,
  dialerMac,
  HANDSHAKE_MAX_FRAME_BYTES,
  HANDSHAKE_TIMEOUT_MS,
  macEquals,
  newNonce,
} from './peer-auth';

export interface HandshakeIdentity {
  readonly self: string;
  readonly runId: string;
  readonly secret: Buffer;
  readonly maxFrameBytes: number;
  readonly maxQueuedFrames: number;
}

export interface HandshakeResult {
  /** The peer's node id, proven by its MAC. */
  readonly peer: string;
}

export interface HandshakeCallbacks {
  /** Authenticated: from now on `onFrames` gets the peer's data frames. */
  onAuthenticated(conn: FramedSocket, result: HandshakeResult): void;
  /** Every frame after authentication. */
  onFrames(conn: FramedSocket, frames: unknown[]): void;
  /** Failed before authentication: the socket is already destroyed. */
  onRefused(conn: FramedSocket, reason: string): void;
  /** Closed after authentication. */
  onClosed(conn: FramedSocket, reason: string): void;
}

/**
 * Runs the acceptor side of the handshake on a freshly accepted socket (see peer-auth.ts).
 * `acceptsPeer` says whether a proven node id may connect at all (e.g. not our own id).
 */
export function acceptHandshake(
  socket: Socket,
  id: HandshakeIdentity,
  acceptsPeer: (peer: string) => string | null,
  cb: HandshakeCallbacks,
): FramedSocket {
  const challenge = newNonce();
  return runHandshake(socket, id, cb, (conn, frame) => {
    const parsed = authFrameSchema.safeParse(frame);
    if (!parsed.success) return { refuse: 'expected an auth frame' };
    const auth = parsed.data;
    if (auth.runId !== id.runId) {
      return { refuse: `wrong runId "${auth.runId.slice(0, 64)}" (this run is "${id.runId}")` };
    }
    const notAccepted = acceptsPeer(auth.from);
    if (notAccepted !== null) return { refuse: notAccepted };
    const expected = dialerMac(id.secret, id.runId, auth.from, id.self, challenge);
    if (!macEquals(expected, auth.mac)) {
      return { refuse: `bad MAC from "${auth.from}": it does not hold this run's secret` };
    }
    conn.send(
      encodeFrame({
        t: 'auth-ok',
        mac: acceptorMac(id.secret, id.runId, id.self, auth.from, auth.nonce),
      }),
    );
    return { peer: auth.from };
  }).start((conn) => conn.send(encodeFrame({ t: 'challenge', nonce: challenge })));
}

/** Runs the dialer side on a connected socket to `to` (see peer-auth.ts). */
export function dialHandshake(
  socket: Socket,
  id: HandshakeIdentity,
  to: string,
  cb: HandshakeCallbacks,
): FramedSocket {
  const ours = newNonce();
  let challenged = false;
  return runHandshake(socket, id, cb, (conn, frame) => {
    if (!challenged) {
      const parsed = challengeFrameSchema.safeParse(frame);
      if (!parsed.success) return { refuse: `expected a challenge from ${to}` };
      challenged = true;
      const mac = dialerMac(id.secret, id.runId, id.self, to, parsed.data.nonce);
      conn.send(encodeFrame({ t: 'auth', from: id.self, runId: id.runId, nonce: ours, mac }));
      return { pending: true };
    }
    const parsed = authOkFrameSchema.safeParse(frame);
    if (!parsed.success) return { refuse: `expected auth-ok from ${to}` };
    const expected = acceptorMac(id.secret, id.runId, to, id.self, ours);
    if (!macEquals(expected, parsed.data.mac)) {
      return { refuse: `bad MAC from ${to}: it does not hold this run's secret` };
    }
    return { peer: to };
  }).start(() => undefined);
}

type StepOutcome = { refuse: string } | { pending: true } | { peer: string };

function runHandshake(
  socket: Socket,
  id: HandshakeIdentity,
  cb: HandshakeCallbacks,
  step: (conn: FramedSocket, frame: unknown) => StepOutcome,
): { start(first: (conn: FramedSocket) => void): FramedSocket } {
  let authenticated = false;
  let timer: NodeJS.Timeout | null = null;
  const conn: FramedSocket = new FramedSocket(
    socket,
    HANDSHAKE_MAX_FRAME_BYTES,
    id.maxQueuedFrames,
    {
      onFrames: (frames) => {
        if (authenticated) {
          cb.onFrames(conn, frames);
          return;
        }
        for (let i = 0; i < frames.length; i++) {
          const outcome = step(conn, frames[i]);
          if ('refuse' in outcome) {
            refuse(outcome.refuse);
            return;
          }
          if ('pending' in outcome) continue;
          // The protocol alternates strictly, so nothing may follow the frame that completes it.
          if (i !== frames.length - 1 || !conn.setMaxFrameBytes(id.maxFrameBytes)) {
            refuse('data arrived before the handshake completed');
            return;
          }
          authenticated = true;
          if (timer !== null) clearTimeout(timer);
          timer = null;
          cb.onAuthenticated(conn, { peer: outcome.peer });
          return;
        }
      },
      onClose: (reason) => {
        if (timer !== null) clearTimeout(timer);
        timer = null;
        if (authenticated) cb.onClosed(conn, reason);
        else cb.onRefused(conn, `handshake failed: ${reason}`);
      },
    },
  );
  const refuse = (reason: string): void => conn.close(reason);
  return {
    start(first) {
      timer = setTimeout(
        () => refuse(`no authentication within ${HANDSHAKE_TIMEOUT_MS} ms`),
        HANDSHAKE_TIMEOUT_MS,
      );
      first(conn);
      return conn;
    },
  };
}
