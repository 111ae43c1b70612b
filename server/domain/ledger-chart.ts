/**
 * The fund's chart of accounts (../shared/reference/ledger.md §3). An
 * account is named by a key; its defining fields — normal side, balance
 * constraint, kind and owner — follow from the key's pattern and are frozen
 * when the account is first used. A key that matches no pattern is not an
 * account: postings to it are refused.
 *
 * Two books share the one CNY ledger, each balanced on its own:
 * - fund books: bank, pool, payables, the subrogation memo pair;
 * - royalty books: what licensees owe institutions, what was paid, what fell
 *   into default, and the clearing account cash passes through.
 */

export const LEDGER = 'CNY';

export const TRANSFER_CODES = [
  'APPROPRIATION', 'ACCRUAL', 'PAYMENT', 'DEFAULT', 'COMPENSATION', 'SUBSIDY', 'RECOVERY', 'WRITE_OFF', 'REVERSAL', 'PAYOUT',
] as const;
export type TransferCode = (typeof TRANSFER_CODES)[number];

/** none; pool-like (Σdebits posted+pending ≤ Σcredits posted); receivable-like (Σcredits posted+pending ≤ Σdebits posted). */
export type BalanceConstraint = 'none' | 'debits_must_not_exceed_credits' | 'credits_must_not_exceed_debits';

export const ACCOUNT_KINDS = [
  'fund_bank', 'fund_pool', 'comp_payable', 'subsidy_payable', 'recovery_rights', 'recovery_rights_offset', 'suspense',
  'receivable', 'overdue', 'licensee_credit', 'royalty_revenue', 'settled', 'bad_debt', 'clearing',
] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

export interface AccountSpec {
  key: string;
  kind: AccountKind;
  normal: 'debit' | 'credit';
  constraint: BalanceConstraint;
  book: 'fund' | 'royalty';
  /** The organisation, licence or claim the account belongs to (hex ObjectId), when it has one. */
  owner: { type: 'organization' | 'licence' | 'claim'; id: string } | null;
  /** Must net to zero (clearing and suspense): a standing balance is a reconciliation break. */
  zeroAtClose: boolean;
}

const OID = '([0-9a-f]{24})';

interface Pattern {
  re: RegExp;
  spec: Omit<AccountSpec, 'key' | 'owner'> & { ownerType?: 'organization' | 'licence' | 'claim' };
}

const PATTERNS: Pattern[] = [
  { re: /^fund:bank$/, spec: { kind: 'fund_bank', normal: 'debit', constraint: 'none', book: 'fund', zeroAtClose: false } },
  { re: /^fund:pool$/, spec: { kind: 'fund_pool', normal: 'credit', constraint: 'debits_must_not_exceed_credits', book: 'fund', zeroAtClose: false } },
  { re: new RegExp(`^fund:comp_payable:${OID}$`), spec: { kind: 'comp_payable', normal: 'credit', constraint: 'debits_must_not_exceed_credits', book: 'fund', zeroAtClose: false, ownerType: 'organization' } },
  { re: new RegExp(`^fund:subsidy_payable:${OID}$`), spec: { kind: 'subsidy_payable', normal: 'credit', constraint: 'debits_must_not_exceed_credits', book: 'fund', zeroAtClose: false, ownerType: 'organization' } },
  { re: new RegExp(`^fund:recovery_rights:${OID}$`), spec: { kind: 'recovery_rights', normal: 'debit', constraint: 'credits_must_not_exceed_debits', book: 'fund', zeroAtClose: false, ownerType: 'claim' } },
  { re: /^fund:recovery_rights_offset$/, spec: { kind: 'recovery_rights_offset', normal: 'credit', constraint: 'debits_must_not_exceed_credits', book: 'fund', zeroAtClose: false } },
  { re: /^fund:suspense$/, spec: { kind: 'suspense', normal: 'debit', constraint: 'none', book: 'fund', zeroAtClose: true } },
  { re: new RegExp(`^royalty:receivable:${OID}$`), spec: { kind: 'receivable', normal: 'debit', constraint: 'credits_must_not_exceed_debits', book: 'royalty', zeroAtClose: false, ownerType: 'licence' } },
  { re: new RegExp(`^royalty:overdue:${OID}$`), spec: { kind: 'overdue', normal: 'debit', constraint: 'credits_must_not_exceed_debits', book: 'royalty', zeroAtClose: false, ownerType: 'licence' } },
  { re: new RegExp(`^royalty:licensee_credit:${OID}$`), spec: { kind: 'licensee_credit', normal: 'credit', constraint: 'debits_must_not_exceed_credits', book: 'royalty', zeroAtClose: false, ownerType: 'organization' } },
  { re: new RegExp(`^univ:${OID}:royalty_revenue$`), spec: { kind: 'royalty_revenue', normal: 'credit', constraint: 'none', book: 'royalty', zeroAtClose: false, ownerType: 'organization' } },
  { re: new RegExp(`^univ:${OID}:settled$`), spec: { kind: 'settled', normal: 'debit', constraint: 'none', book: 'royalty', zeroAtClose: false, ownerType: 'organization' } },
  { re: new RegExp(`^univ:${OID}:bad_debt$`), spec: { kind: 'bad_debt', normal: 'debit', constraint: 'none', book: 'royalty', zeroAtClose: false, ownerType: 'organization' } },
  { re: /^clearing:settlement$/, spec: { kind: 'clearing', normal: 'debit', constraint: 'none', book: 'royalty', zeroAtClose: true } },
];

