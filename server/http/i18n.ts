/**
 * Two locales, zh-CN (default) and en, each one flat dictionary in
 * views/locales/. The locale comes from the user's switcher choice (kept in
 * the session and, for signed-in users, their profile), else from
 * Accept-Language, else zh-CN. A key missing from a dictionary is a bug that
 * a test catches; at run time it falls back to the other locale, then the key.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import type { Locale } from '../../models/user.js';
import { SME_REASON_TEMPLATES } from '../domain/sme-size.js';
import type { MessageParams } from '../errors.js';

export const LOCALES: readonly Locale[] = ['zh-CN', 'en'];
export const DEFAULT_LOCALE: Locale = 'zh-CN';

export type Dictionary = Record<string, string>;

/**
 * Reads both dictionaries once: `<locale>.json` plus one file per feature
 * area in `<locale>/` (so areas are edited apart). A key defined twice is a
 * mistake that would silently shadow a text, so it stops start-up. The SME
 * reason templates live with the classification code.
 */
export function loadDictionaries(dir = path.resolve('views/locales')): Record<Locale, Dictionary> {
  const read = (l: Locale): Dictionary => {
    const out: Dictionary = { ...(SME_REASON_TEMPLATES[l] as Dictionary) };
    const areaDir = path.join(dir, l);
    const areas = fs.existsSync(areaDir) ? fs.readdirSync(areaDir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(areaDir, f)) : [];
    for (const file of [path.join(dir, `${l}.json`), ...areas]) {
      for (const [key, text] of Object.entries(JSON.parse(fs.readFileSync(file, 'utf8')) as Dictionary)) {
        if (key in out) throw new Error(`dictionary ${l}: key ${key} is defined twice (again in ${path.basename(file)})`);
        out[key] = text;
      }
    }
    return out;
  };
  return { 'zh-CN': read('zh-CN'), en: read('en') };
}

export type Translate = (key: string, params?: MessageParams) => string;

export function translator(dicts: Record<Locale, Dictionary>, locale: Locale): Translate {
  const primary = dicts[locale];
  const fallback = dicts[locale === 'en' ? 'zh-CN' : 'en'];
  return (key, params = {}) => {
    const template = primary[key] ?? fallback[key] ?? key;
    return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
  };
}

/** The best of our locales for an Accept-Language header (q-values honoured). */
export function negotiate(header: string | undefined): Locale {
  if (!header) return DEFAULT_LOCALE;
  const ranked = header.split(',').map((part) => {
    const [tag, ...rest] = part.trim().split(';');
    const q = rest.find((p) => p.trim().startsWith('q='));
    return { tag: tag.toLowerCase(), q: q ? Number(q.trim().slice(2)) || 0 : 1 };
  }).sort((a, b) => b.q - a.q);
  for (const { tag, q } of ranked) {
    if (q <= 0) continue;
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return DEFAULT_LOCALE;
}

export function isLocale(v: unknown): v is Locale {
  return v === 'zh-CN' || v === 'en';
}

declare module 'express-session' {
  interface SessionData {
    locale?: Locale;
  }
}

/** Sets `req.locale`, `res.locals.t` and `res.locals.locale` for every request. */
export function i18nMiddleware(dicts: Record<Locale, Dictionary>) {
  return (req: Request, res: Response, next: NextFunction) => {
    const chosen = req.session?.locale ?? req.user?.locale;
    const locale = isLocale(chosen) ? chosen : negotiate(req.get('accept-language'));
    req.locale = locale;
    res.locals.locale = locale;
    res.locals.htmlLang = locale === 'en' ? 'en' : 'zh-CN';
    res.locals.t = translator(dicts, locale);
    next();
  };
}
