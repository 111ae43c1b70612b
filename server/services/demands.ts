/**
 * Technical needs (技术需求): an SME posts, edits and closes its own; TTOs,
 * fund managers, regulators and admins browse the open ones. Matching them
 * to patents lives in services/matching.ts.
 */
import mongoose, { Types } from 'mongoose';
import { Demand } from '../../models/demand.js';
import { Organization, REGIONS, type Region } from '../../models/organization.js';
import { parseYuanToFen } from '../domain/money.js';
import { isTechField, type TechField } from '../domain/tech-fields.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type FieldError } from '../errors.js';
import { recordAudit } from './audit.js';
import { requireRole, requireVerified, type Actor, type Ctx } from './context.js';
import { parseCalendarDate } from './patent-input.js';

export interface DemandForm {
  title?: string;
  problem?: string;
  fields?: string | string[];
  budget?: string;
  region?: string;
  deadline?: string;
}

export interface DemandValues {
  title: string;
  problem: string;
  fields: TechField[];
  budgetFen: number | null;
  region: Region;
  deadline: Date | null;
}

export function checkDemandForm(form: DemandForm, now = new Date()): DemandValues {
  const errors: Record<string, FieldError> = {};
  const title = (form.title ?? '').trim();
  const problem = (form.problem ?? '').trim();
  if (!title) errors.title = { key: 'form.required' };
  else if (title.length > 120) errors.title = { key: 'patent.input.too_long', params: { max: 120 } };
  if (problem.length < 10) errors.problem = { key: 'demand.problem.too_short' };
  else if (problem.length > 4000) errors.problem = { key: 'patent.input.too_long', params: { max: 4000 } };
  for (const [k, v] of [['title', title], ['problem', problem]] as const) if (/[<>]/.test(v)) errors[k] = { key: 'form.no_markup' };
  const rawFields = Array.isArray(form.fields) ? form.fields : form.fields ? [form.fields] : [];
  if (rawFields.some((f) => !isTechField(f)) || rawFields.length > 5) errors.fields = { key: 'demand.fields.invalid' };
  let budgetFen: number | null = null;
  if ((form.budget ?? '').trim()) {
    budgetFen = parseYuanToFen(form.budget!.trim());
    if (budgetFen === null) errors.budget = { key: 'offer.money.invalid', params: { value: form.budget!.trim() } };
  }
  const region = form.region as Region;
  if (!(REGIONS as readonly string[]).includes(form.region ?? '')) errors.region = { key: 'org.region.invalid' };
  const deadline = parseCalendarDate((form.deadline ?? '').trim());
  if (deadline === undefined) errors.deadline = { key: 'patent.input.date', params: { value: form.deadline ?? '' } };
  else if (deadline && deadline < new Date(now.toISOString().slice(0, 10))) errors.deadline = { key: 'demand.deadline.past' };
  if (Object.keys(errors).length) throw new ValidationError(errors);
  return { title, problem, fields: [...new Set(rawFields)] as TechField[], budgetFen, region, deadline: deadline ?? null };
}

async function ownDemand(actor: Actor, id: string) {
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('demand.not_found');
  const demand = await Demand.findById(id);
  if (!demand) throw new NotFoundError('demand.not_found');
  if (!demand.organization.equals(actor.orgId)) throw new ForbiddenError('demand.not_yours');
  return demand;
}

export async function createDemand(ctx: Ctx, form: DemandForm) {
  const actor = requireRole(ctx, 'sme');
  requireVerified(actor);
  const values = checkDemandForm(form);
  return mongoose.connection.transaction(async (session) => {
    const [demand] = await Demand.create([{ ...values, organization: actor.orgId, createdBy: actor.userId }], { session });
    await recordAudit(ctx, 'demand.created', { type: 'Demand', id: demand._id }, { title: values.title }, session);
    return demand;
  });
}

export async function updateDemand(ctx: Ctx, id: string, form: DemandForm) {
  const actor = requireRole(ctx, 'sme');
  const values = checkDemandForm(form);
  const demand = await ownDemand(actor, id);
  if (demand.status !== 'open') throw new ConflictError('demand.closed');
  return mongoose.connection.transaction(async (session) => {
    demand.set(values);
    await demand.save({ session });
    await recordAudit(ctx, 'demand.updated', { type: 'Demand', id: demand._id }, { title: values.title }, session);
    return demand;
  });
}

export async function closeDemand(ctx: Ctx, id: string) {
  const actor = requireRole(ctx, 'sme');
  const demand = await ownDemand(actor, id);
  if (demand.status !== 'open') throw new ConflictError('demand.closed');
  return mongoose.connection.transaction(async (session) => {
    demand.status = 'closed';
    await demand.save({ session });
    await recordAudit(ctx, 'demand.closed', { type: 'Demand', id: demand._id }, {}, session);
    return demand;
  });
}

export async function myDemands(ctx: Ctx) {
  const actor = requireRole(ctx, 'sme');
  return Demand.find({ organization: actor.orgId }).sort({ status: -1, updatedAt: -1 }).lean();
}

/** One need: its own SME sees it in any state; the supply side and overseers see open ones. */
export async function getDemand(ctx: Ctx, id: string) {
  const actor = requireRole(ctx, 'sme', 'tto', 'fund_manager', 'regulator', 'admin');
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('demand.not_found');
  const demand = await Demand.findById(id).lean();
  if (!demand) throw new NotFoundError('demand.not_found');
  const mine = demand.organization.equals(actor.orgId);
  if (actor.role === 'sme' && !mine) throw new NotFoundError('demand.not_found');
  if (!mine && demand.status !== 'open') throw new NotFoundError('demand.not_found');
  const org = await Organization.findById(demand.organization).select('nameZh nameEn region enterprise.sizeClass').lean();
  return { demand, org, mine };
}

export interface DemandBrowseQuery {
  field?: TechField;
  region?: Region;
  page: number;
}

/** Open needs, newest first, for TTOs looking for takers. */
export async function browseDemands(ctx: Ctx, q: DemandBrowseQuery) {
  requireRole(ctx, 'tto', 'fund_manager', 'regulator', 'admin');
  const filter: Record<string, unknown> = { status: 'open' };
  if (q.field) filter.fields = q.field;
  if (q.region) filter.region = q.region;
  const pageSize = 30;
  const [total, demands] = await Promise.all([
    Demand.countDocuments(filter),
    Demand.find(filter).sort({ updatedAt: -1 }).skip((q.page - 1) * pageSize).limit(pageSize).lean(),
  ]);
  const orgs = await Organization.find({ _id: { $in: demands.map((d) => d.organization) } }).select('nameZh nameEn region').lean();
  const byId = new Map(orgs.map((o) => [String(o._id), o]));
  return { demands: demands.map((d) => ({ ...d, org: byId.get(String(d.organization)) ?? null })), total, page: q.page, pages: Math.max(1, Math.ceil(total / pageSize)) };
}
