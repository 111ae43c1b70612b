/**
 * SME size classes (中小微企业划型) under 《中小企业划型标准规定》
 * 工信部联企业〔2011〕300号, for the sectors the exchange serves. Only SMEs may
 * take pay-later licences, so this decides eligibility; the reason it returns
 * is shown to the enterprise, hence the i18n key and parameters.
 *
 * How a class is decided. The standard writes each row as: SME if below
 * EITHER ceiling (或); medium needs BOTH medium lower bounds (且); small needs
 * BOTH small lower bounds (且); micro if below EITHER micro bound (或). Read
 * literally, that leaves two questions:
 *
 * 1. Overlap: a firm meeting the medium bounds also meets the small ones
 *    (e.g. industry, 500 staff, RMB 100 m: SME because 500 < 1000; medium
 *    because 500 ≥ 300 and 100 m ≥ 20 m; also ≥ 20 / ≥ 3 m for small). The
 *    highest class whose lower bounds are all met wins.
 * 2. Gaps: an SME meeting none of medium/small/micro. The national statistics
 *    bureau's rule for the same table is "大型、中型和小型企业须同时满足所列指标的
 *    下限，否则下划一档；微型企业只须满足所列指标中的一项即可"
 *    (https://www.stats.gov.cn/hd/lyzx/zxgk/202405/t20240524_1953570.html):
 *    failing a class's lower bounds drops the firm one class. We apply exactly
 *    that: not_sme (= meets both ceilings) → medium → small → otherwise micro.
 *    In every 2011 row the micro bounds are the very numbers of the small lower
 *    bounds, so "not small" and "below either micro bound" coincide and no gap
 *    exists; the table below stores them once (`micro` is `small`) so the two
 *    cannot drift apart if the table is ever edited.
 *
 * Consequence worth knowing: because SME status needs only ONE ceiling, an
 * industrial firm with 5,000 staff but RMB 10 m revenue is an SME, and small.
 *
 * Boundaries are exact: the standard's "以上" includes the number, "以下"
 * excludes it, so lower bounds use ≥ and ceilings/micro bounds use <.
 */

export const SME_SIZE_STANDARD = '工信部联企业〔2011〕300号';

export const SECTORS = [
  'industry',
  'software_it',
  'information_transmission',
  'wholesale',
  'retail',
  /** 其他未列明行业 (incl. scientific research and technical services): employees only. */
  'other',
] as const;
export type SmeSector = (typeof SECTORS)[number];

export type SizeClass = 'medium' | 'small' | 'micro' | 'not_sme';

/**
 * One pair of thresholds. `revenueFen` is annual operating revenue (营业收入)
 * in fen; `null` means the row is judged on employees alone.
 */
export interface SmeBounds {
  readonly employees: number;
  readonly revenueFen: number | null;
}

export interface SmeSizeRow {
  /** SME if employees < this OR revenue < this; meeting both makes the firm large (not_sme). */
  readonly ceiling: SmeBounds;
  /** Medium if employees ≥ AND revenue ≥ these. */
  readonly medium: SmeBounds;
  /** Small if employees ≥ AND revenue ≥ these. */
  readonly small: SmeBounds;
  /** Micro if employees < OR revenue < these; the same object as `small` (see the file comment). */
  readonly micro: SmeBounds;
}

/** 1 万元 = 10,000 yuan = 1,000,000 fen. */
const FEN_PER_WAN = 1_000_000;

function bounds(employees: number, revenueWan: number | null): SmeBounds {
  return Object.freeze({ employees, revenueFen: revenueWan === null ? null : revenueWan * FEN_PER_WAN });
}

function row(ceiling: SmeBounds, medium: SmeBounds, small: SmeBounds): SmeSizeRow {
  return Object.freeze({ ceiling, medium, small, micro: small });
}

