/**
 * One-shot messages carried across a redirect in the session, shown by the
 * layout. Messages are dictionary keys so they render in the reader's language.
 */
import type { NextFunction, Request, Response } from 'express';
import type { MessageParams } from '../errors.js';

export interface FlashMessage {
  type: 'success' | 'info' | 'error';
  key: string;
  params?: MessageParams;
}

declare module 'express-session' {
  interface SessionData {
    flash?: FlashMessage[];
  }
}

export function flash(req: Request, type: FlashMessage['type'], key: string, params?: MessageParams): void {
  if (!req.session) return;
  req.session.flash = [...(req.session.flash ?? []), { type, key, params }];
}

/** Moves pending messages into res.locals.flash for this render. */
export function flashMiddleware(req: Request, res: Response, next: NextFunction): void {
  const pending = req.session?.flash;
  if (pending?.length) {
    const t = res.locals.t as (k: string, p?: MessageParams) => string;
    res.locals.flash = pending.map((m) => ({ type: m.type, text: t(m.key, m.params) }));
    delete req.session.flash;
  }
  next();
}
