/**
 * The journal's head: the last seq and its hash. Every posting transaction
 * reads it and moves it forward conditionally on the seq it read, so seqs
 * are contiguous (an aborted transaction gives its seq back) and the chain
 * has exactly one successor per record even with several app processes.
 */
import mongoose, { Schema } from 'mongoose';

const ledgerHeadSchema = new Schema(
  {
    _id: { type: String, required: true },
    seq: { type: Number, required: true },
    hash: { type: String, required: true },
  },
  { versionKey: false },
);

export const LedgerHead = mongoose.model('LedgerHead', ledgerHeadSchema);
