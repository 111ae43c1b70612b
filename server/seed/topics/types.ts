/**
 * The shape of one technical topic in the synthetic catalogue. Lists hold
 * `'中文|English'` pairs so every patent can be written in both languages from
 * one pick; SME text is Chinese only, as SMEs write it.
 */
import type { TechField } from '../../domain/tech-fields.js';

export interface Topic {
  /** Stable key: the hidden label of generated patents and needs. */
  key: string;
  nameZh: string;
  nameEn: string;
  /** First is the primary field. */
  fields: TechField[];
  /** Typical IPC symbols, normalised without spaces. */
  ipc: string[];
  /** The technical domain named in "属于…技术领域". */
  domain: string;
  /** What the patent claims: a material, a device, a system. */
  subjects: string[];
  /** How it works: the technique that makes it new. */
  methods: string[];
  /** Claim type appended to the title: 制备方法, 装置, 系统… */
  forms: string[];
  /** The technical problem in patent language. */
  problems: string[];
  /** The same problems as a TTO writes them in the plain-language summary. */
  plain: string[];
  applications: string[];
  advantages: string[];
  /** What an SME in this area does ("做电动自行车电池"), Chinese only. */
  smes: string[];
  /** How an SME describes its problem: `'title|text'`. */
  asks: string[];
}

/** Split a `'中文|English'` pair. */
export function zh(pair: string): string {
  const i = pair.indexOf('|');
  return i < 0 ? pair : pair.slice(0, i);
}

export function en(pair: string): string {
  const i = pair.indexOf('|');
  return i < 0 ? pair : pair.slice(i + 1);
}
