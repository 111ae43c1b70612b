/**
 * The only reader of `process.env`. Every variable is validated at start-up
 * and a bad one is named in the error, so a misconfigured deployment fails
 * at once with a message instead of later with a stack trace.
 */
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseEd25519PublicKey, pemBlocks } from './domain/ledger-checkpoint-text.js';

export interface Config {
  /** Set: connect to this MongoDB. Unset: run the embedded store. */
  readonly mongodbUri: string | null;
  /** Where the embedded store (and other local files) live. */
  readonly dataDir: string;
  /** Database name used in embedded mode (a MONGODB_URI names its own). */
  readonly dbName: string;
  readonly port: number;
  readonly nodeEnv: 'development' | 'production' | 'test';
  /** Signs session cookies; required in production, generated under DATA_DIR otherwise. */
  readonly sessionSecret: string | null;
  /** The site's public address, used in e-mailed links; https turns on secure cookies. */
  readonly publicUrl: string;
  /** SMTP connection URL; unset writes mail to DATA_DIR/outbox instead. */
  readonly smtpUrl: string | null;
  readonly mailFrom: string;
  /** Express's `trust proxy` setting: hops of reverse proxies in front of the app. */
  readonly trustProxy: number;
  /** Load the demo data into an empty database on start: 'auto' (embedded store only), 'always', 'never'. */
  readonly seedDemo: 'auto' | 'always' | 'never';
  /** Days an invoice may be overdue before the default sweep declares it (and its licence) defaulted; the fund's rule. */
  readonly defaultDaysOverdue: number;
  /** Stripe Checkout; null (no STRIPE_SECRET_KEY) means invoices are paid by bank transfer only. */
  readonly stripe: StripeConfig | null;
  /**
   * A font file with Chinese glyphs for the PDF contract (.ttf, .otf, or .ttc
   * optionally with `#PostScriptName` to pick the face); null: look in the
   * usual system places (server/services/contract-font.ts).
   */
  readonly contractFont: string | null;
  /**
   * The fund ledger's Ed25519 checkpoint-signing key, PKCS#8 PEM text.
   * LEDGER_SIGNING_KEY holds either the PEM itself (line breaks may be written
   * as \n) or the path of a PEM file. Unset: generated on first start and kept
   * as DATA_DIR/ledger-signing-key.pem (server/services/fund/signing-key.ts) —
   * except in production with MONGODB_URI, where every instance must sign
   * with the same key, so it is required.
   */
  readonly ledgerSigningKey: string | null;
  /**
   * LEDGER_RETIRED_KEYS: the public keys (SPKI PEM, inline or a file, one or
   * more blocks) of signing keys replaced by a rotation. Their checkpoints
   * stay trusted by the console's checks and are offered with the current
   * key for download; nothing new is signed with them.
   */
  readonly ledgerRetiredKeys: readonly string[];
}