/** The account a key names, or null when the key is not in the chart. */
export function accountSpec(key: string): AccountSpec | null {
  for (const { re, spec } of PATTERNS) {
    const m = re.exec(key);
    if (!m) continue;
    const { ownerType, ...rest } = spec;
    return { key, ...rest, owner: ownerType && m[1] ? { type: ownerType, id: m[1] } : null };
  }
  return null;
}

/** Key builders, so services never spell account keys by hand. */
export const acct = {
  bank: () => 'fund:bank',
  pool: () => 'fund:pool',
  compPayable: (org: unknown) => `fund:comp_payable:${String(org)}`,
  subsidyPayable: (org: unknown) => `fund:subsidy_payable:${String(org)}`,
  recoveryRights: (claim: unknown) => `fund:recovery_rights:${String(claim)}`,
  recoveryOffset: () => 'fund:recovery_rights_offset',
  suspense: () => 'fund:suspense',
  receivable: (licence: unknown) => `royalty:receivable:${String(licence)}`,
  overdue: (licence: unknown) => `royalty:overdue:${String(licence)}`,
  licenseeCredit: (org: unknown) => `royalty:licensee_credit:${String(org)}`,
  revenue: (org: unknown) => `univ:${String(org)}:royalty_revenue`,
  settled: (org: unknown) => `univ:${String(org)}:settled`,
  badDebt: (org: unknown) => `univ:${String(org)}:bad_debt`,
  clearing: () => 'clearing:settlement',
};

export interface Totals {
  debitsPosted: number;
  creditsPosted: number;
  debitsPending: number;
  creditsPending: number;
}

export const ZERO_TOTALS: Totals = Object.freeze({ debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 });

/** Balance on the account's normal side (posted only). */
export function postedBalance(normal: 'debit' | 'credit', t: Totals): number {
  return normal === 'debit' ? t.debitsPosted - t.creditsPosted : t.creditsPosted - t.debitsPosted;
}

/** What is still free to commit: posted balance less pending outflows (for a pool, pending debits). */
export function availableBalance(normal: 'debit' | 'credit', t: Totals): number {
  return normal === 'debit' ? t.debitsPosted - t.creditsPosted - t.creditsPending : t.creditsPosted - t.debitsPosted - t.debitsPending;
}

/** The constraint's headroom after a change: negative means violated. */
export function constraintHeadroom(constraint: BalanceConstraint, t: Totals): number {
  if (constraint === 'debits_must_not_exceed_credits') return t.creditsPosted - t.debitsPosted - t.debitsPending;
  if (constraint === 'credits_must_not_exceed_debits') return t.debitsPosted - t.creditsPosted - t.creditsPending;
  return Number.POSITIVE_INFINITY;
}
