/**
 * Signed checkpoints of the fund ledger, and the checks that use them.
 *
 * Issuing one streams the whole journal once (seq order, a page at a time)
 * through the offline verifier — chain, balances, and every earlier
 * checkpoint — and signs only if all of it verifies: a checkpoint must never
 * vouch for a journal that was already altered. (Resuming from the last
 * checkpoint's Merkle frontier would be cheaper, but would sign on top of
 * records nobody re-read; for a million transfers the full pass is seconds
 * to a minute, once a day.) The root is RFC 6962 over canonical(record) of
 * seqs 1..n; the signature covers checkpointText() (ledger, seq, root, head
 * hash, time).
 *
 * Regulators and the fund's managers issue checkpoints on demand (audited),
 * download them with the public key, run the verifier over the live journal,
 * and check a checkpoint file someone handed them against the ledger.
 */
import mongoose, { Types } from 'mongoose';
import { LedgerCheckpoint } from '../../../models/ledger-checkpoint.js';
import { LedgerHead } from '../../../models/ledger-head.js';
import { User } from '../../../models/user.js';
import { AppError, ConflictError, NotFoundError } from '../../errors.js';
import { LEDGER } from '../../domain/ledger-chart.js';
import { checkpointBodyProblem, checkpointText, CHECKPOINT_FORMAT, type CheckpointClaim } from '../../domain/ledger-checkpoint-text.js';
import { GENESIS_HASH } from '../../domain/ledger-record.js';
import { verifyExport } from '../../domain/ledger-verify-read.js';
import { LedgerVerifier, type VerifyResult } from '../../domain/ledger-verify.js';
import { auditRow, recordAudits } from '../audit.js';
import { requireRole, type Ctx } from '../context.js';
import { checkpointLine, exportItems, journalPages, planExport } from './ledger-export.js';
import { trustedKeysOf, type LedgerSigner } from './signing-key.js';

const READERS = ['regulator', 'fund_manager'] as const;

/** Replays seqs 1..through into a verifier primed with `checkpoints`. */
async function replayJournal(through: number, opts: ConstructorParameters<typeof LedgerVerifier>[0]): Promise<LedgerVerifier> {
  const v = new LedgerVerifier(opts);
  for await (const page of journalPages(through)) for (const r of page) v.transfer(r);
  return v;
}

/**
 * Verifies the journal up to the current head against itself and every
 * stored checkpoint, then signs and stores a checkpoint at the head. Refuses
 * (409 checkpoints.journal_invalid, naming the first bad seq) when anything
 * fails to verify. `audit`: the request asking for it (the daily job has none).
 */
export async function issueCheckpoint(signer: LedgerSigner, issuedBy: string, opts: { now?: Date; audit?: Ctx } = {}) {
  const head = await LedgerHead.findById(LEDGER).lean();
  const seq = head?.seq ?? 0;
  // Every stored checkpoint, including any beyond the head: that would mean the journal was cut back.
  const earlier = (await LedgerCheckpoint.find({ ledger: LEDGER }).lean()).map(checkpointLine);
  const v = await replayJournal(seq, { checkpoints: earlier, maxProblems: 5 });
  const result = v.finish();
  const headHash = head?.hash ?? GENESIS_HASH;
  if (!result.ok || result.lastSeq !== seq || result.headHash !== headHash) {
    throw new ConflictError('checkpoints.journal_invalid', { seq: result.firstBadSeq ?? seq, count: Math.max(1, result.problemCount) });
  }
  const time = opts.now ?? new Date();
  const body = { ledger: LEDGER, seq, root: result.root, headHash, time: time.toISOString() };
  const doc = { ...body, time, signature: signer.sign(checkpointText(body)), keyId: signer.keyId, publicKey: signer.publicKeyPem, issuedBy };
  return mongoose.connection.transaction(async (session) => {
    const [created] = await LedgerCheckpoint.create([doc], { session });
    if (opts.audit) await recordAudits([auditRow(opts.audit, 'ledger.checkpoint_issued', { type: 'LedgerCheckpoint', id: created!._id }, { seq, root: body.root, keyId: signer.keyId })], session);
    return created!.toObject();
  });
}

/** POST /fund/checkpoints: a regulator or fund manager asks for a checkpoint now. */
export async function requestCheckpoint(ctx: Ctx, signer: LedgerSigner | null) {
  const actor = requireRole(ctx, ...READERS);
  if (!signer) throw new AppError(503, 'checkpoints.no_key');
  return issueCheckpoint(signer, String(actor.userId), { audit: ctx });
}

