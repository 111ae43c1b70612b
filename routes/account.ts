/**
 * The signed-in user's account: their organisation's colleagues, and (for
 * the organisation's admin) inviting a colleague by e-mail.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { RouteDeps } from '../server/app.js';
import { requireLogin } from '../server/auth/guards.js';
import { ValidationError } from '../server/errors.js';
import { ctxOf } from '../server/http/context.js';
import { flash } from '../server/http/flash.js';
import { fieldMessages, parseForm, sticky } from '../server/http/forms.js';
import { inviteColleague, listColleagues } from '../server/services/accounts.js';

const inviteSchema = z.object({ email: z.string().trim().toLowerCase().max(254, 'form.too_long').email('user.email.invalid') });

export function createAccountRouter(deps: RouteDeps): Router {
  const router = Router();

  /** GET /account */
  router.get('/account', requireLogin(), async (req, res) => {
    const colleagues = await listColleagues(ctxOf(req));
    res.render('account/index', { title: res.locals.t('account.title'), colleagues, values: {} });
  });

  /** POST /account/invitations */
  router.post('/account/invitations', requireLogin(), async (req, res) => {
    try {
      const f = parseForm(inviteSchema, req.body);
      await inviteColleague(ctxOf(req), f.email, deps.mailer, deps.publicUrl);
      flash(req, 'success', 'invite.sent', { email: f.email });
      res.redirect('/account');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const colleagues = await listColleagues(ctxOf(req));
      res.status(422).render('account/index', { title: res.locals.t('account.title'), colleagues, errors: fieldMessages(err, res.locals.t), values: sticky(req.body) });
    }
  });

  return router;
}
