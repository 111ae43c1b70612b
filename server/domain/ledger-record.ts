/**
 * A journal record as it is hashed, exported and verified — the one shape
 * shared by the posting service, the export and the offline verifier, so the
 * three cannot disagree about what was signed.
 *
 * `hash = SHA-256(prevHash ‖ canonical(record))`, where canonical() is JSON
 * with a fixed field order and no optional fields (absent values are null),
 * and prevHash is the previous record's hash as 32 raw bytes (genesis: 32
 * zero bytes). The Merkle leaf of a record is its canonical bytes.
 */
import { createHash } from 'node:crypto';
import type { TransferCode } from './ledger-chart.js';

export type TransferPhase = 'posted' | 'pending' | 'post' | 'void';

export interface JournalEntry {
  account: string;
  side: 'debit' | 'credit';
  amountFen: number;
}

/** References to what a transfer is about (hex ObjectIds), and the dimensions the console groups by. */
export interface TransferRefs {
  licence: string | null;
  invoice: string | null;
  payment: string | null;
  claim: string | null;
  subsidy: string | null;
  /** The licensing event the transfer was posted from. */
  event: string | null;
  /** The licensor institution, the licensee and the funder concerned. */
  institution: string | null;
  licensee: string | null;
  funder: string | null;
  /** Province code (SH, JS, ZJ, AH …) and technology field of the licence, for the console. */
  province: string | null;
  field: string | null;
}

export const REF_KEYS: readonly (keyof TransferRefs)[] = [
  'licence', 'invoice', 'payment', 'claim', 'subsidy', 'event', 'institution', 'licensee', 'funder', 'province', 'field',
];

export function emptyRefs(): TransferRefs {
  return { licence: null, invoice: null, payment: null, claim: null, subsidy: null, event: null, institution: null, licensee: null, funder: null, province: null, field: null };
}

export interface JournalRecord {
  seq: number;
  key: string;
  code: TransferCode;
  phase: TransferPhase;
  /** posted/pending: the legs; post: the amounts posted; void: the legs released. */
  entries: JournalEntry[];
  /** post/void: the pending transfer resolved. */
  pendingSeq: number | null;
  /** A reversal: the transfer it mirrors. */
  reverses: number | null;
  refs: TransferRefs;
  memo: string;
  /** User ids (hex) — null for the system (the licensing-event subscriber). */
  maker: string | null;
  checker: string | null;
  effectiveAt: string;
  recordedAt: string;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** Fixed-order JSON of everything but the chain fields. Hand-built: the verifier runs it a million times. */
export function canonical(r: Omit<JournalRecord, 'prevHash' | 'hash'>): string {
  let entries = '';
  for (const e of r.entries) entries += `${entries ? ',' : ''}[${JSON.stringify(e.account)},"${e.side}",${e.amountFen}]`;
  let refs = '';
  for (const k of REF_KEYS) {
    const v = r.refs[k] ?? null;
    refs += `${refs ? ',' : ''}${v === null ? 'null' : JSON.stringify(v)}`;
  }
  return `[${r.seq},${JSON.stringify(r.key)},"${r.code}","${r.phase}",[${entries}],${r.pendingSeq ?? 'null'},${r.reverses ?? 'null'},`
    + `[${refs}],${JSON.stringify(r.memo)},${r.maker === null ? 'null' : JSON.stringify(r.maker)},`
    + `${r.checker === null ? 'null' : JSON.stringify(r.checker)},"${r.effectiveAt}","${r.recordedAt}"]`;
}

export function chainHash(prevHash: string, canonicalText: string): string {
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(canonicalText, 'utf8').digest('hex');
}

/** What an idempotency key stands for: a retry must send the same payload, or it is refused. */
export function payloadDigest(payload: unknown): string {
  return createHash('sha256').update(JSON.stringify(payload)).digest('hex');
}
