/**
 * Reading claims: who may see which (the claim's institution's TTOs, fund
 * managers and regulators; nobody else), the list, the evidence files, and
 * the dossier — everything a reviewer or an auditor needs about one claim
 * in one document: the licence and parties, the invoices with reminders and
 * default dates, the licence's licensing events, the evidence with SHA-256,
 * the computation with every input and the binding limit, maker and checker
 * with times and reasons, the claim's ledger transfers with seq and hash,
 * payments, recoveries and any write-off.
 *
 * The JSON and CSV exports are built from that document alone, with fixed
 * key order and no time of export, so the same claim in the same state
 * always gives the same bytes — an auditor can diff two copies or hash one.
 */
import { Types, type ClientSession } from 'mongoose';
import { ClaimEvidence } from '../../../models/claim-evidence.js';
import { CLAIM_STATES, FundClaim, type ClaimState } from '../../../models/fund-claim.js';
import { FundCover } from '../../../models/fund-cover.js';
import { Invoice } from '../../../models/invoice.js';
import { LedgerTransfer } from '../../../models/ledger-transfer.js';
import { Licence } from '../../../models/licence.js';
import { LicensingEvent } from '../../../models/licensing-event.js';
import { Organization } from '../../../models/organization.js';
import { Payment } from '../../../models/payment.js';
import { User } from '../../../models/user.js';
import { AppError, NotFoundError } from '../../errors.js';
import { requireRole, type Actor, type Ctx } from '../context.js';
import { toCsv } from '../dashboards-csv.js';
import { EVIDENCE_MAX_FILES, evidenceList } from './claim-evidence.js';
import { assertClaimable, assertSomethingToOffer, defaultedLoss, offerFor, ownLicence, type ClaimOffer } from './claims.js';
import { assertWriteOffOpen, writeOffAmounts } from './write-offs.js';

/** The claim if `actor` may read it: 404 for another institution's TTO (its claims are not theirs to know of). */
export async function readableClaim(ctx: Ctx, id: string, session?: ClientSession) {
  const actor = requireRole(ctx, 'tto', 'fund_manager', 'regulator');
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('fund.claim.not_found');
  const claim = await FundClaim.findById(id).session(session ?? null).lean();
  if (!claim || (actor.role === 'tto' && !claim.licensor.equals(actor.orgId))) throw new NotFoundError('fund.claim.not_found');
  return { actor, claim };
}

/** Claims by state, newest first: a TTO's institution's own, everyone's for the fund manager and regulators. */
export async function listClaims(ctx: Ctx, q: { state?: string | null }) {
  const actor = requireRole(ctx, 'tto', 'fund_manager', 'regulator');
  const own = actor.role === 'tto' ? { licensor: actor.orgId } : {};
  const state = CLAIM_STATES.find((s) => s === q.state) ?? null;
  const [claims, byState] = await Promise.all([
    FundClaim.find({ ...own, ...(state && { state: { $eq: state } }) }).sort({ updatedAt: -1 }).limit(200)
      .select('number licence licensor licensee lossFen compensationFen approvedFen state filedAt submittedAt decidedAt paidAt').lean(),
    FundClaim.aggregate<{ _id: ClaimState; n: number }>([{ $match: own }, { $group: { _id: '$state', n: { $sum: 1 } } }]),
  ]);
  const orgIds = [...new Set(claims.flatMap((c) => [String(c.licensor), String(c.licensee)]))];
  const orgs = new Map((await Organization.find({ _id: { $in: orgIds } }).select('nameZh nameEn').lean()).map((o) => [String(o._id), o]));
  const licences = new Map((await Licence.find({ _id: { $in: claims.map((c) => c.licence) } }).select('number').lean()).map((l) => [String(l._id), l.number]));
  const counts = Object.fromEntries(byState.map((s) => [s._id, s.n]));
  return {
    actor, state,
    states: CLAIM_STATES.map((s) => ({ state: s, count: counts[s] ?? 0, current: s === state })),
    claims: claims.map((c) => ({ ...c, licensorOrg: orgs.get(String(c.licensor)) ?? null, licenseeOrg: orgs.get(String(c.licensee)) ?? null, licenceNumber: licences.get(String(c.licence)) ?? '' })),
  };
}

/** One evidence file's bytes, for the same readers as the claim. */
export async function evidenceFile(ctx: Ctx, claimId: string, evidenceId: string) {
  const { claim } = await readableClaim(ctx, claimId);
  if (!Types.ObjectId.isValid(evidenceId)) throw new NotFoundError('fund.claim.evidence_not_found');
  const file = await ClaimEvidence.findOne({ _id: evidenceId, claim: claim._id }).lean();
  if (!file) throw new NotFoundError('fund.claim.evidence_not_found');
  // A lean read gives the driver's Binary; value() is a view of exactly its bytes.
  const raw = file.data as unknown as Buffer | { value(): Uint8Array };
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.value());
  return { name: file.name, contentType: file.contentType, data: bytes };
}

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

type UserRef = { id: string; name: string; email: string } | null;

/**
 * The dossier of a claim as plain data in a fixed shape and order (see the
 * header); the page, the JSON and the CSV are all views of it.
 */
