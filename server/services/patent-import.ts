/**
 * Bulk import of a TTO's portfolio: upload → dry run → commit. The dry run
 * writes no patent; it shows every row's problems. The commit reads the same
 * bytes again and re-checks everything against the register as it is *then*
 * (someone may have registered a number meanwhile), and writes all valid rows,
 * the audit event and the batch's new status in one transaction, so a batch
 * is imported completely, once, or not at all.
 */
import { createHash } from 'node:crypto';
import mongoose, { Types, type ClientSession } from 'mongoose';
import { ImportBatch, IMPORT_MAX_BYTES } from '../../models/import-batch.js';
import { Organization } from '../../models/organization.js';
import { Patent } from '../../models/patent.js';
import { parseApplicationNumber } from '../domain/patent-number.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type FieldError, type MessageParams } from '../errors.js';
import { recordAudit } from './audit.js';
import { requireRole, type Actor, type Ctx } from './context.js';
import { templateHeader } from './import-columns.js';
import { parseImportFile, type ParsedSheet } from './import-parse.js';
import { checkPatentInput, PATENT_INPUT_FIELDS, type PatentValues } from './patent-input.js';

export interface ImportRowError {
  /** Spreadsheet row number as the user sees it (header row included). */
  row: number;
  /** The column's header as written in the file. */
  column: string;
  key: string;
  params: MessageParams;
}

