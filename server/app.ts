/**
 * createApp(deps): the Express application. It never listens and never
 * connects; main.ts (and the tests) hand it a connected database.
 */
import path from 'node:path';
import MongoStore from 'connect-mongo';
import { csrfSync } from 'csrf-sync';
import express, { type Express } from 'express';
import { engine } from 'express-handlebars';
import session from 'express-session';
import type { MongoClient } from 'mongodb';
import type { Config, StripeConfig } from './config.js';
import { configurePassport } from './auth/passport.js';
import './auth/types.js';
import { errorHandler, notFound } from './http/error-handler.js';
import { flashMiddleware } from './http/flash.js';
import { i18nMiddleware, loadDictionaries } from './http/i18n.js';
import { formRateLimit } from './http/rate-limits.js';
import { checkoutOrigins, requestId, securityHeaders } from './http/security.js';
import { viewHelpers } from './http/view-helpers.js';
import type { Mailer } from './services/mail.js';
import { createAccountRouter } from '../routes/account.js';
import { createAdminRouter } from '../routes/admin.js';
import { createAuditRouter } from '../routes/audit.js';
import { createAuthRouter } from '../routes/auth.js';
import { createCatalogueRouter } from '../routes/catalogue.js';
import { createDashboardRouter } from '../routes/dashboards.js';
import { createDemandRouter } from '../routes/demands.js';
import { createLicensingRouter } from '../routes/licensing.js';
import { createPaymentsRouter, stripeWebhookHandler } from '../routes/payments.js';
import { createHomeRouter } from '../routes/home.js';
import { createFundAdminRouter } from '../routes/fund-admin.js';
import { checkpointUploadParser, createFundCheckpointsRouter } from '../routes/fund-checkpoints.js';
import { claimUploadParser, createFundClaimsRouter } from '../routes/fund-claims.js';
import { createFundConsoleRouter } from '../routes/fund-console.js';
import { createFundSubsidiesRouter } from '../routes/fund-subsidies.js';
import { createPatentImportRouter, importUploadParser } from '../routes/patent-import.js';
import { createPatentRouter } from '../routes/patents.js';
import { createRegisterRouter } from '../routes/register.js';

export interface AppDeps {
  config: Pick<Config, 'sessionSecret' | 'publicUrl' | 'trustProxy' | 'nodeEnv'> & { sessionSecret: string; stripe?: StripeConfig | null; contractFont?: string | null };
  /** The driver client behind Mongoose, for the session store. */
  mongoClient: MongoClient;
  mailer: Mailer;
  logger?: { error(msg: string, err?: unknown): void };
  /** Per-address form limits (tests raise them). */
  rateLimits?: { login: number; signup: number; reset: number };
}

export interface RouteDeps {
  mailer: Mailer;
  publicUrl: string;
  /** Null: no Stripe account configured, invoices are paid by bank transfer only. */
  stripe: StripeConfig | null;
  /** CONTRACT_FONT; null: the PDF contract looks for a system CJK font. */
  contractFont: string | null;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  const root = path.resolve('.');
  const logger = deps.logger ?? { error: (m: string, e?: unknown) => console.error(m, e) };
  app.set('trust proxy', deps.config.trustProxy);
  app.disable('x-powered-by');
  app.engine('.hbs', engine({ extname: '.hbs', defaultLayout: 'main', helpers: viewHelpers, layoutsDir: path.join(root, 'views/layouts'), partialsDir: path.join(root, 'views/partials') }));
  app.set('view engine', '.hbs');
  app.set('views', path.join(root, 'views'));

  app.use(requestId);
  app.use(securityHeaders({ formOrigins: checkoutOrigins(deps.config.stripe ?? null) }));
  app.use('/static', express.static(path.join(root, 'public'), { maxAge: '1h', index: false }));
  app.get('/healthz', async (_req, res) => {
    try {
      await deps.mongoClient.db('admin').command({ ping: 1 });
      res.json({ status: 'ok', database: 'ok' });
    } catch {
      res.status(503).json({ status: 'unavailable', database: 'unreachable' });
    }
  });

