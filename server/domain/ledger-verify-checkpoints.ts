/**
 * The verifier's judge of checkpoints (ledger-verify.ts feeds it): which
 * keys it trusts, each signed checkpoint checked when the journal reaches
 * its seq — signature, key, Merkle root and head hash against the ones
 * recomputed — checkpoints only ever extending earlier ones, and those that
 * came too late (misplaced) or for seqs never reached.
 */
import type { KeyObject } from 'node:crypto';
import { LEDGER } from './ledger-chart.js';
import { checkpointBodyProblem, keyIdOf, parseEd25519PublicKey, signatureValid, type CheckpointClaim } from './ledger-checkpoint-text.js';
import type { ProblemCode } from './ledger-verify-messages.js';

export type ChainReport = (seq: number | null, code: ProblemCode, params: Record<string, string | number>) => void;

/** The journal as the verifier has recomputed it so far. */
export interface ChainSoFar {
  /** The last seq whose leaf is in the tree. */
  confirmed: number;
  leaves: number;
  root(): string;
  headHash: string;
}

export class CheckpointJudge {
  /** Checkpoints waiting for their seq. */
  private readonly due = new Map<number, CheckpointClaim[]>();
  readonly misplaced: CheckpointClaim[] = [];
  checked = 0;
  private lastGoodSeq = 0;
  private lastTime = '';
  private readonly trusted: Map<string, KeyObject> | null;
  private readonly embedded = new Map<string, KeyObject>();

  /** `trustedKeys`: SPKI PEMs the reader trusts (none: the keys the export carries). */
  constructor(trustedKeys: string[] | undefined, private readonly report: ChainReport) {
    this.trusted = trustedKeys ? this.keyMap(trustedKeys, 'trusted') : null;
  }

  get keySource(): 'trusted' | 'embedded' {
    return this.trusted ? 'trusted' : 'embedded';
  }

  /** The keys the export's header carries. */
  embed(pems: string[]): void {
    for (const [id, key] of this.keyMap(pems, 'embedded')) this.embedded.set(id, key);
  }

  private keyMap(pems: string[], label: string): Map<string, KeyObject> {
    const m = new Map<string, KeyObject>();
    for (const pem of pems) {
      const key = typeof pem === 'string' ? parseEd25519PublicKey(pem) : null;
      if (key) m.set(keyIdOf(key), key);
      else this.report(null, 'bad_key', { which: label });
    }
    return m;
  }

  /** A checkpoint from the stream or supplied up front: checked now if its seq is the current one, later if ahead. */
  offer(c: CheckpointClaim, chain: ChainSoFar): void {
    const bad = checkpointBodyProblem(c ?? {});
    if (bad) {
      this.report(null, 'checkpoint_malformed', { seq: String(c?.seq), reason: bad });
      return;
    }
    if (c.seq === chain.confirmed && (c.seq > 0 || chain.leaves === 0)) this.check(c, chain);
    else if (c.seq > chain.confirmed) this.due.set(c.seq, [...(this.due.get(c.seq) ?? []), c]);
    else this.misplaced.push(c);
  }

  /** The chain has reached `seq`: the checkpoints signed there. */
  reach(seq: number, chain: ChainSoFar): void {
    if (!this.due.size) return;
    const list = this.due.get(seq);
    if (!list) return;
    this.due.delete(seq);
    for (const c of list.sort((a, b) => (a.time < b.time ? -1 : 1))) this.check(c, chain);
  }

  /** The export has ended at `lastSeq`: checkpoints still waiting signed transfers it does not hold. */
  end(lastSeq: number): void {
    for (const list of this.due.values()) {
      for (const c of list) this.report(lastSeq + 1, 'checkpoint_beyond', { seq: lastSeq + 1, signed: c.seq, last: lastSeq });
    }
    this.due.clear();
  }

  private keyFor(c: CheckpointClaim): KeyObject | null {
    if (c.publicKey != null) {
      const own = parseEd25519PublicKey(c.publicKey);
      if (!own || keyIdOf(own) !== c.keyId) {
        this.report(c.seq, 'checkpoint_key_id', { seq: c.seq, keyId: String(c.keyId) });
        return null;
      }
      if (!this.trusted) this.embedded.set(c.keyId, own);
    }
    const key = (this.trusted ?? this.embedded).get(c.keyId);
    if (!key) this.report(c.seq, this.trusted ? 'checkpoint_untrusted_key' : 'checkpoint_no_key', { seq: c.seq, keyId: String(c.keyId) });
    return key ?? null;
  }

  private check(c: CheckpointClaim, chain: ChainSoFar): void {
    this.checked++;
    const seq = c.seq;
    let good = true;
    if (c.ledger !== LEDGER) {
      this.report(seq, 'checkpoint_ledger', { seq, ledger: c.ledger });
      good = false;
    }
    const key = this.keyFor(c);
    if (key && !signatureValid(c, key)) {
      this.report(seq, 'checkpoint_signature', { seq, keyId: c.keyId });
      good = false;
    }
    if (!key) good = false;
    if (chain.root() !== c.root) {
      this.report(seq, 'checkpoint_root', { seq, from: Math.min(this.lastGoodSeq + 1, seq), to: seq });
      good = false;
    } else if (chain.headHash !== c.headHash) {
      this.report(seq, 'checkpoint_head', { seq });
      good = false;
    }
    if (c.time < this.lastTime) this.report(seq, 'checkpoint_order', { seq, time: c.time, earlier: this.lastTime });
    this.lastTime = c.time > this.lastTime ? c.time : this.lastTime;
    if (good) this.lastGoodSeq = Math.max(this.lastGoodSeq, seq);
  }
}
