/**
 * The stand-alone ledger verifier. Fed an export (header, transfers in seq
 * order, checkpoints, account totals) one item at a time, it recomputes
 * everything the server claims and names the first seq where the journal
 * stops matching: contiguous seqs, each record's hash, each prevHash link,
 * the balances replayed (ledger-verify-replay.ts), the RFC 6962 root and
 * head hash at every checkpoint's seq against the signed ones, the
 * signatures, checkpoints only ever extending earlier ones
 * (ledger-verify-checkpoints.ts), and the stored account totals against
 * the replayed ones.
 *
 * Pure and streaming — no database, no files, memory independent of the
 * journal's length — so the CLI (server/ledger-verify-cli.ts) runs it on a
 * regulator's machine and the console runs it over the live journal.
 * Per-record hashing is kept lean (ledger-verify-hash.ts): a million
 * transfers verify in seconds.
 *
 * A checkpoint is checked when the stream reaches its seq: exports place
 * each one right after the transfer it signs. One that turns up later
 * (a file arranged otherwise) is returned in `misplaced`; run again with it
 * in `checkpoints` (verifyExport in ledger-verify-read.ts does this).
 */
import { LEDGER } from './ledger-chart.js';
import { GENESIS_HASH, type JournalRecord } from './ledger-record.js';
import { EMPTY_LEAF, LeanMerkle, RecordHasher, shapeProblem } from './ledger-verify-hash.js';
import type { CheckpointClaim } from './ledger-checkpoint-text.js';
import { CheckpointJudge, type ChainSoFar } from './ledger-verify-checkpoints.js';
import { BalanceReplay } from './ledger-verify-replay.js';
import { replayTail, TailRecorder, type ChainTail } from './ledger-verify-tail.js';
import { PROBLEM_MESSAGES, type ProblemCode } from './ledger-verify-messages.js';

export { PROBLEM_CODES, type ProblemCode } from './ledger-verify-messages.js';
export { fastCanonical, plainJsonLine } from './ledger-verify-hash.js';
export type { ChainTail } from './ledger-verify-tail.js';

export const EXPORT_FORMAT = 'yrd-fund-ledger/1';

export interface ExportHeader {
  type: 'header';
  format: string;
  ledger: string;
  /** The day (YYYY-MM-DD, China time) the export is as of; null: current. */
  asOf: string | null;
  exportedThroughSeq: number;
  /** SPKI PEMs of the keys that signed the checkpoints in the export. */
  publicKeys: string[];
}
export type TransferLine = { type: 'transfer' } & JournalRecord;
export type CheckpointLine = { type: 'checkpoint' } & CheckpointClaim;
export interface AccountLine {
  type: 'account';
  key: string;
  debitsPosted: number;
  creditsPosted: number;
  debitsPending: number;
  creditsPending: number;
}
export type ExportLine = ExportHeader | TransferLine | CheckpointLine | AccountLine;

export interface VerifyProblem {
  /** The transfer at fault (null: the export as a whole). */
  seq: number | null;
  code: ProblemCode;
  message: string;
  params: Record<string, string | number>;
}

export interface VerifyOptions {
  /** SPKI PEMs the reader trusts; when given, every checkpoint must be signed by one of them. */
  trustedKeys?: string[];
  /** Checkpoints to check besides those in the stream (a file someone handed over, the stored ones). */
  checkpoints?: CheckpointClaim[];
  /** Problems kept in the result (all are counted). */
  maxProblems?: number;
  /**
   * Half the work, for running the halves on two threads over the same
   * export (server/ledger-verify-file.ts merges them): 'chain' — order,
   * shape, hashes, links, Merkle roots, checkpoints; 'balances' — the
   * balance replay, pending and reversal rules, totals and stored accounts.
   * Each reports only its own problems; the balances half may also take
   * the chain's tail (beginTail). Default: both.
   */
  part?: 'chain' | 'balances';
}

export interface VerifyResult {
  ok: boolean;
  transfers: number;
  lastSeq: number;
  headHash: string;
  root: string;
  checkpoints: number;
  /** 'trusted': signatures checked against keys the reader supplied; 'embedded': against the keys the export carries. */
  keySource: 'trusted' | 'embedded';
  accountsCompared: number;
  firstBadSeq: number | null;
  problemCount: number;
  problems: VerifyProblem[];
  /** Checkpoints that arrived after their seq had passed (not checked; see the header comment). */
  misplaced: CheckpointClaim[];
}

/** Where a record stands in the journal (LedgerVerifier.place). */
type Placement = 0 | 1 | 2 | 3;
const SKIPPED = 0;
const PLACED = 1;
const AFTER_GAP = 2;
const MALFORMED = 3;