/** The 2011 table (revenue written in 万元 as in the standard, stored in fen). */
export const SME_SIZE_TABLE_2011: Readonly<Record<SmeSector, SmeSizeRow>> = Object.freeze({
  industry: row(bounds(1000, 40_000), bounds(300, 2_000), bounds(20, 300)),
  software_it: row(bounds(300, 10_000), bounds(100, 1_000), bounds(10, 50)),
  information_transmission: row(bounds(2000, 100_000), bounds(100, 1_000), bounds(10, 100)),
  wholesale: row(bounds(200, 40_000), bounds(20, 5_000), bounds(5, 1_000)),
  retail: row(bounds(300, 20_000), bounds(50, 500), bounds(10, 100)),
  other: row(bounds(100, null), bounds(50, null), bounds(10, null)),
});

export interface SmeInput {
  sector: SmeSector;
  /** 从业人员: a whole number ≥ 0. */
  employees: number;
  /** 营业收入 for the year, in whole fen (1 万元 = 1,000,000 fen). */
  annualRevenueFen: number;
}

export const SME_REASON_KEYS = [
  'sme.reason.not_sme',
  'sme.reason.not_sme_employees_only',
  'sme.reason.medium',
  'sme.reason.medium_employees_only',
  'sme.reason.small',
  'sme.reason.small_employees_only',
  'sme.reason.micro_employees',
  'sme.reason.micro_revenue',
  'sme.reason.micro_both',
] as const;
export type SmeReasonKey = (typeof SME_REASON_KEYS)[number];

export interface SmeClassification {
  sizeClass: SizeClass;
  reason: { key: SmeReasonKey; params: Record<string, string | number> };
}

/*
 * Templates use {name} placeholders. Every reason carries the firm's values:
 * employees, revenueFen, revenueWan (万元, for zh) and revenueMillion (million
 * yuan, for en); revenue figures are exact decimal strings, never rounded,
 * so "1999.999999 万元，低于 2000 万元" can never print as "2000 … below 2000".
 * Thresholds: *Min for "at least" (not_sme/medium/small), *Limit for micro.
 */
const ZH_EMP_MIN = '从业人员 {employees} 人，不少于 {employeesMin} 人';
const ZH_REV_MIN = '营业收入 {revenueWan} 万元，不低于 {revenueMinWan} 万元';
const ZH_EMP_LIMIT = '从业人员 {employees} 人，少于 {employeesLimit} 人';
const ZH_REV_LIMIT = '营业收入 {revenueWan} 万元，低于 {revenueLimitWan} 万元';
const EN_EMP_MIN = '{employees} employees, at least {employeesMin}';
const EN_REV_MIN = 'revenue CNY {revenueMillion} million, at least CNY {revenueMinMillion} million';
const EN_EMP_LIMIT = '{employees} employees, fewer than {employeesLimit}';
const EN_REV_LIMIT = 'revenue CNY {revenueMillion} million, below CNY {revenueLimitMillion} million';

export const SME_REASON_TEMPLATES: Readonly<Record<'zh-CN' | 'en', Readonly<Record<SmeReasonKey, string>>>> =
  Object.freeze({
    'zh-CN': Object.freeze({
      'sme.reason.not_sme': `非中小微企业：${ZH_EMP_MIN}；${ZH_REV_MIN}`,
      'sme.reason.not_sme_employees_only': `非中小微企业：${ZH_EMP_MIN}`,
      'sme.reason.medium': `中型企业：${ZH_EMP_MIN}；${ZH_REV_MIN}`,
      'sme.reason.medium_employees_only': `中型企业：${ZH_EMP_MIN}`,
      'sme.reason.small': `小型企业：${ZH_EMP_MIN}；${ZH_REV_MIN}`,
      'sme.reason.small_employees_only': `小型企业：${ZH_EMP_MIN}`,
      'sme.reason.micro_employees': `微型企业：${ZH_EMP_LIMIT}`,
      'sme.reason.micro_revenue': `微型企业：${ZH_REV_LIMIT}`,
      'sme.reason.micro_both': `微型企业：${ZH_EMP_LIMIT}；${ZH_REV_LIMIT}`,
    }),
    en: Object.freeze({
      'sme.reason.not_sme': `Not an SME: ${EN_EMP_MIN}; ${EN_REV_MIN}`,
      'sme.reason.not_sme_employees_only': `Not an SME: ${EN_EMP_MIN}`,
      'sme.reason.medium': `Medium: ${EN_EMP_MIN}; ${EN_REV_MIN}`,
      'sme.reason.medium_employees_only': `Medium: ${EN_EMP_MIN}`,
      'sme.reason.small': `Small: ${EN_EMP_MIN}; ${EN_REV_MIN}`,
      'sme.reason.small_employees_only': `Small: ${EN_EMP_MIN}`,
      'sme.reason.micro_employees': `Micro: ${EN_EMP_LIMIT}`,
      'sme.reason.micro_revenue': `Micro: ${EN_REV_LIMIT}`,
      'sme.reason.micro_both': `Micro: ${EN_EMP_LIMIT}; ${EN_REV_LIMIT}`,
    }),
  });

