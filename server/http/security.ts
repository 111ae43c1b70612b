/**
 * Security headers (helmet, with a Content-Security-Policy that allows only
 * our own scripts and styles), a request id for logs and the audit trail,
 * and the check that keeps redirects on this site.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

export function securityHeaders() {
  return helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'same-origin' },
  });
}

export function requestId(req: Request, res: Response, next: NextFunction): void {
  req.requestId = randomUUID();
  res.setHeader('X-Request-Id', req.requestId);
  next();
}

/** Only same-site absolute paths ("/x"), never "//host", "/\\host" or a scheme. */
export function isSafeRedirect(target: unknown): target is string {
  return typeof target === 'string' && /^\/(?![/\\])[^\s]*$/.test(target) && target.length <= 500;
}
