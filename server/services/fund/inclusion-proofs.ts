/**
 * GET /fund/ledger/:seq/proof.json — a transfer's inclusion proof against
 * the first signed checkpoint that covers it (server/domain/ledger-proof.ts
 * says what it proves; `npm run verify-ledger -- --proof file` checks it).
 *
 * The audit path is computed from the journal in one pass up to the
 * checkpoint's seq, holding one subtree at a time; the same pass recomputes
 * the checkpoint's root, so a journal that no longer matches its checkpoint
 * is refused rather than given a proof that would not verify. The first
 * covering checkpoint keeps that pass as short as it can be, and a proof
 * against it stays valid: later checkpoints only ever extend earlier ones.
 */
import { LedgerCheckpoint } from '../../../models/ledger-checkpoint.js';
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { LEDGER } from '../../domain/ledger-chart.js';
import { PROOF_FORMAT, type InclusionProof } from '../../domain/ledger-proof.js';
import { canonical } from '../../domain/ledger-record.js';
import { leafHash, MerkleBuilder } from '../../domain/merkle.js';
import { AuditPathBuilder } from '../../domain/merkle-proof.js';
import { requireRole, type Ctx } from '../context.js';
import { parseTransferSeq } from './console-explorer.js';
import { checkpointLine, journalPages } from './ledger-export.js';
import { journalRecordOf } from './ledger-post.js';

export async function transferProof(ctx: Ctx, seqText: string): Promise<InclusionProof> {
  requireRole(ctx, 'regulator', 'fund_manager');
  const seq = parseTransferSeq(seqText);
  const doc = await LedgerTransfer.findOne({ seq }).lean();
  if (!doc) throw new NotFoundError('ledger.transfer_not_found', { seq });
  const cp = await LedgerCheckpoint.findOne({ ledger: LEDGER, seq: { $gte: seq } }).sort({ seq: 1, time: 1, _id: 1 }).lean();
  if (!cp) throw new ConflictError('checkpoints.proof.not_yet', { seq });
  const path = new AuditPathBuilder(seq - 1, cp.seq);
  const tree = new MerkleBuilder();
  let expected = 1;
  for await (const page of journalPages(cp.seq)) {
    for (const r of page) {
      // A gap would shift every later leaf: the journal is not the one the checkpoint signed.
      if (r.seq !== expected++) throw new ConflictError('checkpoints.proof.journal_differs', { seq, checkpoint: cp.seq });
      const leaf = leafHash(canonical(r));
      path.add(leaf);
      tree.addLeafHash(leaf);
    }
  }
  if (expected !== cp.seq + 1 || tree.root().toString('hex') !== cp.root) throw new ConflictError('checkpoints.proof.journal_differs', { seq, checkpoint: cp.seq });
  const { type: _type, issuedBy: _issuedBy, ...checkpoint } = checkpointLine(cp);
  return {
    format: PROOF_FORMAT,
    transfer: journalRecordOf(doc),
    leafIndex: seq - 1,
    treeSize: cp.seq,
    auditPath: path.path().map((h) => h.toString('hex')),
    checkpoint,
  };
}
