/**
 * One patent's fields as people type them — in the register's form or in a
 * row of an imported spreadsheet — checked and turned into the stored shape.
 * Both paths share this so a number, date or flag is accepted or refused the
 * same way wherever it comes from; every problem names its field.
 */
import { EXCLUSIVE_LICENCES, LEGAL_STATUSES, type PatentType } from '../../models/patent.js';
import { parseApplicationNumber } from '../domain/patent-number.js';
import { computeExpiry } from '../domain/patent-term.js';
import { TECH_FIELDS, type TechField } from '../domain/tech-fields.js';
import type { FieldError } from '../errors.js';

/** The columns of the register, in the order the import template lists them. */
export const PATENT_INPUT_FIELDS = [
  'applicationNumber', 'titleZh', 'titleEn', 'abstractZh', 'abstractEn', 'problem', 'application', 'advantage',
  'ipc', 'fields', 'inventors', 'coOwners', 'filingDate', 'grantDate', 'legalStatus', 'annualFeePaidThrough',
  'pledged', 'pledgeeConsent', 'exclusiveLicence', 'suspended', 'evaluationReport', 'trl', 'assetRef',
] as const;
export type PatentInputField = (typeof PATENT_INPUT_FIELDS)[number];
export type PatentInput = Partial<Record<PatentInputField, string | string[]>>;

export interface PatentValues {
  applicationNumber: string;
  type: PatentType;
  titleZh: string;
  titleEn: string;
  abstractZh: string;
  abstractEn: string;
  summary: { problem: string; application: string; advantage: string };
  ipc: string[];
  fields: TechField[];
  inventors: string[];
  coOwners: { name: string; consentToOpenLicence: boolean }[];
  filingDate: Date;
  grantDate: Date | null;
  expiryDate: Date;
  legalStatus: (typeof LEGAL_STATUSES)[number];
  annualFeePaidThrough: Date | null;
  pledged: boolean;
  pledgeeConsent: boolean;
  exclusiveLicence: (typeof EXCLUSIVE_LICENCES)[number];
  suspended: boolean;
  evaluationReport: boolean;
  trl: number | null;
  assetRef: string;
}

export type PatentCheck = { ok: true; values: PatentValues } | { ok: false; errors: Partial<Record<PatentInputField, FieldError>> };

const LIMITS: Partial<Record<PatentInputField, number>> = {
  titleZh: 200, titleEn: 300, abstractZh: 4000, abstractEn: 6000, problem: 1000, application: 1000, advantage: 1000, assetRef: 60,
};

/** IPC symbol: section, class, subclass, optionally main group/subgroup (`H01L 21/02`). */
const IPC = /^[A-H]\d{2}[A-Z](\d{1,4}\/\d{1,6})?$/;
const LIST_SEPARATOR = /[,，;；、\n]+/;

/** Words people write for yes and no, in both languages and in spreadsheet exports. */
const YES = new Set(['1', 'y', 'yes', 'true', 'on', '是', '有', '已', '√']);
const NO = new Set(['', '0', 'n', 'no', 'false', 'off', '否', '无', '未', '×']);

/** Accepted spellings of statuses, fields and licences: the stored key or its Chinese name. */
const LEGAL_STATUS_NAMES: Record<string, (typeof LEGAL_STATUSES)[number]> = {
  审查中: 'pending', 申请中: 'pending', 授权: 'granted', 有效: 'granted', 已授权: 'granted', 失效: 'lapsed', 未缴年费失效: 'lapsed', 无效: 'invalidated', 被宣告无效: 'invalidated', 届满: 'expired', 期限届满: 'expired',
};
const EXCLUSIVE_NAMES: Record<string, (typeof EXCLUSIVE_LICENCES)[number]> = { 无: 'none', 独占: 'exclusive', 独占许可: 'exclusive', 排他: 'sole', 排他许可: 'sole' };
export const FIELD_NAMES_ZH: Record<TechField, string> = {
  integrated_circuits: '集成电路', biomedicine: '生物医药', artificial_intelligence: '人工智能', new_energy: '新能源', new_materials: '新材料',
  advanced_manufacturing: '高端装备', information_technology: '新一代信息技术', energy_saving_environment: '节能环保', intelligent_vehicles: '智能网联汽车',
  modern_agriculture: '现代农业', sensing_instruments: '传感与仪器', medical_devices: '医疗器械', chemical_engineering: '化工', textiles_light_industry: '纺织轻工', construction: '建筑与土木',
};
const FIELD_BY_NAME = new Map<string, TechField>(TECH_FIELDS.flatMap((f) => [[f, f], [FIELD_NAMES_ZH[f], f]] as [string, TechField][]));