/** Where and how the app talks to Stripe: host, port and protocol are settable so tests use a fake on loopback. */
export interface StripeConfig {
  readonly secretKey: string;
  readonly webhookSecret: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http' | 'https';
  /** Checkout's payment_method_types: what the Stripe account has enabled (card; alipay, wechat_pay where allowed). */
  readonly paymentMethods: readonly string[];
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const mongodbUri = env.MONGODB_URI?.trim() || null;
  if (mongodbUri && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    problems.push('MONGODB_URI must start with mongodb:// or mongodb+srv://');
  }
  const portRaw = env.PORT ?? '3000';
  const port = Number(portRaw);
  if (!/^\d+$/.test(portRaw) || port > 65535) problems.push(`PORT must be a whole number from 0 to 65535 (got "${portRaw}")`);
  const nodeEnv = (env.NODE_ENV ?? 'development') as Config['nodeEnv'];
  if (!['development', 'production', 'test'].includes(nodeEnv)) {
    problems.push(`NODE_ENV must be development, production or test (got "${nodeEnv}")`);
  }
  const dbName = env.DB_NAME ?? 'yrd_exchange';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(dbName)) problems.push('DB_NAME may use letters, digits, _ and - (at most 63)');
  const sessionSecret = env.SESSION_SECRET ?? null;
  if (sessionSecret !== null && sessionSecret.length < 32) problems.push('SESSION_SECRET must be at least 32 characters');
  if (nodeEnv === 'production' && !sessionSecret) problems.push('SESSION_SECRET is required when NODE_ENV=production');
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${portRaw}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(publicUrl)) problems.push(`PUBLIC_URL must be an http(s) address (got "${publicUrl}")`);
  const smtpUrl = env.SMTP_URL?.trim() || null;
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) problems.push('SMTP_URL must start with smtp:// or smtps://');
  const trustRaw = env.TRUST_PROXY ?? '0';
  if (!/^\d+$/.test(trustRaw)) problems.push(`TRUST_PROXY must be the number of proxy hops, e.g. 0 or 1 (got "${trustRaw}")`);
  const seedDemo = (env.SEED_DEMO ?? 'auto') as Config['seedDemo'];
  if (!['auto', 'always', 'never'].includes(seedDemo)) problems.push(`SEED_DEMO must be auto, always or never (got "${seedDemo}")`);
  const defaultDaysRaw = env.DEFAULT_DAYS_OVERDUE ?? '90';
  if (!/^\d+$/.test(defaultDaysRaw) || Number(defaultDaysRaw) < 1 || Number(defaultDaysRaw) > 3650) {
    problems.push(`DEFAULT_DAYS_OVERDUE must be a whole number of days from 1 to 3650 (got "${defaultDaysRaw}")`);
  }
  const stripe = stripeConfig(env, problems);
  const contractFont = contractFontConfig(env, problems);
  const ledgerSigningKey = ledgerSigningKeyConfig(env, problems);
  const ledgerRetiredKeys = ledgerRetiredKeysConfig(env, problems);
  if (nodeEnv === 'production' && mongodbUri && !ledgerSigningKey && !problems.some((p) => p.startsWith('LEDGER_SIGNING_KEY'))) {
    problems.push('LEDGER_SIGNING_KEY is required when NODE_ENV=production and MONGODB_URI is set (every instance must sign checkpoints with one key)');
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return Object.freeze({
    mongodbUri,
    dataDir: path.resolve(env.DATA_DIR ?? './data'),
    dbName,
    port,
    nodeEnv,
    sessionSecret,
    publicUrl,
    smtpUrl,
    mailFrom: env.MAIL_FROM ?? 'YRD Exchange <no-reply@localhost>',
    trustProxy: Number(trustRaw),
    seedDemo,
    defaultDaysOverdue: Number(defaultDaysRaw),
    stripe,
    contractFont,
    ledgerSigningKey,
    ledgerRetiredKeys,
  });
}

/** LEDGER_SIGNING_KEY: inline PEM or a file, checked now to be an Ed25519 private key so a bad one fails at start-up. */
function ledgerSigningKeyConfig(env: NodeJS.ProcessEnv, problems: string[]): string | null {
  const raw = env.LEDGER_SIGNING_KEY?.trim() || null;
  if (!raw) return null;
  let pem = raw.replace(/\\n/g, '\n');
  if (!pem.startsWith('-----BEGIN')) {
    if (!fs.existsSync(raw) || !fs.statSync(raw).isFile()) {
      problems.push(`LEDGER_SIGNING_KEY must be a PKCS#8 PEM private key or the path of one (no file "${raw}")`);
      return null;
    }
    pem = fs.readFileSync(raw, 'utf8');
  }
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType === 'ed25519') return pem;
    problems.push(`LEDGER_SIGNING_KEY must be an Ed25519 key (got ${key.asymmetricKeyType ?? 'unknown'})`);
  } catch {
    problems.push('LEDGER_SIGNING_KEY is not a readable PKCS#8 PEM private key');
  }
  return null;
}

