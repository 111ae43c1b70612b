/**
 * Runs a job under a lease document: take it if it is free or expired
 * (atomically: an upsert on {_id, expired} either wins or hits the unique
 * _id), run, release. Returns null without running when another instance
 * holds it.
 */
import { randomUUID } from 'node:crypto';
import { Lease } from '../../models/lease.js';

const INSTANCE = `${process.pid}-${randomUUID().slice(0, 8)}`;

export async function withLease<T>(name: string, ttlMs: number, job: () => Promise<T>, now = () => new Date()): Promise<T | null> {
  const owner = `${INSTANCE}-${randomUUID().slice(0, 8)}`;
  try {
    await Lease.findOneAndUpdate(
      { _id: name, expiresAt: { $lte: now() } },
      { $set: { owner, expiresAt: new Date(now().getTime() + ttlMs) } },
      { upsert: true },
    );
  } catch (err) {
    // The lease exists and has not expired: the upsert collided with it.
    if ((err as { code?: number }).code === 11000) return null;
    throw err;
  }
  try {
    return await job();
  } finally {
    await Lease.updateOne({ _id: name, owner }, { $set: { expiresAt: now(), lastRunAt: now() } });
  }
}