/**
 * Exact decimal string for fen / 10^exponent, trailing zeros dropped
 * (fen 150_000_000, exponent 6 → "150"). String arithmetic instead of
 * division so tiny values never print as "1e-8".
 */
function fenAsDecimal(fen: number, exponent: number): string {
  const digits = String(fen).padStart(exponent + 1, '0');
  const whole = digits.slice(0, -exponent);
  const fraction = digits.slice(-exponent).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

const asWan = (fen: number) => fenAsDecimal(fen, 6);
const asMillion = (fen: number) => fenAsDecimal(fen, 8);

function assertWholeNumber(name: string, value: unknown): asserts value is number {
  // Safe integers only: above 2^53 the value can no longer be compared exactly.
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a whole number ≥ 0 (got ${String(value)})`);
  }
}

/** Classify an enterprise; throws RangeError on an unknown sector or a bad count/amount. */
export function classifySme(input: SmeInput): SmeClassification {
  const { sector, employees, annualRevenueFen: revenue } = input;
  if (!(SECTORS as readonly string[]).includes(sector)) {
    throw new RangeError(`sector must be one of ${SECTORS.join(', ')} (got ${String(sector)})`);
  }
  assertWholeNumber('employees', employees);
  assertWholeNumber('annualRevenueFen', revenue);

  const table = SME_SIZE_TABLE_2011[sector];
  const employeesOnly = table.ceiling.revenueFen === null;
  const values = { employees, revenueFen: revenue, revenueWan: asWan(revenue), revenueMillion: asMillion(revenue) };
  const meets = (b: SmeBounds) => employees >= b.employees && (b.revenueFen === null || revenue >= b.revenueFen);

  // Highest class whose lower bounds are all met; failing them drops one class (下划一档).
  const tiers = [
    ['not_sme', table.ceiling],
    ['medium', table.medium],
    ['small', table.small],
  ] as const;
  for (const [sizeClass, b] of tiers) {
    if (!meets(b)) continue;
    const params: Record<string, string | number> = { ...values, employeesMin: b.employees };
    if (b.revenueFen !== null) {
      params.revenueMinWan = asWan(b.revenueFen);
      params.revenueMinMillion = asMillion(b.revenueFen);
    }
    const key = `sme.reason.${sizeClass}${employeesOnly ? '_employees_only' : ''}` as SmeReasonKey;
    return { sizeClass, reason: { key, params } };
  }

  // Not small ⇔ below at least one micro bound (micro === small); say which.
  const limit = table.micro;
  const fewStaff = employees < limit.employees;
  const lowRevenue = limit.revenueFen !== null && revenue < limit.revenueFen;
  const params: Record<string, string | number> = { ...values };
  if (fewStaff) params.employeesLimit = limit.employees;
  if (lowRevenue) {
    params.revenueLimitWan = asWan(limit.revenueFen!);
    params.revenueLimitMillion = asMillion(limit.revenueFen!);
  }
  const key: SmeReasonKey = fewStaff && lowRevenue
    ? 'sme.reason.micro_both'
    : fewStaff
      ? 'sme.reason.micro_employees'
      : 'sme.reason.micro_revenue';
  return { sizeClass: 'micro', reason: { key, params } };
}
