/**
 * A lease on a scheduled job: whoever holds an unexpired lease runs the job,
 * so with several app instances only one sweeps at a time. A crashed
 * holder's lease simply runs out.
 */
import mongoose, { Schema } from 'mongoose';

const leaseSchema = new Schema(
  {
    _id: { type: String, required: true },
    owner: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    lastRunAt: { type: Date, default: null },
  },
  { versionKey: false },
);

export const Lease = mongoose.model('Lease', leaseSchema);
