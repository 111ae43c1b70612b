/**
 * The landing page for visitors, each role's home page, and the language
 * switcher.
 */
import { Router } from 'express';
import { Organization } from '../models/organization.js';
import { isLocale } from '../server/http/i18n.js';
import { ctxOf } from '../server/http/context.js';
import { isSafeRedirect } from '../server/http/security.js';
import { setLocale } from '../server/services/accounts.js';

export function createHomeRouter(): Router {
  const router = Router();

  /** GET / */
  router.get('/', async (req, res) => {
    if (!req.user) {
      res.render('home/landing', { title: res.locals.t('landing.title') });
      return;
    }
    const org = await Organization.findById(req.user.orgId).lean();
    const reason = org?.enterprise?.sizeReason as { key: string; params: Record<string, string | number> } | null | undefined;
    const sizeReasonText = reason ? res.locals.t(reason.key, reason.params) : null;
    res.render(`home/${req.user.role}`, { title: res.locals.t(`home.${req.user.role}.title`), org, sizeReasonText });
  });

  /** POST /locale: the language switcher; remembered in the session and the user's profile. */
  router.post('/locale', async (req, res) => {
    const locale = req.body?.locale;
    if (isLocale(locale)) {
      req.session.locale = locale;
      await setLocale(ctxOf(req), locale);
    }
    const back = req.body?.returnTo;
    res.redirect(isSafeRedirect(back) ? back : '/');
  });

  return router;
}