export class LedgerVerifier {
  private readonly maxProblems: number;
  private readonly problems: VerifyProblem[] = [];
  private problemCount = 0;
  private firstBadSeq: number | null = null;
  private readonly replay = new BalanceReplay((seq, code, params) => this.reportBalance(seq, code as ProblemCode, params));
  /** Whether this verifier checks (and reports on) the chain, and the balances: `part`, then beginTail(). */
  private checksChain: boolean;
  private readonly checksBalances: boolean;
  /** Past beginTail(): the chain work left for the main thread. */
  private tail: TailRecorder | null = null;
  private readonly merkle = new LeanMerkle();
  private readonly hasher = new RecordHasher();
  private expectSeq = 1;
  private lastSeq = 0;
  private transfers = 0;
  /** The last seq whose hashes went into the chain and the tree (checkpoints are checked against it). */
  private confirmed = 0;
  private headHash = GENESIS_HASH;
  /** The previous record was malformed: its hash proves nothing, so no link is checked against it. */
  private linkUnknown = false;
  private header: ExportHeader | null = null;
  private readonly checkpoints: CheckpointJudge;
  /** What the checkpoints are judged against: the chain as recomputed so far. */
  private readonly soFar: ChainSoFar;
  private readonly accountLines = new Map<string, AccountLine>();

  constructor(opts: VerifyOptions = {}) {
    this.maxProblems = opts.maxProblems ?? 100;
    this.checksChain = opts.part !== 'balances';
    this.checksBalances = opts.part !== 'chain';
    this.checkpoints = new CheckpointJudge(opts.trustedKeys, (seq, code, params) => this.report(seq, code, params));
    const v = () => this;
    this.soFar = {
      get confirmed() { return v().confirmed; },
      get leaves() { return v().merkle.size; },
      root: () => this.merkle.root(),
      get headHash() { return v().headHash; },
    };
    for (const c of opts.checkpoints ?? []) this.checkpoint(c);
  }

  /** A problem of the chain half (everything but the balances). */
  report(seq: number | null, code: ProblemCode, params: Record<string, string | number>): void {
    if (this.checksChain) this.record(seq, code, params);
  }

  /** A problem of the balances half. */
  private reportBalance(seq: number | null, code: ProblemCode, params: Record<string, string | number>): void {
    if (this.checksBalances) this.record(seq, code, params);
  }

  private record(seq: number | null, code: ProblemCode, params: Record<string, string | number>): void {
    this.problemCount++;
    if (seq !== null && (this.firstBadSeq === null || seq < this.firstBadSeq)) this.firstBadSeq = seq;
    if (this.problems.length >= this.maxProblems) return;
    const message = PROBLEM_MESSAGES[code].replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
    this.problems.push({ seq, code, message, params });
  }

  /** The export's first line: its format, and the keys it carries. */
  setHeader(h: ExportHeader): void {
    this.header = h;
    if (h.format !== EXPORT_FORMAT) this.report(null, 'header_format', { format: String(h.format) });
    if (h.ledger !== LEDGER) this.report(null, 'header_format', { format: `${String(h.format)} / ${String(h.ledger)}` });
    if (Array.isArray(h.publicKeys)) this.checkpoints.embed(h.publicKeys);
  }

  /**
   * One transfer: its place in the journal, then its hashes, link, balances
   * and any checkpoint at its seq. `plain`: it was parsed from a line that
   * passed plainJsonLine() (its canonical text is then cheaper to build).
   */
  transfer(r: JournalRecord, plain = false): void {
    const placed = this.place(r);
    if (placed === SKIPPED) return;
    if (!this.checksChain) {
      // The balances half keeps the head too, so that a tail (beginTail) links on from the right hash.
      if (placed !== MALFORMED) this.replay.apply(r);
      this.headHash = placed !== MALFORMED ? r.hash : typeof r.hash === 'string' ? r.hash : '';
      this.linkUnknown = placed === MALFORMED;
      return;
    }
    if (placed === MALFORMED) return this.confirm(r, placed, false, EMPTY_LEAF);
    this.hasher.hash(r, plain);
    this.confirm(r, placed, this.hasher.own === r.hash, this.hasher.leaf);
  }

