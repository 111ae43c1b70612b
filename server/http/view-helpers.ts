/**
 * Handlebars helpers. They format and translate what the route passed in;
 * none of them fetches data.
 */
import type { HelperOptions } from 'handlebars';

type T = (key: string, params?: Record<string, unknown>) => string;

function translate(options: HelperOptions): T {
  return (options.data?.root?.t as T | undefined) ?? ((k: string) => k);
}

export const viewHelpers = {
  /** {{t "key" name=value}}: a dictionary string in the reader's locale. */
  t(key: string, options: HelperOptions): string {
    return translate(options)(key, options.hash);
  },
  eq(a: unknown, b: unknown): boolean {
    return String(a) === String(b);
  },
  /** Date and time in the reader's locale, in China Standard Time. */
  datetime(value: unknown, options: HelperOptions): string {
    if (!(value instanceof Date) && typeof value !== 'string') return '';
    const locale = options.data?.root?.locale === 'en' ? 'en-GB' : 'zh-CN';
    return new Date(value).toLocaleString(locale, { timeZone: 'Asia/Shanghai', dateStyle: 'medium', timeStyle: 'short' });
  },
  /** Whole yuan from fen, with thousands separators. */
  yuan(fen: unknown): string {
    const n = typeof fen === 'number' ? fen : Number(fen);
    if (!Number.isFinite(n)) return '';
    return (n / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  },
  json(value: unknown): string {
    return JSON.stringify(value ?? {});
  },
  add(a: number, b: number): number {
    return Number(a) + Number(b);
  },
};
