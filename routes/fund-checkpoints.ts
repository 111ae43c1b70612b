/**
 * Tamper evidence for regulators and the fund's managers: the signed
 * checkpoints (list, issue now, download with the public key), the offline
 * verifier run over the live journal, a check of a checkpoint file someone
 * handed over, the latest reconciliation, the journal export the
 * stand-alone verifier reads, and one transfer's inclusion proof. Handlers parse, call one service, render; the
 * services check roles. The signing key is the one main.ts installed.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { AppError } from '../server/errors.js';
import { flash } from '../server/http/flash.js';
import { ctxOf } from '../server/http/context.js';
import type { VerifyResult } from '../server/domain/ledger-verify.js';
import { checkCheckpointFile, checkpointFile, listCheckpoints, requestCheckpoint, signingPublicKey, verifyLedger } from '../server/services/fund/checkpoints.js';
import { transferProof } from '../server/services/fund/inclusion-proofs.js';
import { ledgerExport } from '../server/services/fund/ledger-export.js';
import { latestReconciliation, requestReconciliation } from '../server/services/fund/reconcile.js';
import { installedLedgerSigner } from '../server/services/fund/signing-key.js';

type T = (key: string, params?: Record<string, string | number>) => string;

/** Problems in the reader's language (the verifier's codes have dictionary texts with the same placeholders). */
function problemsFor(result: VerifyResult, t: T) {
  return result.problems.map((p) => ({ seq: p.seq, code: p.code, text: t(`checkpoints.problem.${p.code}`, p.params) }));
}

async function renderIndex(req: Request, res: Response, extra: { status?: number; error?: string; checkText?: string } = {}): Promise<void> {
  const ctx = ctxOf(req);
  const signer = installedLedgerSigner();
  const [list, reconciliation] = await Promise.all([listCheckpoints(ctx), latestReconciliation(ctx)]);
  const t = res.locals.t as T;
  res.status(extra.status ?? 200).render('fund/checkpoints/index', {
    title: t('checkpoints.title'), ...list, keyId: signer?.keyId ?? null,
    reconciliation: reconciliation && { ...reconciliation, by: reconciliation.by === 'schedule' ? t('checkpoints.issued_by.schedule') : reconciliation.by },
    error: extra.error, checkText: extra.checkText ?? '',
  });
}

/** A checkpoint file is about a kilobyte (with its public key); anything much larger is not one. */
const CHECKPOINT_MAX_BYTES = 64 * 1024;
const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: CHECKPOINT_MAX_BYTES, files: 1, fields: 3, parts: 4, fieldSize: 40_000 } }).single('file');

/** Multer's refusal, kept for the handler to show (422, nothing written) rather than failing the request here. */
function receiveCheckpointFile(req: Request, res: Response, next: NextFunction): void {
  upload(req, res, (err: unknown) => {
    if (err instanceof multer.MulterError) res.locals.checkpointUploadError = err.code === 'LIMIT_FILE_SIZE' ? 'checkpoints.check.too_large' : 'checkpoints.check.bad_upload';
    else if (err) return next(new AppError(400, 'error.bad_request'));
    next();
  });
}

/**
 * Parses POST /fund/checkpoints/check when it is multipart (a file chosen),
 * before the CSRF check in app.ts so that check finds `_csrf`; only a
 * signed-in regulator's or fund manager's upload is read at all.
 */
export const checkpointUploadParser = [requireLogin('regulator', 'fund_manager'), receiveCheckpointFile];

