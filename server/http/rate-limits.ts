/**
 * Per-address limits on the forms attackers hammer: login, sign-up and
 * password reset. Exceeding one answers 429 with a "try again in N minutes"
 * page in the reader's language. (Per-account lockout is in services/accounts.)
 */
import type { Request, Response } from 'express';
import { rateLimit } from 'express-rate-limit';

export interface RateLimitOptions {
  windowMinutes: number;
  limit: number;
}

export function formRateLimit(opts: RateLimitOptions) {
  return rateLimit({
    windowMs: opts.windowMinutes * 60_000,
    limit: opts.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Only submissions count; showing the form is free.
    skip: (req) => req.method !== 'POST',
    handler: (req: Request, res: Response) => {
      const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const minutes = reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 60_000)) : opts.windowMinutes;
      res.status(429).render('error', {
        title: res.locals.t('error.title.429'),
        status: 429,
        message: res.locals.t('error.rate_limited', { minutes }),
      });
    },
  });
}