const text = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join(',') : (v ?? '')).normalize('NFC').trim();
const list = (v: string | string[] | undefined): string[] => (Array.isArray(v) ? v : text(v).split(LIST_SEPARATOR)).map((s) => s.trim()).filter(Boolean);

/** A calendar date `YYYY-MM-DD` (also `YYYY/M/D`, `YYYY.M.D`, `YYYY年M月D日`) as UTC midnight; null if empty; undefined if invalid. */
export function parseCalendarDate(raw: string): Date | null | undefined {
  if (!raw) return null;
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(raw);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  // Rejects 2023-02-30 and friends, which Date would roll over into March.
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return undefined;
  return date;
}

function flag(raw: string): boolean | undefined {
  const v = raw.toLowerCase();
  if (YES.has(v)) return true;
  if (NO.has(v)) return false;
  return undefined;
}

/** Checks every field and reports all problems at once, so a row or form is fixed in one pass. */
export function checkPatentInput(input: PatentInput, now: Date = new Date()): PatentCheck {
  const errors: Partial<Record<PatentInputField, FieldError>> = {};
  const get = (f: PatentInputField) => text(input[f]);
  for (const [f, max] of Object.entries(LIMITS) as [PatentInputField, number][]) {
    if (get(f).length > max) errors[f] = { key: 'patent.input.too_long', params: { max } };
    else if (/[<>]/.test(get(f))) errors[f] = { key: 'form.no_markup' };
  }
  if (!get('titleZh')) errors.titleZh = { key: 'form.required' };

  const number = parseApplicationNumber(get('applicationNumber'));
  if (!get('applicationNumber')) errors.applicationNumber = { key: 'form.required' };
  else if (!number.ok) errors.applicationNumber = { key: number.key, params: number.params };

  const ipc = list(input.ipc).map((s) => s.toUpperCase().replace(/\s+/g, ''));
  const badIpc = ipc.find((s) => !IPC.test(s));
  if (badIpc) errors.ipc = { key: 'patent.input.ipc', params: { value: badIpc } };
  if (ipc.length > 20) errors.ipc = { key: 'patent.input.too_many', params: { max: 20 } };

  const fieldNames = list(input.fields);
  const fields = [...new Set(fieldNames.map((n) => FIELD_BY_NAME.get(n)).filter((f): f is TechField => !!f))];
  const unknownField = fieldNames.find((n) => !FIELD_BY_NAME.has(n));
  if (unknownField) errors.fields = { key: 'patent.input.field_unknown', params: { value: unknownField } };

  const inventors = list(input.inventors);
  if (inventors.length > 50 || inventors.some((n) => n.length > 60)) errors.inventors = { key: 'patent.input.too_many', params: { max: 50 } };
  // Co-owners are written `name` or `name:同意` / `name:consent` when they consented to open licensing.
  const coOwners = list(input.coOwners).map((entry) => {
    const [name, consent] = entry.split(/[:：]/).map((s) => s.trim());
    return { name: name ?? '', consentToOpenLicence: !!consent && (flag(consent) === true || /^(同意|consent(ed)?)$/i.test(consent)) };
  });
  if (coOwners.some((c) => !c.name || c.name.length > 120) || coOwners.length > 20) errors.coOwners = { key: 'patent.input.coowners' };

  const dates: Partial<Record<'filingDate' | 'grantDate' | 'annualFeePaidThrough', Date | null>> = {};
  for (const f of ['filingDate', 'grantDate', 'annualFeePaidThrough'] as const) {
    const d = parseCalendarDate(get(f));
    if (d === undefined) errors[f] = { key: 'patent.input.date', params: { value: get(f) } };
    else dates[f] = d;
  }
  if (!get('filingDate')) errors.filingDate = { key: 'form.required' };
  const filing = dates.filingDate ?? null;
  if (filing && filing > now) errors.filingDate = { key: 'patent.input.date_future' };
  if (filing && dates.grantDate && dates.grantDate < filing) errors.grantDate = { key: 'patent.input.grant_before_filing' };
  if (filing && number.ok && filing.getUTCFullYear() !== number.year) {
    errors.filingDate = { key: 'patent.input.filing_year', params: { year: number.year } };
  }

  const statusRaw = get('legalStatus');
  const legalStatus = (LEGAL_STATUSES as readonly string[]).includes(statusRaw) ? (statusRaw as PatentValues['legalStatus']) : LEGAL_STATUS_NAMES[statusRaw];
  if (!statusRaw) errors.legalStatus = { key: 'form.required' };
  else if (!legalStatus) errors.legalStatus = { key: 'patent.input.legal_status', params: { value: statusRaw } };
  if (legalStatus && legalStatus !== 'pending' && !dates.grantDate && !errors.grantDate) errors.grantDate = { key: 'patent.input.grant_required' };

  const exclusiveRaw = get('exclusiveLicence') || 'none';
  const exclusiveLicence = (EXCLUSIVE_LICENCES as readonly string[]).includes(exclusiveRaw) ? (exclusiveRaw as PatentValues['exclusiveLicence']) : EXCLUSIVE_NAMES[exclusiveRaw];
  if (!exclusiveLicence) errors.exclusiveLicence = { key: 'patent.input.exclusive', params: { value: exclusiveRaw } };

  const flags: Partial<Record<'pledged' | 'pledgeeConsent' | 'suspended' | 'evaluationReport', boolean>> = {};
  for (const f of ['pledged', 'pledgeeConsent', 'suspended', 'evaluationReport'] as const) {
    const v = flag(get(f));
    if (v === undefined) errors[f] = { key: 'patent.input.flag', params: { value: get(f) } };
    else flags[f] = v;
  }

  const trlRaw = get('trl');
  const trl = trlRaw ? Number(trlRaw) : null;
  if (trl !== null && !(Number.isInteger(trl) && trl >= 1 && trl <= 9)) errors.trl = { key: 'patent.input.trl' };

  if (Object.keys(errors).length || !number.ok || !filing || !legalStatus || !exclusiveLicence) return { ok: false, errors };
  return {
    ok: true,
    values: {
      applicationNumber: number.normalized,
      type: number.type,
      titleZh: get('titleZh'),
      titleEn: get('titleEn'),
      abstractZh: get('abstractZh'),
      abstractEn: get('abstractEn'),
      summary: { problem: get('problem'), application: get('application'), advantage: get('advantage') },
      ipc: [...new Set(ipc)],
      fields,
      inventors,
      coOwners,
      filingDate: filing,
      grantDate: dates.grantDate ?? null,
      expiryDate: computeExpiry(filing, number.type),
      legalStatus,
      annualFeePaidThrough: dates.annualFeePaidThrough ?? null,
      pledged: flags.pledged ?? false,
      pledgeeConsent: flags.pledgeeConsent ?? false,
      exclusiveLicence,
      suspended: flags.suspended ?? false,
      evaluationReport: flags.evaluationReport ?? false,
      trl,
      assetRef: get('assetRef'),
    },
  };
}
