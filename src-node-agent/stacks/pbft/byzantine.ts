import type { NodeId } from '../../core/ids';
import type { ClientReply, Context } from '../../core/protocol';
import type { KvOutput } from '../kv/kv-ops';
import { commandDigest, NULL_COMMAND } from './command-digest';
import type { ByzantineBehaviour } from './config';
import type { Command, PbftBody, PbftMessage } from './messages';

/** `behaviour` events reported per replica; after that it keeps misbehaving silently. */
const MAX_BEHAVIOUR_EVENTS = 50;
const REPLAY_BUFFER = 32;

type Sender = (to: NodeId, body: PbftBody) => void;

/**
 * Where a Byzantine replica departs from the protocol. The replica calls it on every output
 * and on every input; a correct replica (behaviour null) passes everything through unchanged.
 */
export class ByzantineDriver {
  private reported = 0;
  private sent = 0;
  private readonly history: { to: NodeId; msg: PbftMessage }[] = [];

  constructor(
    private readonly ctx: Context<PbftMessage, KvOutput>,
    private current: ByzantineBehaviour | null,
  ) {}

  get behaviour(): ByzantineBehaviour | null {
    return this.current;
  }

  /** The operator switches the behaviour while the replica runs (null: honest again). */
  switchTo(behaviour: ByzantineBehaviour | null): void {
    this.current = behaviour;
    this.reported = 0;
  }

  /** Whether this replica misbehaves as `behaviour` now; reports it if so. */
  acts(behaviour: ByzantineBehaviour, detail: string): boolean {
    if (this.behaviour !== behaviour) return false;
    this.report(detail);
    return true;
  }

  private report(detail: string): void {
    if (this.reported >= MAX_BEHAVIOUR_EVENTS) return;
    this.reported++;
    this.ctx.emit({ kind: 'behaviour', name: this.behaviour ?? 'correct', detail });
  }

  send(to: NodeId, body: PbftBody, auth: readonly string[]): void {
    const msg: PbftMessage = { ...body, auth };
    switch (this.behaviour) {
      case 'silent':
        this.report(`drops ${body.t} to ${to}`);
        return;
      case 'corrupt': {
        this.sent++;
        if (this.sent % 2 === 0) {
          this.report(`corrupts the MAC of ${body.t} to ${to}`);
          const bad = auth.map((mac) => (mac === '' ? '' : flipFirst(mac)));
          this.ctx.send(to, { ...body, auth: bad });
        } else {
          this.ctx.send(to, msg);
        }
        this.history.push({ to, msg });
        if (this.history.length > REPLAY_BUFFER) this.history.shift();
        if (this.sent % 5 === 0) {
          const old = this.history[this.ctx.randomInt(this.history.length)];
          if (old !== undefined) {
            this.report(`replays an old ${old.msg.t} to ${old.to}`);
            this.ctx.send(old.to, old.msg);
          }
        }
        return;
      }
      default:
        this.ctx.send(to, msg);
    }
  }

  reply(reply: ClientReply<KvOutput>): void {
    if (this.behaviour === 'silent') return;
    if (this.behaviour === 'lie' && reply.type === 'ok') {
      const output = wrongOutput(reply.output);
      this.report(`answers ${reply.client}#${reply.seq} with ${JSON.stringify(output)}`);
      this.ctx.reply({ ...reply, output });
      return;
    }
    this.ctx.reply(reply);
  }

  /**
   * An equivocating primary (slide 22, "Bad Leader sends Proposal(u,s) to servers 4 and 5,
   * Proposal(u',s) to 2 and 3"): every backup is told a different request for the same
   * sequence number, each with a COMMIT from the primary that matches what it was told. No
   * request can gather 2f matching PREPAREs among the honest backups, so nothing commits until
   * the backups change the view; with a second Byzantine replica echoing votes (the lesson of
   * n = 3f + 1 at n = 4) two different requests do commit. Returns false if this replica does
   * not equivocate.
   */
  equivocate(view: number, seq: number, cmd: Command, send: Sender): boolean {
    if (this.behaviour !== 'equivocate') return false;
    const backups = this.ctx.servers.filter((s) => s !== this.ctx.self);
    backups.forEach((to, i) => {
      const c = variant(cmd, i);
      const digest = commandDigest(c);
      send(to, { t: 'pre-prepare', view, seq, digest, cmd: c });
      send(to, { t: 'commit', view, seq, digest });
    });
    this.report(`sends ${backups.length} different requests for (${view}, ${seq})`);
    return true;
  }

  /**
   * A lying replica agrees with everyone: it echoes a PREPARE/COMMIT digest to its sender.
   * The replica calls this only for a vote that is news (a new digest or view from that
   * sender, see NormalCase.onVote): echoing repeats too made two liars echo each other's
   * echoes forever (npm run sim -- --stack pbft --nodes 7 --byzantine random --seed 55).
   */
  observe(from: NodeId, body: PbftBody, send: Sender): void {
    if (this.behaviour !== 'lie' || (body.t !== 'prepare' && body.t !== 'commit')) return;
    const { view, seq, digest } = body;
    this.report(`tells ${from} it prepared and committed ${digest} at (${view}, ${seq})`);
    send(from, { t: 'prepare', view, seq, digest });
    send(from, { t: 'commit', view, seq, digest });
  }
}

/**
 * The i-th distinct version of a batch an equivocating primary hands out: the batch itself,
 * the null request, then the batch with its first request repeated (the client table executes
 * a repeat at most once, so each version is a valid request with its own digest).
 */
function variant(cmd: Command, i: number): Command {
  if (i === 0) return cmd;
  if (i === 1 || cmd.type !== 'batch' || cmd.reqs.length === 0) return NULL_COMMAND;
  const first = cmd.reqs[0]!;
  return { type: 'batch', reqs: [...cmd.reqs, ...Array.from({ length: i - 1 }, () => first)] };
}

function flipFirst(mac: string): string {
  return (mac[0] === '0' ? '1' : '0') + mac.slice(1);
}

function wrongOutput(output: KvOutput): KvOutput {
  if (typeof output === 'number') return output + 1;
  if (typeof output === 'boolean') return !output;
  if (typeof output === 'string') return `${output}~`;
  return 'lie';
}