export interface BatchView {
  id: string;
  filename: string;
  format: string;
  encoding: string;
  size: number;
  status: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface DryRunReport {
  batch: BatchView;
  rows: number;
  valid: number;
  invalid: number;
  errors: ImportRowError[];
  duplicatesInFile: number;
  alreadyRegistered: number;
  warnings: FieldError[];
}

export type ImportReport =
  | ({ status: 'dry_run' } & DryRunReport)
  | { status: 'committed'; batch: BatchView; imported: number; skippedRows: number; committedAt: Date | null };

export interface CommitResult {
  batch: BatchView;
  imported: number;
  skippedRows: number;
  skipped: ImportRowError[];
}

interface Evaluation {
  valid: { row: number; values: PatentValues }[];
  errors: ImportRowError[];
  invalidRows: number;
  duplicatesInFile: number;
  alreadyRegistered: number;
}

type BatchDoc = InstanceType<typeof ImportBatch>;

/** Error parameters echo cell contents; long ones are cut so a report stays readable (and small). */
function shortParams(params: MessageParams = {}): MessageParams {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' && v.length > 80 ? `${v.slice(0, 79)}…` : v]));
}

/**
 * Every row through checkPatentInput, then the two checks that need more
 * than one row: numbers repeated within the file (all their rows are
 * refused, since which one is right is the TTO's call) and numbers already
 * in the register (one `$in` query for the whole file).
 */
async function evaluate(sheet: ParsedSheet, orgId: Types.ObjectId, session?: ClientSession): Promise<Evaluation> {
  const now = new Date();
  const column = (field: (typeof PATENT_INPUT_FIELDS)[number]) => sheet.headers[field] ?? templateHeader(field);
  const perRow = sheet.rows.map((r) => {
    const errors: ImportRowError[] = [];
    const checked = checkPatentInput(r.values, now);
    const byField = new Map(r.cellErrors.map((e) => [e.field, e]));
    for (const field of PATENT_INPUT_FIELDS) {
      const e = byField.get(field) ?? (checked.ok ? undefined : checked.errors[field]);
      if (e) errors.push({ row: r.row, column: column(field), key: e.key, params: shortParams(e.params) });
    }
    const parsed = parseApplicationNumber(r.values.applicationNumber ?? '', now);
    return { row: r.row, values: checked.ok && !r.cellErrors.length ? checked.values : null, number: parsed.ok ? parsed.normalized : null, errors };
  });

  const rowsByNumber = new Map<string, number[]>();
  for (const r of perRow) if (r.number) rowsByNumber.set(r.number, [...(rowsByNumber.get(r.number) ?? []), r.row]);
  const existing = await Patent.find({ applicationNumber: { $in: [...rowsByNumber.keys()] } })
    .select({ applicationNumber: 1, holder: 1 })
    .session(session ?? null)
    .lean();
  const holderOf = new Map(existing.map((p) => [p.applicationNumber, p.holder]));

  let duplicatesInFile = 0;
  let alreadyRegistered = 0;
  const numberColumn = column('applicationNumber');
  for (const r of perRow) {
    if (!r.number) continue;
    const others = rowsByNumber.get(r.number)!.filter((n) => n !== r.row);
    if (others.length) {
      duplicatesInFile++;
      r.errors.push({ row: r.row, column: numberColumn, key: 'import.row.duplicate_in_file', params: { rows: others.slice(0, 10).join(', ') } });
    }
    const holder = holderOf.get(r.number);
    if (holder) {
      alreadyRegistered++;
      const key = holder.equals(orgId) ? 'import.row.already_in_register' : 'import.row.registered_elsewhere';
      r.errors.push({ row: r.row, column: numberColumn, key, params: { number: r.number } });
    }
  }
  const valid = perRow.filter((r) => r.values && !r.errors.length).map((r) => ({ row: r.row, values: r.values! }));
  return {
    valid,
    errors: perRow.flatMap((r) => r.errors),
    invalidRows: perRow.length - valid.length,
    duplicatesInFile,
    alreadyRegistered,
  };
}

function view(b: BatchDoc): BatchView {
  return { id: String(b._id), filename: b.filename, format: b.format, encoding: b.encoding, size: b.size, status: b.status, createdAt: b.get('createdAt') as Date, expiresAt: b.expiresAt };
}

/** The batch with its bytes, if the actor's institution uploaded it; 404 otherwise (ids are not confirmed to outsiders). */
async function ownBatch(actor: Actor, id: string): Promise<BatchDoc> {
  if (!Types.ObjectId.isValid(id)) throw new NotFoundError('import.not_found');
  const batch = await ImportBatch.findById(id).select('+file');
  if (!batch || !batch.organization.equals(actor.orgId)) throw new NotFoundError('import.not_found');
  if (batch.status === 'dry_run' && batch.expiresAt <= new Date()) {
    // The TTL monitor deletes it within a minute; until then it must not be committed.
    await ImportBatch.updateOne({ _id: batch._id, status: 'dry_run' }, { $set: { status: 'expired', file: null } });
    throw new ConflictError('import.expired');
  }
  if (batch.status === 'expired') throw new ConflictError('import.expired');
  return batch;
}

/** The stored bytes parsed again; they parsed at upload, so a failure now is reported the same way. */
async function sheetOf(batch: BatchDoc): Promise<ParsedSheet> {
  const parsed = await parseImportFile(batch.file ?? Buffer.alloc(0));
  if (!parsed.ok) throw new ValidationError({ file: parsed.error });
  return parsed.sheet;
}

async function report(batch: BatchDoc, sheet: ParsedSheet, orgId: Types.ObjectId): Promise<DryRunReport> {
  const e = await evaluate(sheet, orgId);
  const warnings = [...sheet.warnings];
  const earlier = await ImportBatch.findOne({ organization: orgId, sha256: batch.sha256, status: 'committed', _id: { $ne: batch._id } }).select({ resultSummary: 1 }).lean();
  if (earlier?.resultSummary?.committedAt) warnings.push({ key: 'import.file.already_imported', params: { date: earlier.resultSummary.committedAt.toISOString().slice(0, 10) } });
  const summary = { rows: sheet.rows.length, valid: e.valid.length, invalid: e.invalidRows, duplicatesInFile: e.duplicatesInFile, alreadyRegistered: e.alreadyRegistered };
  await ImportBatch.updateOne({ _id: batch._id, status: 'dry_run' }, { $set: { dryRunSummary: { ...summary, at: new Date() } } });
  return { batch: view(batch), ...summary, errors: e.errors, warnings };
}

/** Strips any path and control characters from the client's file name (it is shown back and audited). */
function cleanFilename(name: string): string {
  // eslint-disable-next-line no-control-regex
  return (name.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f<>]/g, '').trim().slice(0, 255);
}

/**
 * Stores an upload and returns its dry run. A file that cannot be read at all
 * (encoding, format, header, size) is refused with one file-level error and
 * nothing is stored.
 */
