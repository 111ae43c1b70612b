/**
 * Changing the fund's rules: the fund manager proposes a complete new
 * version — never an edit of one in force — with the day it takes effect
 * (today or later, China time, so no claim already judged changes its
 * rules) and the reason, audited. Regulators read the versions.
 *
 * The form speaks as people do: ratios in per cent with up to two decimals
 * (stored as basis points), amounts in yuan (parseYuanToFen), days as whole
 * numbers. Every field is checked and each problem is reported on its own
 * field, naming it; the funders' shares must add up to exactly 100 %.
 * A funder keeps the organisation it was linked to when its name is
 * unchanged from the rules in force.
 */
import mongoose from 'mongoose';
import { FundRules } from '../../../models/fund-rules.js';
import { User } from '../../../models/user.js';
import { parseYuanToFen } from '../../domain/money.js';
import { ValidationError, type FieldError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { requireRole, type Ctx } from '../context.js';
import { INITIAL_RULES, listRules, rulesInForce, type Rules } from './fund-rules.js';
import { cstDay } from './ledger-post.js';

export const MAX_FUNDERS = 8;
const MAX_FEN = 1_000_000_000_000;

type Kind = 'percent' | 'yuan' | 'days';

/** The form's fields: where each goes in FundRules, how it is typed, and the message naming it when wrong. */
const FIELDS: { field: string; attr: keyof Rules; kind: Kind; key: string }[] = [
  { field: 'compensation', attr: 'compensationBps', kind: 'percent', key: 'fund.rules.error.compensation' },
  { field: 'capPerLicence', attr: 'capPerLicenceFen', kind: 'yuan', key: 'fund.rules.error.capPerLicence' },
  { field: 'capPerLicensee', attr: 'capPerLicenseeFen', kind: 'yuan', key: 'fund.rules.error.capPerLicensee' },
  { field: 'capPerYear', attr: 'capPerYearFen', kind: 'yuan', key: 'fund.rules.error.capPerYear' },
  { field: 'daysOverdue', attr: 'daysOverdueBeforeDefault', kind: 'days', key: 'fund.rules.error.daysOverdue' },
  { field: 'lossRateCap', attr: 'lossRateCapBps', kind: 'percent', key: 'fund.rules.error.lossRateCap' },
  { field: 'subsidyMicro', attr: 'subsidyMicroBps', kind: 'percent', key: 'fund.rules.error.subsidyMicro' },
  { field: 'subsidySmall', attr: 'subsidySmallBps', kind: 'percent', key: 'fund.rules.error.subsidySmall' },
  { field: 'subsidyCap', attr: 'subsidyCapPerLicenseePerYearFen', kind: 'yuan', key: 'fund.rules.error.subsidyCap' },
];

export type RulesForm = Record<string, string | undefined>;

/** '12.5' or '12.5%' → 1250 bps; null unless 0–100 with at most two decimals. */
export function parsePercent(raw: string | undefined): number | null {
  const m = /^(\d{1,3})(?:\.(\d{1,2}))?\s*%?$/.exec((raw ?? '').normalize('NFKC').trim());
  if (!m) return null;
  const bps = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return bps <= 10_000 ? bps : null;
}

export const formatPercent = (bps: number) => `${Math.trunc(bps / 100)}${bps % 100 ? `.${String(bps % 100).padStart(2, '0').replace(/0$/, '')}` : ''}`;
const formatYuanPlain = (fen: number) => `${Math.trunc(fen / 100)}${fen % 100 ? `.${String(fen % 100).padStart(2, '0')}` : ''}`;

function parseValue(kind: Kind, raw: string | undefined): number | null {
  if (kind === 'percent') return parsePercent(raw);
  if (kind === 'yuan') {
    const fen = parseYuanToFen(raw ?? '');
    return fen !== null && fen <= MAX_FEN ? fen : null;
  }
  const text = (raw ?? '').normalize('NFKC').trim();
  return /^\d{1,3}$/.test(text) && Number(text) >= 1 && Number(text) <= 720 ? Number(text) : null;
}

/** The form filled in from a version (the one in force, to start a proposal from). */
export function rulesToForm(rules: Pick<Rules, 'funders'> & Partial<Rules>, today: string): Record<string, string> {
  const values: Record<string, string> = { effectiveFrom: today, reason: '' };
  for (const f of FIELDS) {
    const v = rules[f.attr] as number;
    values[f.field] = f.kind === 'percent' ? formatPercent(v) : f.kind === 'yuan' ? formatYuanPlain(v) : String(v);
  }
  rules.funders.slice(0, MAX_FUNDERS).forEach((f, i) => {
    values[`funderName${i}`] = f.name;
    values[`funderShare${i}`] = formatPercent(f.shareBps);
  });
  return values;
}

/** The default sweep's days overdue before default: the rules in force, else `fallback` (the configured value, before any rules exist). */
export async function daysOverdueBeforeDefault(fallback: number, now = new Date()): Promise<number> {
  return (await rulesInForce(now))?.daysOverdueBeforeDefault ?? fallback;
}

/** Every version, newest first, with the one in force now marked. */
export async function listRuleVersions(ctx: Ctx, now = new Date()) {
  requireRole(ctx, 'fund_manager', 'regulator');
  const [versions, inForce] = await Promise.all([listRules(), rulesInForce(now)]);
  const authors = new Map((await User.find({ _id: { $in: versions.map((v) => v.createdBy).filter(Boolean) } }).select('name').lean()).map((u) => [String(u._id), u.name]));
  return {
    inForceVersion: inForce?.version ?? null,
    versions: versions.map((v) => ({
      ...v, effectiveDay: cstDay(v.effectiveFrom), inForce: v.version === inForce?.version, future: v.effectiveFrom > now,
      author: v.createdBy ? (authors.get(String(v.createdBy)) ?? '') : '',
      percent: { compensation: formatPercent(v.compensationBps), lossRateCap: formatPercent(v.lossRateCapBps), subsidyMicro: formatPercent(v.subsidyMicroBps), subsidySmall: formatPercent(v.subsidySmallBps) },
      funders: v.funders.map((f) => ({ name: f.name, share: formatPercent(f.shareBps) })),
    })),
  };
}

/** The values a new proposal starts from: the rules in force (or the first version's, on an empty fund). */
export async function newRulesForm(ctx: Ctx, now = new Date()): Promise<Record<string, string>> {
  requireRole(ctx, 'fund_manager');
  const base = (await rulesInForce(now)) ?? (await FundRules.findOne().sort({ version: -1 }).lean<Rules>());
  return rulesToForm(base ?? (INITIAL_RULES as unknown as Rules), cstDay(now));
}

function parseRules(form: RulesForm, now: Date) {
  const errors: Record<string, FieldError> = {};
  const values: Record<string, number> = {};
  for (const f of FIELDS) {
    const v = parseValue(f.kind, form[f.field]);
    if (v === null) errors[f.field] = { key: f.key };
    else values[f.attr] = v;
  }
  const day = (form.effectiveFrom ?? '').trim();
  const effectiveFrom = /^\d{4}-\d{2}-\d{2}$/.test(day) ? new Date(`${day}T00:00:00+08:00`) : null;
  const today = cstDay(now);
  if (!effectiveFrom || Number.isNaN(effectiveFrom.getTime()) || cstDay(effectiveFrom) !== day) errors.effectiveFrom = { key: 'fund.rules.error.effectiveFrom' };
  else if (day < today) errors.effectiveFrom = { key: 'fund.rules.error.effectiveFrom_past', params: { today } };
  const reason = (form.reason ?? '').trim();
  if (reason.length < 4 || reason.length > 500 || /[<>]/.test(reason)) errors.reason = { key: 'fund.rules.error.reason' };
  const funders: { name: string; shareBps: number }[] = [];
  let sum = 0;
  for (let i = 0; i < MAX_FUNDERS; i++) {
    const name = (form[`funderName${i}`] ?? '').normalize('NFKC').trim();
    const shareRaw = (form[`funderShare${i}`] ?? '').trim();
    if (!name && !shareRaw) continue;
    const share = parsePercent(shareRaw);
    if (name.length < 2 || name.length > 120 || /[<>]/.test(name)) errors[`funderName${i}`] = { key: 'fund.rules.error.funderName', params: { row: i + 1 } };
    if (share === null || share < 1) errors[`funderShare${i}`] = { key: 'fund.rules.error.funderShare', params: { row: i + 1 } };
    else sum += share;
    funders.push({ name, shareBps: share ?? 0 });
  }
  if (!funders.length) errors.funders = { key: 'fund.rules.error.funders_none' };
  else if (!Object.keys(errors).some((k) => k.startsWith('funderShare')) && sum !== 10_000) errors.funders = { key: 'fund.rules.error.funders_sum', params: { sum: formatPercent(sum) } };
  if (Object.keys(errors).length) throw new ValidationError(errors);
  return { values, effectiveFrom: effectiveFrom!, day, reason, funders };
}

/** Appends a new version (the next number) and audits it; the versions before it are kept unchanged. */
export async function proposeRules(ctx: Ctx, form: RulesForm, now = new Date()): Promise<Rules> {
  const actor = requireRole(ctx, 'fund_manager');
  const p = parseRules(form, now);
  return mongoose.connection.transaction(async (session) => {
    const latest = await FundRules.findOne().sort({ version: -1 }).session(session).lean<Rules>();
    const current = await rulesInForce(now, session);
    const orgByName = new Map((current?.funders ?? []).map((f) => [f.name, f.organization ?? null]));
    const version = (latest?.version ?? 0) + 1;
    const doc = {
      version, effectiveFrom: p.effectiveFrom, ...p.values, funders: p.funders.map((f) => ({ ...f, organization: orgByName.get(f.name) ?? null })),
      createdBy: actor.userId, reason: p.reason, createdAt: now,
    };
    // A concurrent proposal takes the same number: the unique version makes one of them conflict, retry and take the next.
    const [created] = await FundRules.create([doc], { session });
    const changes = Object.fromEntries(FIELDS.filter((f) => current && current[f.attr] !== p.values[f.attr]).map((f) => [f.attr, { from: current![f.attr], to: p.values[f.attr] }]));
    await recordAudit(ctx, 'fund.rules_version_created', { type: 'FundRules', id: created!._id }, {
      version, effectiveFrom: p.day, reason: p.reason, basedOn: current?.version ?? null, changes, funders: p.funders,
    }, session);
    return created!.toObject() as Rules;
  });
}