/** LEDGER_RETIRED_KEYS: inline PEM or a file of one or more Ed25519 public keys, each checked now. */
function ledgerRetiredKeysConfig(env: NodeJS.ProcessEnv, problems: string[]): string[] {
  const raw = env.LEDGER_RETIRED_KEYS?.trim() || null;
  if (!raw) return [];
  let text = raw.replace(/\\n/g, '\n');
  if (!text.startsWith('-----BEGIN')) {
    if (!fs.existsSync(raw) || !fs.statSync(raw).isFile()) {
      problems.push(`LEDGER_RETIRED_KEYS must be PEM public keys or the path of a file of them (no file "${raw}")`);
      return [];
    }
    text = fs.readFileSync(raw, 'utf8');
  }
  const keys = pemBlocks(text);
  keys.forEach((pem, i) => {
    if (!parseEd25519PublicKey(pem)) problems.push(`LEDGER_RETIRED_KEYS: key ${i + 1} of ${keys.length} is not an Ed25519 public key in SPKI PEM ("-----BEGIN PUBLIC KEY-----")`);
  });
  return keys;
}

/** CONTRACT_FONT: checked at start-up to be a readable font file, so a typo fails now rather than as a 503 on the first download. */
function contractFontConfig(env: NodeJS.ProcessEnv, problems: string[]): string | null {
  const raw = env.CONTRACT_FONT?.trim() || null;
  if (!raw) return null;
  const file = raw.replace(/#[^#/]*$/, '');
  if (!/\.(ttf|otf|ttc)$/i.test(file)) problems.push(`CONTRACT_FONT must be a .ttf, .otf or .ttc file (got "${raw}")`);
  else if (file !== raw && !/\.ttc$/i.test(file)) problems.push(`CONTRACT_FONT may name a face (#Name) only in a .ttc collection (got "${raw}")`);
  else if (!fs.existsSync(file) || !fs.statSync(file).isFile()) problems.push(`CONTRACT_FONT names a file that does not exist (got "${file}")`);
  return path.resolve(file) + raw.slice(file.length);
}

/** STRIPE_*: all or nothing — a key without the webhook secret could take money it can never confirm. */
function stripeConfig(env: NodeJS.ProcessEnv, problems: string[]): StripeConfig | null {
  const secretKey = env.STRIPE_SECRET_KEY?.trim() || null;
  if (!secretKey) return null;
  if (!/^(sk|rk)_(test|live)_\w+$/.test(secretKey)) problems.push('STRIPE_SECRET_KEY must look like sk_test_… or sk_live_…');
  const webhookSecret = env.STRIPE_WEBHOOK_SECRET?.trim() ?? '';
  if (!/^whsec_\w+$/.test(webhookSecret)) problems.push('STRIPE_WEBHOOK_SECRET (whsec_…) is required when STRIPE_SECRET_KEY is set');
  const host = env.STRIPE_API_HOST?.trim() || 'api.stripe.com';
  if (!/^[A-Za-z0-9.-]+$/.test(host)) problems.push(`STRIPE_API_HOST must be a host name (got "${host}")`);
  const portRaw = env.STRIPE_API_PORT?.trim() || '443';
  const port = Number(portRaw);
  if (!/^\d+$/.test(portRaw) || port < 1 || port > 65535) problems.push(`STRIPE_API_PORT must be a port number (got "${portRaw}")`);
  const protocol = (env.STRIPE_API_PROTOCOL?.trim() || 'https') as StripeConfig['protocol'];
  if (protocol !== 'http' && protocol !== 'https') problems.push(`STRIPE_API_PROTOCOL must be http or https (got "${protocol}")`);
  const paymentMethods = (env.STRIPE_PAYMENT_METHODS ?? 'card').split(',').map((m) => m.trim()).filter(Boolean);
  if (!paymentMethods.length || paymentMethods.some((m) => !/^[a-z_]+$/.test(m))) {
    problems.push('STRIPE_PAYMENT_METHODS must list Stripe payment method types, e.g. card,alipay,wechat_pay');
  }
  return Object.freeze({ secretKey, webhookSecret, host, port, protocol, paymentMethods: Object.freeze(paymentMethods) });
}
