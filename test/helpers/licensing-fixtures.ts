/**
 * Licences and invoices made directly in the database, in the shapes the
 * licensing services write (licence documents with their terms snapshot;
 * invoices through issueInvoice, so numbering, keys and the invoice.issued
 * event are the real ones). Used by the default-sweep and dashboard suites
 * and the licensing benchmark, which must not depend on the licensing flows
 * being built alongside them.
 */
import mongoose, { Types } from 'mongoose';
import { Invoice, type InvoiceKind } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import { Organization } from '../../models/organization.js';
import { Patent } from '../../models/patent.js';
import type { LicenceState } from '../../server/domain/licence-states.js';
import { issueInvoice } from '../../server/services/invoice-issue.js';

export const DAY = 86_400_000;

let serial = 0;

/** A licence document for `patent` between its holder and `licensee`, in `state`, as the licensing services would store it. */
export function licenceDoc(o: {
  patent: { _id: Types.ObjectId; applicationNumber: string; titleZh: string; expiryDate: Date; holder: Types.ObjectId };
  licensorName: string;
  licensee: { _id: Types.ObjectId; nameZh: string };
  state: LicenceState;
  kind?: 'open' | 'deferred' | 'negotiated';
  effectiveAt?: Date;
  filingDueAt?: Date | null;
  filedAt?: Date | null;
  number?: string;
}) {
  const effectiveAt = o.effectiveAt ?? new Date(Date.now() - 200 * DAY);
  return {
    _id: new Types.ObjectId(),
    number: o.number ?? `LIC-T-${String(++serial).padStart(7, '0')}-${process.pid}`,
    kind: o.kind ?? 'open', state: o.state, offer: new Types.ObjectId(), patent: o.patent._id, licensor: o.patent.holder, licensee: o.licensee._id,
    terms: { feeForm: 'royalty', royaltyBps: 300, termMonths: 36, entryFeeFen: 0, lumpSumFen: 0 },
    snapshot: {
      applicationNumber: o.patent.applicationNumber, patentTitleZh: o.patent.titleZh, patentExpiry: o.patent.expiryDate,
      licensorNameZh: o.licensorName, licenseeNameZh: o.licensee.nameZh, licenseeSizeClass: 'micro',
    },
    effectiveAt,
    filingDueAt: o.filingDueAt === undefined ? new Date(effectiveAt.getTime() + 91 * DAY) : o.filingDueAt,
    filedAt: o.filedAt ?? null,
    history: [{ at: effectiveAt, from: null, to: o.state, by: null, reason: 'test fixture' }],
  };
}

/** Creates one licence on a patent of `licensorId` (any of its patents) for `licenseeId`. */
export async function makeLicence(licensorId: Types.ObjectId, licenseeId: Types.ObjectId, state: LicenceState, over: Partial<Parameters<typeof licenceDoc>[0]> & { patentId?: Types.ObjectId } = {}) {
  const patent = over.patentId ? await Patent.findById(over.patentId).lean() : await Patent.findOne({ holder: licensorId }).lean();
  if (!patent) throw new Error(`no patent held by ${licensorId}`);
  const [licensor, licensee] = await Promise.all([Organization.findById(licensorId).lean(), Organization.findById(licenseeId).lean()]);
  const [doc] = await Licence.insertMany([licenceDoc({ patent, licensorName: licensor!.nameZh, licensee: { _id: licenseeId, nameZh: licensee!.nameZh }, state, ...over })]);
  return doc!;
}

/** Issues an invoice through issueInvoice (its own transaction) and then sets the stored state a test needs. */
export async function makeInvoice(
  licence: { _id: Types.ObjectId; licensor: Types.ObjectId; licensee: Types.ObjectId; number: string },
  o: { amountFen: number; dueAt: Date; issuedAt?: Date; kind?: InvoiceKind; key?: string; status?: 'open' | 'paid' | 'overdue'; paidFen?: number },
) {
  const issuedAt = o.issuedAt ?? new Date(Math.min(o.dueAt.getTime(), Date.now()) - 30 * DAY);
  const invoice = await mongoose.connection.transaction((session) => issueInvoice({
    licence, kind: o.kind ?? 'royalty', amountFen: o.amountFen, issuedAt, dueAt: o.dueAt, key: o.key ?? `test:${++serial}`,
  }, session));
  const set: Record<string, unknown> = {};
  if (o.status === 'paid') Object.assign(set, { status: 'paid', paidFen: o.amountFen, paidAt: issuedAt });
  if (o.status === 'overdue') Object.assign(set, { status: 'overdue', overdueAt: o.dueAt });
  if (o.paidFen !== undefined) set.paidFen = o.paidFen;
  if (Object.keys(set).length) await Invoice.updateOne({ _id: invoice._id }, { $set: set });
  return (await Invoice.findById(invoice._id).lean())!;
}
