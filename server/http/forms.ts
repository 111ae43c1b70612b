/**
 * Form parsing at the edge: one zod schema per form, whose messages are
 * dictionary keys. A failure becomes a ValidationError carrying one error per
 * field, which the route re-renders next to each field with what was typed.
 */
import type { z } from 'zod';
import { ValidationError, type FieldError } from '../errors.js';

/** Keys our schemas use start with one of these; anything else (zod's own wording) is shown generically. */
const OWN_KEY = /^(form|org|user|auth|verify|invite|token|audit)\./;

export function parseForm<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const fields: Record<string, FieldError> = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? '_form');
    if (fields[field]) continue;
    fields[field] = { key: OWN_KEY.test(issue.message) ? issue.message : 'form.invalid' };
  }
  throw new ValidationError(fields);
}

/** The submitted values to put back in the form (strings only; never the password). */
export function sticky(body: unknown, omit: string[] = ['password', 'passwordConfirm', '_csrf']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!body || typeof body !== 'object') return out;
  for (const [k, v] of Object.entries(body)) {
    if (omit.includes(k)) continue;
    if (typeof v === 'string') out[k] = v.slice(0, 500);
  }
  return out;
}

/** Field errors translated for the view. */
export function fieldMessages(err: ValidationError, t: (k: string, p?: Record<string, string | number>) => string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, e] of Object.entries(err.fields)) out[field] = t(e.key, e.params);
  return out;
}
