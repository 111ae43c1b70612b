/**
 * Self-registration of a university, institute or enterprise with its first
 * user. The organisation then waits for an admin's verification; the new
 * user is signed in and sees that status on their home page.
 */
import { Router } from 'express';
import { promisify } from 'node:util';
import { z } from 'zod';
import { REGIONS } from '../models/organization.js';
import type { RouteDeps } from '../server/app.js';
import { loadSessionUser } from '../server/auth/passport.js';
import { SECTORS } from '../server/domain/sme-size.js';
import { ValidationError } from '../server/errors.js';
import { ctxOf } from '../server/http/context.js';
import { flash } from '../server/http/flash.js';
import { fieldMessages, parseForm, sticky } from '../server/http/forms.js';
import { registerOrganization } from '../server/services/organizations.js';
import { MIN_PASSWORD_LENGTH } from '../server/services/passwords.js';

/** "1234.5" 万元 → fen, exactly (1 万元 = 1,000,000 fen); at most 6 decimals. */
export function wanToFen(input: string): number | null {
  const m = /^(\d{1,9})(?:\.(\d{1,6}))?$/.exec(input.trim());
  if (!m) return null;
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
}

/** Names are plain text: refuse markup characters outright rather than store them. */
const plainName = (max: number) => z.string().trim().min(1, 'form.required').max(max, 'form.too_long').refine((s) => !/[<>]/.test(s), 'form.no_markup');

const schema = z.object({
  kind: z.enum(['university', 'institute', 'enterprise'], 'org.kind.invalid'),
  nameZh: plainName(120),
  nameEn: z.string().trim().max(200, 'form.too_long').refine((s) => !/[<>]/.test(s), 'form.no_markup').default(''),
  region: z.enum(REGIONS, 'org.region.invalid'),
  uscc: z.string().trim().toUpperCase().length(18, 'org.uscc.length'),
  sector: z.string().optional(),
  employees: z.string().optional(),
  annualRevenueWan: z.string().optional(),
  name: plainName(80),
  email: z.string().trim().toLowerCase().max(254, 'form.too_long').email('user.email.invalid'),
  password: z.string().min(MIN_PASSWORD_LENGTH, 'user.password.too_short').max(200, 'form.too_long'),
  passwordConfirm: z.string(),
}).superRefine((v, ctx) => {
  if (v.password !== v.passwordConfirm) ctx.addIssue({ code: 'custom', message: 'user.password.mismatch', path: ['passwordConfirm'] });
  if (v.kind !== 'enterprise') return;
  if (!v.sector || !(SECTORS as readonly string[]).includes(v.sector)) ctx.addIssue({ code: 'custom', message: 'org.sector.invalid', path: ['sector'] });
  if (!v.employees || !/^\d{1,7}$/.test(v.employees.trim())) ctx.addIssue({ code: 'custom', message: 'org.employees.invalid', path: ['employees'] });
  if (!v.annualRevenueWan || wanToFen(v.annualRevenueWan) === null) ctx.addIssue({ code: 'custom', message: 'org.revenue.invalid', path: ['annualRevenueWan'] });
});

function formLocals(res: { locals: Record<string, unknown> }) {
  return { title: (res.locals.t as (k: string) => string)('register.title'), regions: REGIONS, sectors: SECTORS };
}

export function createRegisterRouter(_deps: RouteDeps): Router {
  const router = Router();

  /** GET /register */
  router.get('/register', (req, res) => {
    if (req.user) return res.redirect('/');
    res.render('register/form', { ...formLocals(res), values: { kind: 'enterprise' } });
  });

  /** POST /register */
  router.post('/register', async (req, res) => {
    let created;
    try {
      const f = parseForm(schema, req.body);
      const enterprise = f.kind === 'enterprise'
        ? { sector: f.sector as (typeof SECTORS)[number], employees: Number(f.employees), annualRevenueFen: wanToFen(f.annualRevenueWan ?? '')! }
        : undefined;
      created = await registerOrganization(
        ctxOf(req),
        { kind: f.kind, nameZh: f.nameZh, nameEn: f.nameEn, region: f.region, uscc: f.uscc, enterprise },
        { name: f.name, email: f.email, password: f.password, locale: req.locale },
      );
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      res.status(422).render('register/form', { ...formLocals(res), errors: fieldMessages(err, res.locals.t), values: sticky(req.body) });
      return;
    }
    const user = await loadSessionUser(String(created.user._id));
    if (user) await promisify(req.logIn.bind(req))(user as Express.User);
    flash(req, 'success', 'register.success');
    res.redirect('/');
  });

  return router;
}