  const dicts = loadDictionaries(path.join(root, 'views/locales'));
  // Body-parser errors (413, 400) are rendered before the session exists, so
  // they need a translator too: Accept-Language only here, the full choice below.
  app.use(i18nMiddleware(dicts));
  // Stripe signs the exact bytes it sent: the webhook takes the raw body, before any parser, and outside CSRF and sessions.
  app.post('/webhooks/stripe', express.raw({ type: () => true, limit: '1mb' }), stripeWebhookHandler(deps.config.stripe ?? null));
  app.use(express.urlencoded({ extended: false, limit: '100kb', parameterLimit: 200 }));
  app.use(session({
    name: 'yrd.sid',
    secret: deps.config.sessionSecret,
    resave: false,
    saveUninitialized: false,
    store: MongoStore.create({ client: deps.mongoClient as never, collectionName: 'sessions', ttl: 14 * 86_400 }),
    cookie: { httpOnly: true, sameSite: 'lax', secure: deps.config.publicUrl.startsWith('https://'), maxAge: 14 * 86_400_000 },
  }));
  const passport = configurePassport();
  app.use(passport.session());

  app.use(i18nMiddleware(dicts));
  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    getTokenFromRequest: (req) => (typeof req.body?._csrf === 'string' ? req.body._csrf : undefined),
  });
  app.use((req, res, next) => {
    // Lazy, so a visitor who never sees a form never gets a session written.
    Object.defineProperty(res.locals, 'csrfToken', { get: () => generateToken(req), enumerable: true });
    const u = req.user;
    res.locals.currentUser = u ? { ...u, orgName: req.locale === 'en' && u.orgNameEn ? u.orgNameEn : u.orgName } : null;
    res.locals.path = req.path;
    // The language switcher returns here, query string included.
    res.locals.returnTo = req.originalUrl;
    next();
  });
  // Multipart bodies carry _csrf inside them: the import upload is parsed first so the check below can read it.
  app.post('/patents/import', importUploadParser);
  app.post(['/fund/claims', '/fund/claims/:id/evidence'], claimUploadParser);
  app.post('/fund/checkpoints/check', checkpointUploadParser);
  app.use(csrfSynchronisedProtection);
  app.use(flashMiddleware);

  const limits = deps.rateLimits ?? { login: 20, signup: 10, reset: 5 };
  const routeDeps: RouteDeps = { mailer: deps.mailer, publicUrl: deps.config.publicUrl, stripe: deps.config.stripe ?? null, contractFont: deps.config.contractFont ?? null };
  app.use(['/login'], formRateLimit({ windowMinutes: 15, limit: limits.login }));
  app.use(['/register'], formRateLimit({ windowMinutes: 60, limit: limits.signup }));
  app.use(['/password/forgot'], formRateLimit({ windowMinutes: 60, limit: limits.reset }));
  app.use(createHomeRouter());
  app.use(createAuthRouter(routeDeps));
  app.use(createRegisterRouter(routeDeps));
  app.use(createAccountRouter(routeDeps));
  app.use(createAdminRouter(routeDeps));
  app.use(createAuditRouter());
  // Before the register's router, whose /patents/:id would otherwise take /patents/import.
  app.use(createPatentImportRouter(routeDeps));
  app.use(createPatentRouter(routeDeps));
  app.use(createCatalogueRouter(routeDeps));
  app.use(createDemandRouter(routeDeps));
  app.use(createLicensingRouter(routeDeps));
  app.use(createPaymentsRouter(routeDeps));
  app.use(createDashboardRouter(routeDeps));
  app.use(createFundAdminRouter(routeDeps));
  app.use(createFundClaimsRouter(routeDeps));
  app.use(createFundSubsidiesRouter(routeDeps));
  // Before the console, whose /fund/ledger/:seq would otherwise take /fund/ledger/export.jsonl.
  app.use(createFundCheckpointsRouter(routeDeps));
  app.use(createFundConsoleRouter(routeDeps));

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