export async function startImport(ctx: Ctx, file: { originalname: string; buffer: Buffer }): Promise<DryRunReport> {
  const actor = requireRole(ctx, 'tto');
  if (!file.buffer.length) throw new ValidationError({ file: { key: 'import.file.empty' } });
  if (file.buffer.length > IMPORT_MAX_BYTES) throw new ValidationError({ file: { key: 'import.file.too_large', params: { max: IMPORT_MAX_BYTES / 1024 / 1024 } } });
  const parsed = await parseImportFile(file.buffer);
  if (!parsed.ok) throw new ValidationError({ file: parsed.error });
  const { sheet } = parsed;
  const sha256 = createHash('sha256').update(file.buffer).digest('hex');
  const filename = cleanFilename(file.originalname);
  const batch = await mongoose.connection.transaction(async (session) => {
    const [created] = await ImportBatch.create(
      [{ organization: actor.orgId, user: actor.userId, filename, file: file.buffer, size: file.buffer.length, sha256, format: sheet.format, encoding: sheet.encoding }],
      { session },
    );
    await recordAudit(ctx, 'patent.import_uploaded', { type: 'ImportBatch', id: created._id }, { filename, sha256, format: sheet.format, encoding: sheet.encoding, rows: sheet.rows.length }, session);
    return created;
  });
  return report(batch, sheet, actor.orgId);
}

/** The batch's report: its dry run (computed afresh) or, once committed, what the commit did. */
export async function dryRun(ctx: Ctx, batchId: string): Promise<ImportReport> {
  const actor = requireRole(ctx, 'tto');
  const batch = await ownBatch(actor, batchId);
  if (batch.status === 'committed') {
    const r = batch.resultSummary;
    return { status: 'committed', batch: view(batch), imported: r?.imported ?? 0, skippedRows: r?.skipped ?? 0, committedAt: r?.committedAt ?? null };
  }
  return { status: 'dry_run', ...(await report(batch, await sheetOf(batch), actor.orgId)) };
}

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number })?.code === 11000;
}

/**
 * Imports every row that is valid now. A second commit — one after the other
 * or racing in parallel — is refused: the batch's status changes from
 * dry_run to committed inside the same transaction as the inserts, and the
 * store lets only one transaction write that document.
 */
export async function commitImport(ctx: Ctx, batchId: string): Promise<CommitResult> {
  const actor = requireRole(ctx, 'tto');
  const batch = await ownBatch(actor, batchId);
  if (batch.status === 'committed') throw new ConflictError('import.already_committed');
  const sheet = await sheetOf(batch);
  const holder = await Organization.findById(actor.orgId).select({ region: 1 }).lean();
  if (!holder) throw new ForbiddenError();
  try {
    return await mongoose.connection.transaction(async (session) => {
      const fresh = await ImportBatch.findById(batch._id).select({ status: 1 }).session(session).lean();
      if (fresh?.status !== 'dry_run') throw new ConflictError('import.already_committed');
      const e = await evaluate(sheet, actor.orgId, session);
      if (!e.valid.length) throw new ConflictError('import.nothing_valid');
      const result = { imported: e.valid.length, skipped: e.invalidRows, committedAt: new Date(), committedBy: actor.userId };
      // The batch is claimed before any patent is written, so a racing commit meets the write conflict on
      // this one document (and, retried, reads "committed") rather than on the patents' unique numbers.
      const moved = await ImportBatch.updateOne({ _id: batch._id, status: 'dry_run' }, { $set: { status: 'committed', file: null, resultSummary: result } }, { session });
      if (moved.modifiedCount !== 1) throw new ConflictError('import.already_committed');
      await Patent.insertMany(
        e.valid.map((v) => ({ ...v.values, holder: actor.orgId, region: holder.region, createdBy: actor.userId })),
        { session, ordered: true },
      );
      await recordAudit(ctx, 'patent.imported', { type: 'ImportBatch', id: batch._id }, {
        imported: result.imported, skipped: result.skipped, rows: sheet.rows.length, filename: batch.filename, sha256: batch.sha256,
      }, session);
      return { batch: { ...view(batch), status: 'committed' }, imported: result.imported, skippedRows: result.skipped, skipped: e.errors };
    });
  } catch (err) {
    // A number registered by someone else between our check and our insert: nothing was written; the TTO re-runs the dry run.
    if (isDuplicateKey(err)) {
      const now = await ImportBatch.findById(batch._id).select({ status: 1 }).lean();
      throw new ConflictError(now?.status === 'committed' ? 'import.already_committed' : 'import.register_changed');
    }
    throw err;
  }
}

/** The institution's recent uploads, newest first, for the import page. */
export async function recentImports(ctx: Ctx): Promise<BatchView[]> {
  const actor = requireRole(ctx, 'tto');
  const batches = await ImportBatch.find({ organization: actor.orgId }).sort({ createdAt: -1 }).limit(10);
  return batches.map(view);
}