/** Resolves when the client has taken what was written, or has gone away. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function createFundCheckpointsRouter(_deps: RouteDeps): Router {
  const router = Router();
  const guard = requireLogin('regulator', 'fund_manager');

  /** GET /fund/checkpoints */
  router.get('/fund/checkpoints', guard, async (req, res) => {
    await renderIndex(req, res);
  });

  /** POST /fund/checkpoints — issue one now. A journal that does not verify is refused (409) and shown. */
  router.post('/fund/checkpoints', guard, async (req, res) => {
    try {
      const cp = await requestCheckpoint(ctxOf(req), installedLedgerSigner());
      flash(req, 'success', 'checkpoints.issued', { seq: cp.seq });
      res.redirect(303, '/fund/checkpoints');
    } catch (err) {
      if (!(err instanceof AppError) || err.status === 403) throw err;
      await renderIndex(req, res, { status: err.status, error: res.locals.t(err.key, err.params) });
    }
  });

  /** GET /fund/checkpoints/key.pem */
  router.get('/fund/checkpoints/key.pem', guard, (req, res) => {
    const key = signingPublicKey(ctxOf(req), installedLedgerSigner());
    res.attachment(`yrd-fund-ledger-key-${key.keyId}.pem`).type('application/x-pem-file').send(key.pem);
  });

  /** GET /fund/ledger/:seq/proof.json — the transfer's inclusion proof against the first checkpoint covering it */
  router.get('/fund/ledger/:seq/proof.json', guard, async (req, res) => {
    const proof = await transferProof(ctxOf(req), String(req.params.seq));
    res.attachment(`yrd-fund-ledger-proof-seq${proof.transfer.seq}-checkpoint${proof.treeSize}.json`).type('application/json').send(`${JSON.stringify(proof, null, 2)}\n`);
  });

  /** GET /fund/checkpoints/:id.json */
  router.get('/fund/checkpoints/:id.json', guard, async (req, res) => {
    const file = await checkpointFile(ctxOf(req), String(req.params.id));
    res.attachment(`yrd-fund-ledger-checkpoint-${file.ledger}-${file.seq}-${file.time.slice(0, 10)}.json`).type('application/json')
      .send(`${JSON.stringify(file, null, 2)}\n`);
  });

  /** POST /fund/checkpoints/verify — the verifier over the live journal (seconds for a large one). */
  router.post('/fund/checkpoints/verify', guard, async (req, res) => {
    const result = await verifyLedger(ctxOf(req), installedLedgerSigner());
    res.render('fund/checkpoints/verify', {
      title: res.locals.t('checkpoints.verify.title'), result, problems: problemsFor(result, res.locals.t),
      more: result.problemCount - result.problems.length,
    });
  });

  /** POST /fund/checkpoints/check — a checkpoint file uploaded or pasted: 200 genuine and matching, 422 forged, altered or malformed. */
  router.post('/fund/checkpoints/check', guard, async (req, res) => {
    const file = (req as Request & { file?: { buffer: Buffer } }).file;
    const text = file ? file.buffer.toString('utf8') : typeof req.body?.checkpoint === 'string' ? req.body.checkpoint : '';
    let outcome;
    try {
      if (res.locals.checkpointUploadError) throw new AppError(422, res.locals.checkpointUploadError as string, { max: CHECKPOINT_MAX_BYTES / 1024 });
      outcome = await checkCheckpointFile(ctxOf(req), text, installedLedgerSigner());
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 422) throw err;
      await renderIndex(req, res, { status: 422, error: res.locals.t(err.key, err.params), checkText: text.slice(0, 20_000) });
      return;
    }
    res.status(outcome.valid ? 200 : 422).render('fund/checkpoints/check', {
      title: res.locals.t('checkpoints.check.title'), ...outcome, problems: problemsFor(outcome.result, res.locals.t),
    });
  });

  /** POST /fund/checkpoints/reconcile */
  router.post('/fund/checkpoints/reconcile', guard, async (req, res) => {
    const r = await requestReconciliation(ctxOf(req));
    flash(req, r.breakCount ? 'error' : 'success', r.breakCount ? 'checkpoints.reconcile.done_breaks' : 'checkpoints.reconcile.done_clean', { count: r.breakCount, seq: r.throughSeq });
    res.redirect(303, '/fund/checkpoints');
  });

  /** GET /fund/ledger/export.jsonl?asOf=YYYY-MM-DD — streamed; a failure part-way cuts the download short rather than ending it cleanly. */
  router.get('/fund/ledger/export.jsonl', guard, async (req, res) => {
    const { filename, chunks } = await ledgerExport(ctxOf(req), req.query.asOf, installedLedgerSigner());
    res.attachment(filename).type('application/jsonl; charset=utf-8');
    try {
      for await (const chunk of chunks) {
        if (res.destroyed) return;
        if (!res.write(chunk)) await drained(res);
      }
      res.end();
    } catch (err) {
      res.destroy(err as Error);
    }
  });

  return router;
}