/** The checkpoints, newest first, with who issued each. */
export async function listCheckpoints(ctx: Ctx, limit = 200) {
  requireRole(ctx, ...READERS);
  const [docs, head, total] = await Promise.all([
    LedgerCheckpoint.find({ ledger: LEDGER }).sort({ seq: -1, time: -1 }).limit(limit).lean(),
    LedgerHead.findById(LEDGER).lean(),
    LedgerCheckpoint.countDocuments({ ledger: LEDGER }),
  ]);
  const ids = [...new Set(docs.map((d) => d.issuedBy).filter((x) => Types.ObjectId.isValid(x)))];
  const users = new Map((await User.find({ _id: { $in: ids } }).select('name email').lean()).map((u) => [String(u._id), u]));
  const rows = docs.map((d) => ({
    id: String(d._id), seq: d.seq, time: d.time, root: d.root, headHash: d.headHash, keyId: d.keyId,
    scheduled: d.issuedBy === 'schedule', issuer: users.get(d.issuedBy)?.name ?? d.issuedBy, issuerEmail: users.get(d.issuedBy)?.email ?? '',
  }));
  return { rows, total, headSeq: head?.seq ?? 0, lastSeq: docs[0]?.seq ?? null };
}

/** GET /fund/checkpoints/:id.json — the checkpoint with its public key, for anyone to verify. */
export async function checkpointFile(ctx: Ctx, id: string): Promise<{ format: string } & CheckpointClaim> {
  requireRole(ctx, ...READERS);
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('checkpoints.not_found');
  const doc = await LedgerCheckpoint.findById(id).lean();
  if (!doc) throw new NotFoundError('checkpoints.not_found');
  const { type: _type, ...claim } = checkpointLine(doc);
  return { format: CHECKPOINT_FORMAT, ...claim };
}

/**
 * GET /fund/checkpoints/key.pem — the key checkpoints are signed with now,
 * followed by any retired keys whose checkpoints still count (one file of
 * PEM blocks, which verify-ledger's --public-key reads whole).
 */
export function signingPublicKey(ctx: Ctx, signer: LedgerSigner | null): { keyId: string; pem: string } {
  requireRole(ctx, ...READERS);
  if (!signer) throw new AppError(503, 'checkpoints.no_key');
  return { keyId: signer.keyId, pem: trustedKeysOf(signer).join('') };
}

/**
 * POST /fund/checkpoints/verify — the offline verifier over exactly what a
 * current export would hold: the journal, the stored checkpoints (signatures
 * against the server's own key when it has one) and the account totals.
 */
export async function verifyLedger(ctx: Ctx, signer: LedgerSigner | null): Promise<VerifyResult> {
  requireRole(ctx, ...READERS);
  const plan = await planExport(null, signer);
  return verifyExport(() => exportItems(plan), { trustedKeys: signer ? trustedKeysOf(signer) : undefined, maxProblems: 50 });
}

/** Parses an uploaded checkpoint file; a 422 naming what is wrong when it is not one. */
export function parseCheckpointFile(text: unknown): CheckpointClaim {
  if (typeof text !== 'string' || !text.trim()) throw new AppError(422, 'checkpoints.check.empty');
  let c: unknown;
  try {
    c = JSON.parse(text);
  } catch {
    throw new AppError(422, 'checkpoints.check.not_json');
  }
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw new AppError(422, 'checkpoints.check.not_json');
  const claim = c as CheckpointClaim & { format?: unknown };
  if (claim.format !== undefined && claim.format !== CHECKPOINT_FORMAT) throw new AppError(422, 'checkpoints.check.format', { format: String(claim.format).slice(0, 60) });
  const bad = checkpointBodyProblem(claim);
  if (bad) throw new AppError(422, 'checkpoints.check.malformed', { reason: bad });
  for (const f of ['signature', 'keyId'] as const) if (typeof claim[f] !== 'string' || !claim[f]) throw new AppError(422, 'checkpoints.check.malformed', { reason: `${f} is missing` });
  if (claim.publicKey != null && typeof claim.publicKey !== 'string') throw new AppError(422, 'checkpoints.check.malformed', { reason: 'publicKey must be PEM text' });
  return { ledger: claim.ledger, seq: claim.seq, root: claim.root, headHash: claim.headHash, time: claim.time, signature: claim.signature, keyId: claim.keyId, publicKey: claim.publicKey ?? null };
}

/**
 * POST /fund/checkpoints/check — is this checkpoint file genuine, and does
 * the ledger still match it? Signature against the ledger's key (the
 * server's, or failing that the keys of its stored checkpoints), root and
 * head hash recomputed from the journal at the checkpoint's seq. Writes
 * nothing.
 */
export async function checkCheckpointFile(ctx: Ctx, text: unknown, signer: LedgerSigner | null) {
  requireRole(ctx, ...READERS);
  const claim = parseCheckpointFile(text);
  const head = await LedgerHead.findById(LEDGER).lean();
  const headSeq = head?.seq ?? 0;
  if (claim.seq > headSeq) throw new AppError(422, 'checkpoints.check.beyond', { seq: claim.seq, head: headSeq });
  const trusted = signer ? trustedKeysOf(signer) : [...new Set((await LedgerCheckpoint.distinct('publicKey')) as string[])];
  const v = await replayJournal(claim.seq, { checkpoints: [claim], trustedKeys: trusted, maxProblems: 20 });
  const result = v.finish();
  return { claim, result, valid: result.ok && result.checkpoints === 1 };
}
