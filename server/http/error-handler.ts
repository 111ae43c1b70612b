/**
 * The 404 page and the one error handler: AppErrors render with their status
 * and message in the reader's language; body-parser and CSRF failures get
 * their own 4xx pages; anything unexpected is logged with its stack and shown
 * as a plain 500 page without details.
 */
import type { NextFunction, Request, Response } from 'express';
import { AppError, TooManyRequestsError } from '../errors.js';

export function notFound(_req: Request, res: Response): void {
  res.status(404).render('error', { title: res.locals.t('error.not_found.title'), status: 404, message: res.locals.t('error.not_found') });
}

interface HttpishError {
  status?: number;
  statusCode?: number;
  type?: string;
  code?: string;
}

export function errorHandler(logger: { error(msg: string, err?: unknown): void }) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const t = res.locals.t ?? ((k: string) => k);
    let status = 500;
    let key = 'error.internal';
    let params: Record<string, string | number> = {};
    const e = err as HttpishError;
    if (err instanceof AppError) {
      status = err.status;
      key = err.key;
      params = err.params;
      if (err instanceof TooManyRequestsError) res.setHeader('Retry-After', String(err.minutes * 60));
    } else if (e?.code === 'EBADCSRFTOKEN') {
      status = 403;
      key = 'error.csrf';
    } else if (e?.type === 'entity.too.large') {
      status = 413;
      key = 'error.too_large';
    } else if (e?.type === 'entity.parse.failed' || e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported' || e?.type === 'parameters.too.many') {
      status = 400;
      key = 'error.bad_request';
    } else {
      logger.error(`unhandled error on ${req.method} ${req.originalUrl} (request ${req.requestId})`, err);
    }
    if (res.headersSent) return;
    res.status(status).render('error', { title: t(`error.title.${status}`), status, message: t(key, params), requestId: req.requestId });
  };
}