export async function buildDossier(claimId: Types.ObjectId) {
  const claim = (await FundClaim.findById(claimId).lean())!;
  const licence = await Licence.findById(claim.licence).lean();
  const orgs = new Map((await Organization.find({ _id: { $in: [claim.licensor, claim.licensee] } }).select('nameZh nameEn region enterprise.sizeClass').lean()).map((o) => [String(o._id), o]));
  const party = (id: unknown) => {
    const o = orgs.get(String(id));
    return { id: String(id), nameZh: o?.nameZh ?? '', nameEn: o?.nameEn ?? '', region: o?.region ?? null, sizeClass: o?.enterprise?.sizeClass ?? null };
  };
  const cover = await FundCover.findOne({ licence: claim.licence }).lean();
  const invoices = await Invoice.find({ licence: claim.licence }).sort({ dueAt: 1, _id: 1 }).lean();
  const events = await LicensingEvent.find({ licence: claim.licence }).sort({ occurredAt: 1, _id: 1 }).lean();
  const evidence = await evidenceList(claim._id);
  const payments = await Payment.find({ invoice: { $in: invoices.map((i) => i._id) } }).sort({ createdAt: 1, _id: 1 }).lean();
  // The claim's own transfers, and the licence's defaults and recoveries: two indexed queries (the store plans no $or).
  const own = await LedgerTransfer.find({ 'refs.claim': String(claim._id) }).lean();
  // (By licence alone, codes filtered here: with the code in the filter the store could pick the code index and scan every default.)
  const licenceWide = (await LedgerTransfer.find({ 'refs.licence': String(claim.licence) }).lean()).filter((t) => t.code === 'DEFAULT' || t.code === 'RECOVERY');
  const transfers = [...new Map([...own, ...licenceWide].map((t) => [t.seq, t])).values()].sort((a, b) => a.seq - b.seq);
  const userIds = [claim.filedBy, claim.submittedBy, claim.decidedBy, claim.writeOff?.proposedBy, claim.writeOff?.decidedBy, ...claim.history.map((h) => h.by), ...evidence.map((e) => e.uploadedBy)].filter(Boolean);
  const users = new Map((await User.find({ _id: { $in: userIds } }).select('name email').lean()).map((u) => [String(u._id), u]));
  const user = (id: unknown): UserRef => {
    if (!id) return null;
    const u = users.get(String(id));
    return { id: String(id), name: u?.name ?? '', email: u?.email ?? '' };
  };
  const numberOf = new Map(invoices.map((i) => [String(i._id), i.number]));
  const w = claim.writeOff;
  return {
    format: 'yrd-claim-dossier/1',
    claim: {
      id: String(claim._id), number: claim.number, state: claim.state, lossFen: claim.lossFen, statement: claim.statement,
      compensationFen: claim.compensationFen, approvedFen: claim.approvedFen, recoveredFen: claim.recoveredFen, writtenOffFen: claim.writtenOffFen,
      filedBy: user(claim.filedBy), filedAt: iso(claim.filedAt), invoices: claim.invoices.map((i) => numberOf.get(String(i)) ?? String(i)),
    },
    licence: licence && {
      id: String(licence._id), number: licence.number, kind: licence.kind, state: licence.state, effectiveAt: iso(licence.effectiveAt), endsAt: iso(licence.endsAt),
      patent: { applicationNumber: licence.snapshot?.applicationNumber ?? '', titleZh: licence.snapshot?.patentTitleZh ?? '' },
    },
    licensor: party(claim.licensor),
    licensee: party(claim.licensee),
    cover: cover && { covered: cover.covered, reason: cover.reason, rulesVersion: cover.rulesVersion ?? null, decidedAt: iso(cover.decidedAt) },
    invoices: invoices.map((i) => ({
      id: String(i._id), number: i.number, kind: i.kind, amountFen: i.amountFen, paidFen: i.paidFen, outstandingFen: Math.max(0, i.amountFen - i.paidFen), status: i.status,
      issuedAt: iso(i.issuedAt), dueAt: iso(i.dueAt), overdueAt: iso(i.overdueAt), defaultedAt: iso(i.defaultedAt), remindersSent: [...(i.remindersSent ?? [])],
    })),
    events: events.map((e) => ({ type: e.type, key: e.key, occurredAt: iso(e.occurredAt), invoice: e.invoice ? numberOf.get(String(e.invoice)) ?? String(e.invoice) : null, amountFen: e.amountFen ?? 0 })),
    evidence: evidence.map((e) => ({ id: String(e._id), name: e.name, contentType: e.contentType, size: e.size, sha256: e.sha256, uploadedAt: iso(e.uploadedAt), uploadedBy: user(e.uploadedBy) })),
    computation: claim.computation ?? null,
    maker: claim.submittedBy ? { user: user(claim.submittedBy), at: iso(claim.submittedAt), pendingSeq: claim.pendingSeq ?? null } : null,
    checker: claim.decidedBy ? { user: user(claim.decidedBy), at: iso(claim.decidedAt), reason: claim.decisionReason, postSeq: claim.postSeq ?? null } : null,
    payout: claim.paidAt ? { at: iso(claim.paidAt), seq: claim.payoutSeq ?? null, amountFen: claim.approvedFen } : null,
    writeOff: w && {
      state: w.state, proposedBy: user(w.proposedBy), proposedAt: iso(w.proposedAt), reason: w.reason, overdueFen: w.overdueFen, rightsFen: w.rightsFen,
      pendingSeq: w.pendingSeq, decidedBy: user(w.decidedBy), decidedAt: iso(w.decidedAt), decisionReason: w.decisionReason, postSeq: w.postSeq ?? null,
    },
    history: claim.history.map((h) => ({ at: iso(h.at), by: user(h.by), from: h.from ?? null, to: h.to, reason: h.reason ?? '' })),
    transfers: transfers.map((t) => ({
      seq: t.seq, key: t.key, code: t.code, phase: t.phase, pendingSeq: t.pendingSeq ?? null, reverses: t.reverses ?? null,
      entries: t.entries.map((e) => ({ account: e.account, side: e.side, amountFen: e.amountFen })), memo: t.memo ?? '',
      maker: t.maker ?? null, checker: t.checker ?? null, effectiveAt: iso(t.effectiveAt), recordedAt: iso(t.recordedAt), prevHash: t.prevHash, hash: t.hash,
    })),
    payments: payments.map((p) => ({
      id: String(p._id), invoice: numberOf.get(String(p.invoice)) ?? String(p.invoice), provider: p.provider, amountFen: p.amountFen, appliedFen: p.appliedFen,
      status: p.status, reference: p.providerRef, at: iso(p.createdAt),
    })),
    recoveries: transfers.filter((t) => t.code === 'RECOVERY').map((t) => t.seq),
  };
}

