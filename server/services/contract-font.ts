/**
 * The font the PDF contract is set in. Chinese needs a CJK font and nothing
 * is downloaded at run time, so it comes from the machine: CONTRACT_FONT
 * when configured, else the first of the usual Debian places that holds a
 * face covering the contract's Chinese. A font that cannot draw the text is
 * never used: the route answers 503 naming what to install instead of
 * writing a PDF with empty boxes.
 *
 * Found once per process: reading a CJK collection takes about half a second
 * and ~20 MB, which every later download reuses. "Nothing installed" is
 * looked for again after a minute, so installing fonts-noto-cjk takes effect
 * without a restart (a configured font needs one anyway).
 */
import fs from 'node:fs/promises';
import * as fontkit from 'fontkit';

export interface ContractFont {
  readonly file: string;
  /** The font file's bytes; pdfkit embeds the subset each document uses. */
  readonly data: Buffer;
  /** The face inside a .ttc collection (pdfkit needs it); null for a single font. */
  readonly face: string | null;
  readonly postscriptName: string;
  /** Whether the face has a glyph for this character. */
  has(char: string): boolean;
}

/** Why there is no font: nothing on the system, or CONTRACT_FONT names an unusable one. */
export type ContractFontProblem = 'not_installed' | 'configured_unusable';

export type ContractFontLookup = { font: ContractFont; problem: null } | { font: null; problem: ContractFontProblem };

export interface FontCandidate {
  file: string;
  /** The preferred face in a collection (the Simplified Chinese one). */
  face?: string;
}

/** Where Debian's packages put CJK fonts, best first: fonts-noto-cjk, fonts-wqy-zenhei, fonts-arphic-*. */
export const SYSTEM_CONTRACT_FONTS: readonly FontCandidate[] = [
  { file: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', face: 'NotoSansCJKsc-Regular' },
  { file: '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc' },
  { file: '/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc', face: 'NotoSerifCJKsc-Regular' },
  { file: '/usr/share/fonts/truetype/arphic/uming.ttc' },
  { file: '/usr/share/fonts/truetype/arphic/ukai.ttc' },
  { file: '/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf' },
  { file: '/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf' },
];

/** Characters every contract prints (its fixed headings, Latin and digits): a face lacking one is not a CJK font for us. */
const PROBE = [...'专利实施许可合同被许可方统一社会信用代码备案书面通知（）：《》Aa0'];
/** A Simplified Chinese face in a collection, by its PostScript name. */
const SIMPLIFIED = /CJKsc|(?:SC|CN|GB)(?:-|$)/;
const NOT_INSTALLED_RETRY_MS = 60_000;

const codePoint = (c: string) => c.codePointAt(0) ?? 0;
const covers = (f: fontkit.Font) => PROBE.every((c) => f.hasGlyphForCodePoint(codePoint(c)));

/** One font file, or null when it is missing, unreadable, not a font, or has no face that covers the probe. */
export async function openContractFont(c: FontCandidate): Promise<ContractFont | null> {
  let data: Buffer;
  let parsed: fontkit.Font | fontkit.FontCollection;
  try {
    data = await fs.readFile(c.file);
    parsed = fontkit.create(data);
  } catch {
    return null;
  }
  const faces = 'fonts' in parsed ? parsed.fonts : [parsed];
  const collection = 'fonts' in parsed;
  const chosen = c.face
    ? faces.find((f) => f.postscriptName === c.face)
    : (faces.find((f) => SIMPLIFIED.test(f.postscriptName) && covers(f)) ?? faces.find(covers));
  if (!chosen || !covers(chosen)) return null;
  return Object.freeze({
    file: c.file, data, face: collection ? chosen.postscriptName : null, postscriptName: chosen.postscriptName,
    has: (char: string) => chosen.hasGlyphForCodePoint(codePoint(char)),
  });
}

/** `/path/font.ttc#Face` → file and face (config.ts has checked the form). */
function configuredCandidate(configured: string): FontCandidate {
  const m = /^(.*\.ttc)#([^#/]+)$/i.exec(configured);
  return m ? { file: m[1]!, face: m[2]! } : { file: configured };
}

/** The font to use, uncached: the configured one (no fallback: a bad setting must be seen), else the first system font that works. */
export async function findContractFont(configured: string | null, system: readonly FontCandidate[] = SYSTEM_CONTRACT_FONTS): Promise<ContractFontLookup> {
  if (configured) {
    const font = await openContractFont(configuredCandidate(configured));
    return font ? { font, problem: null } : { font: null, problem: 'configured_unusable' };
  }
  for (const c of system) {
    const font = await openContractFont(c);
    if (font) return { font, problem: null };
  }
  return { font: null, problem: 'not_installed' };
}

const cache = new Map<string, { at: number; lookup: Promise<ContractFontLookup> }>();

/** findContractFont, once per setting (see the header for when "not installed" is asked again). */
export async function contractFont(configured: string | null): Promise<ContractFontLookup> {
  const key = configured ?? '';
  const hit = cache.get(key);
  if (hit) {
    const found = await hit.lookup;
    if (found.problem !== 'not_installed' || Date.now() - hit.at < NOT_INSTALLED_RETRY_MS) return found;
  }
  const lookup = findContractFont(configured);
  cache.set(key, { at: Date.now(), lookup });
  return lookup;
}
