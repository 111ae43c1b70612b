/**
 * The licence and invoice state machines as explicit transition tables: a
 * transition not listed here does not exist, and services move states only
 * through `assertTransition`, so an illegal state cannot be written.
 *
 * Licence (DESIGN.md "Licence"; Patent Law Arts. 50–52 for open licences):
 * - open: `notified` (written notice given, entry fee unpaid) → `active`
 *   (paying as declared) → `completed` | `expired`; or `active` at once when
 *   nothing is due up front.
 * - deferred (use first, pay later): `applied` → `rejected` | `active_free`;
 *   the free period ends by the trigger → `payment_due` → `paying` →
 *   `completed`; the SME may leave in the free period (`terminated_by_licensee`,
 *   owing nothing) or convert (`converted`).
 * - negotiated: `requested` → `proposed` → `active` | `declined`.
 * - the default path: `in_arrears` → `defaulted` → `claimed` → `compensated`
 *   → `recovering` → `recovered` | `written_off` (claims are issue 6).
 * - a patent that lapses ends its live licences (`ended_patent_lapsed`).
 */
import { ConflictError } from '../errors.js';

export const LICENCE_STATES = [
  'requested', 'proposed', 'declined', 'applied', 'rejected', 'notified', 'active_free', 'payment_due', 'active', 'paying',
  'completed', 'expired', 'terminated_by_licensee', 'converted', 'in_arrears', 'defaulted', 'claimed', 'compensated',
  'recovering', 'recovered', 'written_off', 'ended_patent_lapsed',
] as const;
export type LicenceState = (typeof LICENCE_STATES)[number];

/** Live licences: the patent is in use under them and they can fall into arrears or end by lapse. */
export const LIVE_LICENCE_STATES: readonly LicenceState[] = ['notified', 'active_free', 'payment_due', 'active', 'paying', 'in_arrears'];

const LAPSE: LicenceState = 'ended_patent_lapsed';

export const LICENCE_TRANSITIONS: Readonly<Record<LicenceState, readonly LicenceState[]>> = {
  requested: ['proposed', 'declined'],
  proposed: ['active', 'declined'],
  declined: [],
  applied: ['active_free', 'rejected'],
  rejected: [],
  notified: ['active', LAPSE],
  active_free: ['payment_due', 'terminated_by_licensee', 'converted', LAPSE, 'expired'],
  payment_due: ['paying', 'in_arrears', 'completed', LAPSE],
  active: ['paying', 'in_arrears', 'completed', 'expired', LAPSE],
  paying: ['completed', 'in_arrears', 'expired', LAPSE],
  completed: [],
  expired: [],
  terminated_by_licensee: [],
  converted: [],
  in_arrears: ['paying', 'active', 'defaulted', LAPSE],
  defaulted: ['claimed', 'recovering', 'written_off'],
  claimed: ['compensated', 'defaulted'],
  compensated: ['recovering', 'written_off'],
  recovering: ['recovered', 'written_off'],
  recovered: [],
  written_off: [],
  ended_patent_lapsed: [],
};

export const INVOICE_STATUSES = ['open', 'paid', 'overdue', 'defaulted', 'written_off', 'void'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/** `open → paid`; `open → overdue → defaulted`; a late full payment settles an overdue invoice; `void` cancels an unpaid one (e.g. the SME left in its free period). */
export const INVOICE_TRANSITIONS: Readonly<Record<InvoiceStatus, readonly InvoiceStatus[]>> = {
  open: ['paid', 'overdue', 'void'],
  overdue: ['paid', 'defaulted', 'written_off'],
  defaulted: ['paid', 'written_off'],
  paid: [],
  written_off: [],
  void: [],
};

export function canTransition<S extends string>(table: Readonly<Record<S, readonly S[]>>, from: S, to: S): boolean {
  return table[from]?.includes(to) ?? false;
}

/** Throws 409 with both states named unless the table lists `from → to`. */
export function assertLicenceTransition(from: LicenceState, to: LicenceState): void {
  if (!canTransition(LICENCE_TRANSITIONS, from, to)) throw new ConflictError('licence.transition.illegal', { from, to });
}

export function assertInvoiceTransition(from: InvoiceStatus, to: InvoiceStatus): void {
  if (!canTransition(INVOICE_TRANSITIONS, from, to)) throw new ConflictError('invoice.transition.illegal', { from, to });
}
