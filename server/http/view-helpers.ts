/**
 * Handlebars helpers. They format and translate what the route passed in;
 * none of them fetches data.
 */
import type { HelperOptions } from 'handlebars';
import { formatYuan } from '../domain/money.js';

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
  /** An amount of fen as '¥12,345.67' (integer arithmetic; see domain/money.ts). */
  yuan(fen: unknown): string {
    return typeof fen === 'number' && Number.isSafeInteger(fen) ? formatYuan(fen) : '';
  },
  json(value: unknown): string {
    return JSON.stringify(value ?? {});
  },
  add(a: number, b: number): number {
    return Number(a) + Number(b);
  },
  gt(a: unknown, b: unknown): boolean {
    return Number(a) > Number(b);
  },
  lt(a: unknown, b: unknown): boolean {
    return Number(a) < Number(b);
  },
  /** Joins strings, for building dictionary keys: {{t (concat "patent.type." type)}}. */
  concat(...args: unknown[]): string {
    return args.slice(0, -1).map(String).join('');
  },
  /** A calendar date (stored as UTC midnight) as YYYY-MM-DD. */
  date(value: unknown): string {
    if (!(value instanceof Date) && typeof value !== 'string') return '';
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10);
  },
  /** The integers from..to inclusive (small option lists). */
  range(from: unknown, to: unknown): number[] {
    const [a, b] = [Number(from), Number(to)];
    return b >= a && b - a <= 100 ? Array.from({ length: b - a + 1 }, (_, i) => a + i) : [];
  },
};