  /** The record's place (seq gap, out of order) and shape. A SKIPPED record takes no place in the chain. */
  private place(r: JournalRecord): Placement {
    if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 1) {
      this.report(this.expectSeq, 'malformed', { seq: this.expectSeq, reason: 'seq must be a whole number ≥ 1' });
      return SKIPPED;
    }
    const seq = r.seq;
    if (seq < this.expectSeq) {
      this.report(seq, 'seq_order', { seq, after: this.expectSeq - 1 });
      return SKIPPED;
    }
    let placed: Placement = PLACED;
    if (seq > this.expectSeq) {
      this.report(this.expectSeq, 'seq_gap', { missing: this.expectSeq, found: seq, to: seq - 1 });
      placed = AFTER_GAP;
    }
    this.expectSeq = seq + 1;
    this.lastSeq = seq;
    this.transfers++;
    const shape = shapeProblem(r);
    if (!shape) return placed;
    this.report(seq, 'malformed', { seq, reason: shape });
    return MALFORMED;
  }

  /**
   * The record's own hash (`ownOk`: recomputed from its contents and
   * prevHash, it equals its stored hash), its link to the previous record,
   * its Merkle leaf (latin1 digest), the balances, and any checkpoint
   * signed at its seq.
   */
  private confirm(r: JournalRecord, placed: Placement, ownOk: boolean, leaf: string): void {
    const seq = r.seq;
    if (placed === MALFORMED) {
      this.headHash = typeof r.hash === 'string' ? r.hash : '';
      this.linkUnknown = true;
      return this.settle(seq, leaf);
    }
    if (!ownOk) this.report(seq, 'hash', { seq });
    else if (r.prevHash !== this.headHash && placed !== AFTER_GAP && !this.linkUnknown) {
      // The record is intact but does not chain to its predecessor: the predecessor is not what it chained to.
      if (seq === 1) this.report(1, 'genesis', { seq: 1 });
      else this.report(seq - 1, 'prev_hash', { seq: seq - 1, next: seq });
    }
    this.linkUnknown = false;
    this.headHash = r.hash;
    if (this.checksBalances) this.replay.apply(r);
    this.settle(seq, leaf);
  }

  /** The record's leaf into the tree and the checkpoints signed at its seq checked — or, in a tail, both left to the main thread. */
  private settle(seq: number, leaf: string): void {
    if (this.tail) return this.tail.record(seq, leaf, this.headHash);
    this.confirmed = seq;
    this.merkle.addLeafHash(leaf);
    this.checkpoints.reach(seq, this.soFar);
  }

  /**
   * From the next item on, also check the chain — each record's hashes and
   * its link — keeping its leaf, and any checkpoint met, for the thread that
   * holds the tree (the worker of a split verification; ledger-verify-tail.ts).
   */
  beginTail(): void {
    this.tail = new TailRecorder();
    this.checksChain = true;
  }

  /** What beginTail() kept, packed to send (null: no tail). */
  takeTail(): ChainTail | null {
    return this.tail?.pack() ?? null;
  }

  /** On the chain half, after its own share of the file: the tree and checkpoints carried on through the worker's tail. */
  resumeTail(t: ChainTail): void {
    replayTail(t, {
      record: (seq, leaf, head) => {
        this.transfers++;
        this.lastSeq = seq;
        this.expectSeq = seq + 1;
        this.headHash = head;
        this.settle(seq, leaf);
      },
      checkpoint: (c) => this.checkpoint(c),
    });
  }

  /** A checkpoint from the stream or supplied up front: checked now if its seq is the current one, later if ahead. */
  checkpoint(c: CheckpointClaim): void {
    if (this.tail) return this.tail.checkpoint(c);
    if (this.checksChain) this.checkpoints.offer(c, this.soFar);
  }

  /** Stored totals of one account (current exports), compared when the stream ends. */
  account(a: AccountLine): void {
    this.accountLines.set(String(a.key), a);
  }

  /** Replayed totals per account key (for reconciliation against stored counters). */
  replayedAccounts(): ReadonlyMap<string, { debitsPosted: number; creditsPosted: number; debitsPending: number; creditsPending: number }> {
    return this.replay.accounts;
  }

  root(): string {
    return this.merkle.root();
  }

  /** Checkpoints for seqs the export never reached, and the header's last seq against the last one read. */
  private checkEnd(): void {
    this.checkpoints.end(this.lastSeq);
    const through = this.header?.exportedThroughSeq;
    if (this.header && through !== this.lastSeq) {
      const n = typeof through === 'number' ? through : 0;
      this.report(Math.min(n, this.lastSeq) + 1, 'through_seq', { through: String(through), last: this.lastSeq });
    }
  }

  finish(): VerifyResult {
    // The export's end as the chain sees it: judged where the tail is resumed, not in the worker that checked it.
    if (!this.tail) this.checkEnd();
    const s = this.replay.sums();
    if (s.debitsPosted !== s.creditsPosted || s.debitsPending !== s.creditsPending) {
      this.reportBalance(null, 'totals_unbalanced', { debits: s.debitsPosted, credits: s.creditsPosted, debitsPending: s.debitsPending, creditsPending: s.creditsPending });
    }
    const compared = this.compareAccounts();
    return {
      ok: this.problemCount === 0,
      transfers: this.transfers,
      lastSeq: this.lastSeq,
      headHash: this.headHash,
      root: this.merkle.root(),
      checkpoints: this.checkpoints.checked,
      keySource: this.checkpoints.keySource,
      accountsCompared: compared,
      firstBadSeq: this.firstBadSeq,
      problemCount: this.problemCount,
      problems: this.problems,
      misplaced: this.checkpoints.misplaced,
    };
  }

  private compareAccounts(): number {
    if (!this.accountLines.size) return 0;
    const fields = ['debitsPosted', 'creditsPosted', 'debitsPending', 'creditsPending'] as const;
    for (const [key, line] of this.accountLines) {
      const replayed = this.replay.accounts.get(key);
      for (const f of fields) {
        const want = replayed?.[f] ?? 0;
        if (line[f] !== want) this.reportBalance(null, 'account_mismatch', { account: key, field: f, stored: String(line[f]), replayed: want });
      }
    }
    for (const [key, a] of this.replay.accounts) {
      if (!this.accountLines.has(key) && (a.debitsPosted || a.creditsPosted || a.debitsPending || a.creditsPending)) this.reportBalance(null, 'account_missing', { account: key });
    }
    return this.accountLines.size;
  }
}
