/**
 * Login and logout, password reset by e-mailed token, and accepting an
 * invitation. Per-address rate limits are mounted in app.ts; per-account
 * lockout is in services/accounts.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import passport from 'passport';
import { z } from 'zod';
import type { RouteDeps } from '../server/app.js';
import type { SessionUser } from '../server/auth/types.js';
import { ValidationError } from '../server/errors.js';
import { flash } from '../server/http/flash.js';
import { fieldMessages, parseForm, sticky } from '../server/http/forms.js';
import { isSafeRedirect } from '../server/http/security.js';
import { acceptInvitation, requestPasswordReset, resetPassword } from '../server/services/accounts.js';
import { MIN_PASSWORD_LENGTH } from '../server/services/passwords.js';
import { peekToken } from '../server/services/tokens.js';
import { promisify } from 'node:util';

const email = z.string().trim().toLowerCase().max(254, 'form.too_long').email('user.email.invalid');
const password = z.string().min(MIN_PASSWORD_LENGTH, 'user.password.too_short').max(200, 'form.too_long');

const resetSchema = z.object({ password, passwordConfirm: z.string() })
  .refine((v) => v.password === v.passwordConfirm, { message: 'user.password.mismatch', path: ['passwordConfirm'] });
const invitationSchema = z.object({ name: z.string().trim().min(1, 'form.required').max(80, 'form.too_long'), password, passwordConfirm: z.string() })
  .refine((v) => v.password === v.passwordConfirm, { message: 'user.password.mismatch', path: ['passwordConfirm'] });

/** Renders a form again with a 422, each error next to its field and the typed values kept. */
function rerender(res: Response, view: string, title: string, err: ValidationError, body: unknown, extra: object = {}) {
  res.status(422).render(view, { title: res.locals.t(title), errors: fieldMessages(err, res.locals.t), values: sticky(body), ...extra });
}

export function createAuthRouter(deps: RouteDeps): Router {
  const router = Router();

  /** GET /login */
  router.get('/login', (req, res) => {
    if (req.user) return res.redirect('/');
    res.render('auth/login', { title: res.locals.t('login.title'), values: {} });
  });

  /** POST /login */
  router.post('/login', (req: Request, res: Response, next: NextFunction) => {
    // Read before logIn: the session is regenerated on login (fixation defence) and loses it.
    const returnTo = req.session.returnTo;
    passport.authenticate('local', (err: unknown, user: SessionUser | false) => {
      if (err) return next(err);
      if (!user) {
        res.status(401).render('auth/login', { title: res.locals.t('login.title'), error: res.locals.t('login.failed'), values: sticky(req.body) });
        return;
      }
      req.logIn(user, (loginErr) => {
        if (loginErr) return next(loginErr);
        req.session.locale = user.locale;
        res.redirect(isSafeRedirect(returnTo) ? returnTo : '/');
      });
    })(req, res, next);
  });

  /** POST /logout */
  router.post('/logout', async (req, res) => {
    const locale = req.locale;
    // Passport's logout regenerates the session (the old one is destroyed); only the language choice carries over.
    await promisify(req.logout.bind(req))();
    req.session.locale = locale;
    res.redirect('/');
  });

  /** GET /password/forgot */
  router.get('/password/forgot', (_req, res) => {
    res.render('auth/forgot', { title: res.locals.t('forgot.title'), values: {} });
  });

  /** POST /password/forgot: the same answer whether or not the address is registered. */
  router.post('/password/forgot', async (req, res) => {
    let parsed;
    try {
      parsed = parseForm(z.object({ email }), req.body);
    } catch (err) {
      if (err instanceof ValidationError) return rerender(res, 'auth/forgot', 'forgot.title', err, req.body);
      throw err;
    }
    await requestPasswordReset({ requestId: req.requestId, ip: req.ip ?? '' }, parsed.email, deps.mailer, deps.publicUrl);
    flash(req, 'info', 'forgot.sent');
    res.redirect('/login');
  });

  /** GET /password/reset/:token */
  router.get('/password/reset/:token', async (req, res) => {
    const valid = await peekToken('password_reset', req.params.token);
    res.status(valid ? 200 : 410).render('auth/reset', { title: res.locals.t('reset.title'), invalid: !valid, values: {} });
  });

  /** POST /password/reset/:token */
  router.post('/password/reset/:token', async (req, res) => {
    try {
      const parsed = parseForm(resetSchema, req.body);
      await resetPassword({ requestId: req.requestId, ip: req.ip ?? '' }, req.params.token, parsed.password);
    } catch (err) {
      if (err instanceof ValidationError) return rerender(res, 'auth/reset', 'reset.title', err, req.body, { invalid: err.key === 'token.invalid' });
      throw err;
    }
    flash(req, 'success', 'reset.done');
    res.redirect('/login');
  });

  /** GET /invitations/:token */
  router.get('/invitations/:token', async (req, res) => {
    const invitation = await peekToken('invitation', req.params.token);
    res.status(invitation ? 200 : 410).render('auth/invitation', { title: res.locals.t('invitation.title'), invalid: !invitation, email: invitation?.email, values: {} });
  });

  /** POST /invitations/:token */
  router.post('/invitations/:token', async (req, res) => {
    try {
      const parsed = parseForm(invitationSchema, req.body);
      await acceptInvitation({ requestId: req.requestId, ip: req.ip ?? '' }, req.params.token, { name: parsed.name, password: parsed.password, locale: req.locale });
    } catch (err) {
      if (err instanceof ValidationError) {
        const invitation = await peekToken('invitation', req.params.token);
        return rerender(res, 'auth/invitation', 'invitation.title', err, req.body, { invalid: err.key === 'token.invalid', email: invitation?.email });
      }
      throw err;
    }
    flash(req, 'success', 'invitation.accepted');
    res.redirect('/login');
  });

  return router;
}
