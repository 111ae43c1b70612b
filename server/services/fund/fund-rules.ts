/**
 * The fund's rules as versions (models/fund-rules.ts). `rulesInForce(at)` is
 * the version whose effectiveFrom is the latest at or before `at`: a claim
 * is judged by the rules in force when its licence started, a subsidy by
 * those in force in its quarter.
 */
import type { ClientSession } from 'mongoose';
import { FundRules, type FundRulesAttrs } from '../../../models/fund-rules.js';

export type Rules = FundRulesAttrs & { _id: unknown };

/**
 * The first version, written on an empty database (seed, first start):
 * 70 % of the unrecovered amount as in Jiangsu's 苏科贷 scheme, capped at
 * RMB 2 m per licence (Jinhua Jindong's per-borrower cap), default after 90
 * days overdue, new cover suspended above a 5 % loss rate; micro
 * enterprises get 10 % of royalties paid back, small ones 5 %.
 * See ../shared/reference/domain.md §3.
 */
export const INITIAL_RULES = {
  version: 1,
  effectiveFrom: new Date('2025-01-01T00:00:00+08:00'),
  compensationBps: 7_000,
  capPerLicenceFen: 200_000_000,
  capPerLicenseeFen: 300_000_000,
  capPerYearFen: 5_000_000_000,
  daysOverdueBeforeDefault: 90,
  lossRateCapBps: 500,
  subsidyMicroBps: 1_000,
  subsidySmallBps: 500,
  subsidyCapPerLicenseePerYearFen: 10_000_000,
  funders: [
    { name: '上海市财政局 Shanghai Municipal Finance Bureau', shareBps: 2_500 },
    { name: '江苏省财政厅 Jiangsu Provincial Department of Finance', shareBps: 2_500 },
    { name: '浙江省财政厅 Zhejiang Provincial Department of Finance', shareBps: 2_500 },
    { name: '安徽省财政厅 Anhui Provincial Department of Finance', shareBps: 2_500 },
  ],
  reason: 'Initial rules 初始规则',
};

/** Writes version 1 unless some version exists (safe to run twice or concurrently: version is unique). */
export async function ensureInitialRules(): Promise<void> {
  if (await FundRules.exists({})) return;
  try {
    await FundRules.create({ ...INITIAL_RULES, createdAt: new Date() });
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
  }
}

export async function rulesInForce(at: Date, session?: ClientSession): Promise<Rules | null> {
  return FundRules.findOne({ effectiveFrom: { $lte: at } }).sort({ effectiveFrom: -1, version: -1 }).session(session ?? null).lean<Rules>();
}

export async function rulesVersion(version: number, session?: ClientSession): Promise<Rules | null> {
  return FundRules.findOne({ version }).session(session ?? null).lean<Rules>();
}

export async function listRules(): Promise<Rules[]> {
  return FundRules.find().sort({ version: -1 }).lean<Rules[]>();
}