export type Dossier = Awaited<ReturnType<typeof buildDossier>>;

export async function claimDossier(ctx: Ctx, id: string): Promise<{ actor: Actor; dossier: Dossier }> {
  const { actor, claim } = await readableClaim(ctx, id);
  return { actor, dossier: await buildDossier(claim._id) };
}

/** The dossier as JSON text: two-space indented, keys in the document's fixed order. */
export function dossierJson(d: Dossier): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

/** Every leaf of the dossier as one `path,value` row, in document order (arrays by index). */
export function dossierCsv(d: Dossier): Buffer {
  const rows: (string | number | null)[][] = [];
  const walk = (v: unknown, path: string): void => {
    if (v === null || v === undefined || typeof v !== 'object') {
      rows.push([path, v === null || v === undefined ? '' : typeof v === 'number' ? v : String(v)]);
      return;
    }
    if (Array.isArray(v)) {
      if (!v.length) rows.push([path, '']);
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
      return;
    }
    for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
  };
  walk(d, '');
  return toCsv(['path', 'value'], rows);
}

/**
 * The claim page: the dossier, what the reader may do now (services check
 * again), and for the fund manager what submitting or writing off would
 * book at this moment.
 */
export async function claimPage(ctx: Ctx, id: string, now = new Date()) {
  const { actor, claim } = await readableClaim(ctx, id);
  const dossier = await buildDossier(claim._id);
  const me = actor.userId;
  const licenceState = dossier.licence?.state ?? '';
  const state = claim.state as ClaimState;
  const actions = {
    addEvidence: actor.role === 'tto' && state === 'filed' && dossier.evidence.length < EVIDENCE_MAX_FILES,
    submit: actor.role === 'fund_manager' && state === 'filed',
    decide: actor.role === 'regulator' && state === 'submitted' && !claim.submittedBy?.equals(me),
    ownSubmission: actor.role === 'regulator' && state === 'submitted' && !!claim.submittedBy?.equals(me),
    proposeWriteOff: false,
    decideWriteOff: actor.role === 'regulator' && claim.writeOff?.state === 'proposed' && !claim.writeOff.proposedBy.equals(me),
  };
  let offer: ClaimOffer | null = null;
  let offerProblem: AppError | null = null;
  if (actions.submit) {
    try {
      offer = await offerFor(claim, now);
      assertSomethingToOffer(offer);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      offerProblem = err;
    }
  }
  let writeOff: { overdueFen: number; rightsFen: number } | null = null;
  if (actor.role === 'fund_manager') {
    try {
      assertWriteOffOpen(claim, licenceState);
      writeOff = await writeOffAmounts(claim);
      actions.proposeWriteOff = writeOff.overdueFen + writeOff.rightsFen > 0;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
    }
  }
  return { actor, dossier, actions, offer, offerProblem, writeOff };
}

/** The new-claim page for one of the TTO's licences: its defaulted invoices and loss, or why it cannot be claimed for now. */
export async function newClaimPage(ctx: Ctx, licenceId: string) {
  const { licence } = await ownLicence(ctx, licenceId);
  const { invoices, lossFen } = await defaultedLoss(licence._id);
  let obstacle: AppError | null = null;
  try {
    await assertClaimable(licence);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    obstacle = err;
  }
  const licensee = await Organization.findById(licence.licensee).select('nameZh nameEn').lean();
  return { licence: licence.toObject(), licensee, invoices, lossFen, obstacle };
}
