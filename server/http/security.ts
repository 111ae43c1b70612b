/**
 * Security headers (helmet, with a Content-Security-Policy that allows only
 * our own scripts and styles), a request id for logs and the audit trail,
 * and the check that keeps redirects on this site.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';

/**
 * Where Stripe's hosted Checkout pages live: checkout.stripe.com, plus the
 * API's own origin when it is pointed elsewhere (a stand-in such as the
 * tests' fake Stripe serves its checkout page there). Empty without Stripe.
 */
export function checkoutOrigins(stripe: { host: string; port: number; protocol: string } | null): string[] {
  if (!stripe) return [];
  return stripe.host === 'api.stripe.com' ? ['https://checkout.stripe.com'] : ['https://checkout.stripe.com', `${stripe.protocol}://${stripe.host}:${stripe.port}`];
}

/**
 * `formOrigins`: other sites a form submission may end up on. Browsers hold
 * a form's redirect to form-action too, so the pay button's 303 to Stripe
 * Checkout is blocked unless Checkout's origin is listed here.
 */
export function securityHeaders(options: { formOrigins?: readonly string[] } = {}) {
  return helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'", ...(options.formOrigins ?? [])],
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
