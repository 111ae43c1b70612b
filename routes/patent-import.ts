/**
 * Bulk import pages: upload a CSV/XLSX, read its dry-run report, commit.
 * The upload is multipart, so its body (and the CSRF token in it) is parsed
 * by `importUploadParser`, which app.ts mounts before the CSRF check; the
 * handlers here run after that check like every other form.
 */
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { IMPORT_MAX_BYTES } from '../models/import-batch.js';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { AppError, ValidationError, type FieldError } from '../server/errors.js';
import { ctxOf } from '../server/http/context.js';
import type { Translate } from '../server/http/i18n.js';
import { MAX_IMPORT_ROWS } from '../server/services/import-parse.js';
import { importErrorsCsv, importTemplateCsv, importTemplateXlsx } from '../server/services/import-template.js';
import { commitImport, dryRun, recentImports, startImport, type ImportRowError } from '../server/services/patent-import.js';

const MAX_MB = IMPORT_MAX_BYTES / 1024 / 1024;
/** A report lists this many problems on the page; the CSV download has them all. */
const SHOWN_ERRORS = 1000;

const upload = multer({
  storage: multer.memoryStorage(),
  // Chinese file names arrive as UTF-8 in the part header; busboy's default would read them as Latin-1.
  defParamCharset: 'utf8',
  limits: { fileSize: IMPORT_MAX_BYTES, files: 1, fields: 5, parts: 6, fieldSize: 10_000 },
}).single('file');

async function renderUpload(req: Request, res: Response, status: number, fileError?: FieldError): Promise<void> {
  const t = res.locals.t;
  const recent = req.user?.role === 'tto' ? await recentImports(ctxOf(req)) : [];
  res.status(status).render('patents/import', {
    title: t('import.title'), recent, maxMb: MAX_MB, maxRows: MAX_IMPORT_ROWS,
    errors: fileError ? { file: t(fileError.key, fileError.params) } : undefined,
  });
}

/** Multer's refusals as the upload form with a message, never a 500: too large → 413, anything else malformed → 422. */
function receiveFile(req: Request, res: Response, next: NextFunction): void {
  upload(req, res, (err: unknown) => {
    if (!err) return next();
    if (err instanceof multer.MulterError) {
      const tooLarge = err.code === 'LIMIT_FILE_SIZE';
      renderUpload(req, res, tooLarge ? 413 : 422, { key: tooLarge ? 'import.file.too_large' : 'import.file.bad_upload', params: { max: MAX_MB } }).catch(next);
      return;
    }
    // Busboy's own errors (truncated or malformed multipart) are the client's fault.
    next(new AppError(400, 'error.bad_request'));
  });
}

/**
 * Parses `POST /patents/import`'s multipart body so that the CSRF check,
 * which follows it, finds `_csrf`. Only a signed-in TTO's upload is read at
 * all, so nobody else can make the server buffer 10 MB.
 */
export const importUploadParser: RequestHandler[] = [requireLogin('tto'), receiveFile];

function messages(errors: ImportRowError[], t: Translate) {
  return errors.map((e) => ({ row: e.row, column: e.column, message: t(e.key, e.params) }));
}

export function createPatentImportRouter(_deps: RouteDeps): Router {
  const router = Router();
  const tto = requireLogin('tto');

  /** GET /patents/import */
  router.get('/patents/import', tto, (req, res) => renderUpload(req, res, 200));

  /** GET /patents/import/template.csv */
  router.get('/patents/import/template.csv', tto, (_req, res) => {
    res.attachment('patent-import-template.csv').type('text/csv; charset=utf-8').send(importTemplateCsv());
  });

  /** GET /patents/import/template.xlsx */
  router.get('/patents/import/template.xlsx', tto, async (_req, res) => {
    res.attachment('patent-import-template.xlsx').send(await importTemplateXlsx());
  });

  /** POST /patents/import (multipart, parsed by importUploadParser) */
  router.post('/patents/import', tto, async (req, res) => {
    if (!req.file) return renderUpload(req, res, 422, { key: 'import.file.missing' });
    try {
      const report = await startImport(ctxOf(req), { originalname: req.file.originalname, buffer: req.file.buffer });
      res.redirect(303, `/patents/import/${report.batch.id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await renderUpload(req, res, 422, err.fields.file ?? { key: 'form.invalid' });
    }
  });

  /** GET /patents/import/:id — the dry-run report (or, once committed, the result). */
  router.get('/patents/import/:id', tto, async (req, res) => {
    const t = res.locals.t;
    const report = await dryRun(ctxOf(req), String(req.params.id));
    if (report.status === 'committed') {
      res.render('patents/import-result', { title: t('import.result.title'), ...report, skipped: [] });
      return;
    }
    const errors = messages(report.errors.slice(0, SHOWN_ERRORS), t);
    res.render('patents/import-report', {
      title: t('import.report.title'), ...report, errors, errorCount: report.errors.length, hiddenErrors: Math.max(0, report.errors.length - SHOWN_ERRORS),
      warnings: report.warnings.map((w) => t(w.key, w.params)),
    });
  });

  /** GET /patents/import/:id/errors.csv — every problem of the dry run, for fixing the file. */
  router.get('/patents/import/:id/errors.csv', tto, async (req, res) => {
    const report = await dryRun(ctxOf(req), String(req.params.id));
    const rows = report.status === 'dry_run' ? messages(report.errors, res.locals.t) : [];
    const t = res.locals.t;
    res.attachment('import-errors.csv').type('text/csv; charset=utf-8')
      .send(importErrorsCsv([t('import.report.row'), t('import.report.column'), t('import.report.message')], rows.map((r) => [String(r.row), r.column, r.message])));
  });

  /** POST /patents/import/:id/commit */
  router.post('/patents/import/:id/commit', tto, async (req, res) => {
    const result = await commitImport(ctxOf(req), String(req.params.id));
    res.render('patents/import-result', {
      title: res.locals.t('import.result.title'), status: 'committed', ...result,
      skipped: messages(result.skipped.slice(0, SHOWN_ERRORS), res.locals.t), hiddenErrors: Math.max(0, result.skipped.length - SHOWN_ERRORS),
    });
  });

  return router;
}
