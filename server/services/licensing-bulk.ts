/**
 * The batch forms of the two licensing primitives, for sweeps that move
 * thousands of records at once: recording many licensing events (one
 * insertMany, keys checked in one query) and
 * moving many licences along the transition table (conditional updateMany
 * per source state, history appended, one audit event per licence). Both run
 * inside the caller's transaction, so either the whole batch happens or none
 * of it; the single-record versions (licensing-events.ts,
 * licence-transitions.ts) remain the path for everything else.
 */
import type { ClientSession, Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { Licence } from '../../models/licence.js';
import { LicensingEvent } from '../../models/licensing-event.js';
import { canTransition, LICENCE_STATES, LICENCE_TRANSITIONS, type LicenceState } from '../domain/licence-states.js';
import type { Ctx } from './context.js';
import type { LicensingEventInput } from './licensing-events.js';

/**
 * Records the events whose keys are not recorded yet; returns how many were
 * new. Keys already present (an earlier or concurrent run) are skipped, as
 * recordLicensingEvent does one at a time.
 */
export async function recordLicensingEvents(events: LicensingEventInput[], session: ClientSession): Promise<number> {
  const byKey = new Map(events.map((e) => [e.key, e]));
  if (!byKey.size) return 0;
  const existing = await LicensingEvent.find({ key: { $in: [...byKey.keys()] } }).select('key').session(session).lean();
  for (const e of existing) byKey.delete(e.key);
  const fresh = [...byKey.values()];
  if (!fresh.length) return 0;
  await LicensingEvent.insertMany(
    fresh.map((e) => ({ ...e, invoice: e.invoice ?? null, payment: e.payment ?? null, amountFen: e.amountFen ?? 0, data: e.data ?? {}, postedAt: null })),
    // lean: the documents are built here from typed values, so Mongoose's per-document hydration (4× the cost of the insert) buys nothing.
    { session, lean: true },
  );
  return fresh.length;
}

/** The states from which the table allows `to`. */
export function statesLeadingTo(to: LicenceState): LicenceState[] {
  return LICENCE_STATES.filter((s) => canTransition(LICENCE_TRANSITIONS, s, to));
}

export interface MovedLicence {
  _id: Types.ObjectId;
  number: string;
  from: LicenceState;
  licensor: Types.ObjectId;
  licensee: Types.ObjectId;
}

/**
 * Moves those of `ids` whose state allows it to `to`; the others are left
 * alone (a licence already defaulted, ended, or moved by a concurrent run).
 * Returns exactly the licences this call moved. Each move appends to the
 * licence's history and writes the same audit event moveLicence writes.
 */
export async function moveLicencesInBulk(
  ctx: Ctx,
  ids: Types.ObjectId[],
  to: LicenceState,
  opts: { at: Date; reason: string },
  session: ClientSession,
): Promise<MovedLicence[]> {
  if (!ids.length) return [];
  const from = statesLeadingTo(to);
  const found = await Licence.find({ _id: { $in: ids }, state: { $in: from } }).select('number state licensor licensee').session(session).lean();
  const moved: MovedLicence[] = [];
  for (const state of new Set(found.map((l) => l.state as LicenceState))) {
    const group = found.filter((l) => l.state === state);
    const entry = { at: opts.at, from: state, to, by: ctx.actor?.userId ?? null, reason: opts.reason };
    // Conditional on the state read above: inside the transaction, a concurrent change is a write conflict, not a lost update.
    await Licence.updateMany({ _id: { $in: group.map((l) => l._id) }, state }, { $set: { state: to }, $push: { history: entry } }, { session });
    for (const l of group) moved.push({ _id: l._id, number: l.number, from: state, licensor: l.licensor, licensee: l.licensee });
  }
  if (moved.length) {
    await AuditEvent.insertMany(moved.map((l) => ({
      at: opts.at, actor: ctx.actor?.userId ?? null, actorEmail: ctx.actor?.email ?? '', organization: ctx.actor?.orgId ?? null,
      action: 'licence.state_changed', targetType: 'Licence', targetId: String(l._id),
      summary: { number: l.number, from: l.from, to, reason: opts.reason }, requestId: ctx.meta.requestId, ip: ctx.meta.ip,
    })), { session, lean: true });
  }
  return moved;
}
