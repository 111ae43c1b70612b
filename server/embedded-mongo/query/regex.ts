/**
 * MongoDB regular expressions (PCRE syntax, flags i m s x) on JavaScript's
 * engine.
 *
 * The two dialects share most syntax but not all meanings: PCRE's `$`
 * also matches before a final newline, its `.` matches `\r`, its `\s` and
 * multiline anchors know only ASCII line breaks and whitespace, `[]a]` is a
 * class containing `]`, and `\v`, `\h`, `\A`, `\z`, POSIX classes, `(?P<n>)`
 * exist only in PCRE. The pattern is therefore rewritten token by token
 * into an equivalent JS pattern (compiled with the `u` flag, like PCRE's UTF
 * mode) and constructs with no faithful equivalent are refused rather than
 * risk a silently different match.
 */
import { ErrorCodes, MongoError, notSupported } from '../errors.js';

export interface MongoRegex {
  readonly pattern: string;
  readonly flags: string;
  readonly regexp: RegExp;
}

const ASCII_SPACE = '\\t\\n\\x0b\\f\\r ';
// Characters JavaScript's \s matches but PCRE's (non-UCP) \s does not.
const UNICODE_ONLY_SPACE = '\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
const VERTICAL_SPACE = '\\n\\x0b\\f\\r\\x85\\u2028\\u2029';
const HORIZONTAL_SPACE = '\\t \\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000';
const SYNTAX_CHARS = new Set('^$\\.*+?()[]{}|/');
const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: ASCII_SPACE,
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', word: '\\w', cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~', graph: '!-~', ascii: '\\x00-\\x7f',
};

function invalid(message: string): MongoError {
  return new MongoError(51091, `Regular expression is invalid: ${message}`);
}

function unsupported(what: string): MongoError {
  return notSupported(`the regular expression construct ${what}`);
}

/** Compiles a MongoDB regex; throws MongoDB's errors for bad flags and patterns. */
export function compileRegex(pattern: string, flags: string): MongoRegex {
  if (pattern.includes('\0')) {
    throw new MongoError(ErrorCodes.BadValue, 'Regular expression cannot contain an embedded null byte');
  }
  let options = '';
  for (const f of flags) {
    if (!'imsxu'.includes(f)) throw new MongoError(51108, `invalid flag in regex options: ${f}`);
    if (f !== 'u' && !options.includes(f)) options += f;
  }
  let body = pattern;
  // A leading PCRE option setting such as (?i) is common and maps onto flags.
  const leading = /^\(\?([imsx]+)\)/.exec(body);
  if (leading) {
    for (const f of leading[1]) if (!options.includes(f)) options += f;
    body = body.slice(leading[0].length);
  }
  const source = translate(body, options.includes('m'), options.includes('s'), options.includes('x'));
  try {
    const regexp = new RegExp(source, `u${options.includes('i') ? 'i' : ''}${options.includes('s') ? 's' : ''}`);
    return { pattern, flags, regexp };
  } catch (err) {
    throw invalid((err as Error).message);
  }
}

function translate(p: string, multiline: boolean, dotAll: boolean, extended: boolean): string {
  let out = '';
  let i = 0;
  while (i < p.length) {
    const c = p[i];
    if (extended && /\s/.test(c)) {
      i++;
    } else if (extended && c === '#') {
      while (i < p.length && p[i] !== '\n') i++;
    } else if (c === '\\') {
      const [text, next] = translateEscape(p, i, false);
      out += text;
      i = next;
    } else if (c === '[') {
      const [text, next] = translateClass(p, i);
      out += text;
      i = next;
    } else if (c === '(') {
      const [text, next] = translateGroup(p, i);
      out += text;
      i = next;
    } else if (c === '.') {
      out += dotAll ? '.' : '[^\\n]';
      i++;
    } else if (c === '$') {
      // PCRE: end of subject or before a final newline (or before any newline when multiline).
      // JS's own m flag is never used, so a bare ^ or $ always means start or end of input.
      out += multiline ? '(?![^\\n])' : '(?=\\n?$)';
      i++;
    } else if (c === '^') {
      out += multiline ? '(?<![^\\n])' : '^';
      i++;
    } else if (c === '{') {
      const quantifier = /^\{\d+(?:,\d*)?\}/.exec(p.slice(i));
      out += quantifier ? quantifier[0] : '\\{';
      i += quantifier ? quantifier[0].length : 1;
    } else if (c === '}' || c === ']') {
      out += `\\${c}`;
      i++;
    } else {
      // Everything else, including PCRE's possessive quantifiers (a++), is either the
      // same in JS or rejected by JS's u-mode parser.
      out += c;
      i++;
    }
  }
  return out;
}

function translateGroup(p: string, i: number): [string, number] {
  if (p[i + 1] !== '?') return ['(', i + 1];
  const rest = p.slice(i + 2);
  if (rest.startsWith('#')) {
    const end = p.indexOf(')', i);
    if (end < 0) throw invalid('missing ) after (?# comment');
    return ['', end + 1];
  }
  for (const prefix of [':', '=', '!', '<=', '<!']) if (rest.startsWith(prefix)) return [`(?${prefix}`, i + 2 + prefix.length];
  const named = /^(?:P?<|')([A-Za-z_]\w*)[>']/.exec(rest);
  if (named) return [`(?<${named[1]}>`, i + 2 + named[0].length];
  const backref = /^P=([A-Za-z_]\w*)\)/.exec(rest);
  if (backref) return [`\\k<${backref[1]}>`, i + 2 + backref[0].length];
  throw unsupported(`(?${rest.slice(0, 3)}`);
}

/** Translates an escape at p[i] === '\\'; inClass selects character-class meanings. */
function translateEscape(p: string, i: number, inClass: boolean): [string, number] {
  const c = p[i + 1];
  if (c === undefined) throw invalid('\\ at end of pattern');
  const next = i + 2;
  if (!/[A-Za-z0-9]/.test(c)) {
    // Escaped punctuation is a literal; JS's u mode only accepts escaping syntax characters.
    if (SYNTAX_CHARS.has(c) || (inClass && c === '-')) return [`\\${c}`, next];
    return [c, next];
  }
  switch (c) {
    case 'd': case 'D': case 'w': case 'W': case 'n': case 'r': case 't': case 'f':
      return [`\\${c}`, next];
    case 'b': case 'B':
      return [inClass && c === 'b' ? '\\x08' : `\\${c}`, next];
    case 's':
      return [inClass ? ASCII_SPACE : `[${ASCII_SPACE}]`, next];
    case 'S':
      return [inClass ? `\\S${UNICODE_ONLY_SPACE}` : `[\\S${UNICODE_ONLY_SPACE}]`, next];
    case 'v':
      return [inClass ? VERTICAL_SPACE : `[${VERTICAL_SPACE}]`, next];
    case 'h':
      return [inClass ? HORIZONTAL_SPACE : `[${HORIZONTAL_SPACE}]`, next];
    case 'a':
      return ['\\x07', next];
    case 'e':
      return ['\\x1b', next];
    case 'c':
      return [`\\c${p[next] ?? ''}`, next + 1];
    case 'x': {
      const braced = /^\{([0-9A-Fa-f]+)\}/.exec(p.slice(next));
      if (braced) return [`\\u{${braced[1]}}`, next + braced[0].length];
      const hex = /^[0-9A-Fa-f]{2}/.exec(p.slice(next));
      if (hex) return [`\\x${hex[0]}`, next + 2];
      throw unsupported('\\x without two hex digits');
    }
    case 'p': case 'P': {
      if (p[next] === '{') return [`\\${c}`, next];
      return [`\\${c}{${p[next] ?? ''}}`, next + 1];
    }
    case 'k': {
      const name = /^[<{']([A-Za-z_]\w*)[>}']/.exec(p.slice(next));
      if (!name) throw invalid('\\k is not followed by a group name');
      return [`\\k<${name[1]}>`, next + name[0].length];
    }
    case '0': {
      const octal = /^[0-7]{0,2}/.exec(p.slice(next))![0];
      return [`\\u{${parseInt(`0${octal}`, 8).toString(16)}}`, next + octal.length];
    }
    default:
      break;
  }
  if (!inClass) {
    if (c === 'A') return ['^', next];
    if (c === 'z') return ['$', next];
    if (c === 'Z') return ['(?=\\n?$)', next];
    if (/[1-9]/.test(c)) {
      const digits = /^\d*/.exec(p.slice(next))![0];
      return [`\\${c}${digits}`, next + digits.length];
    }
  }
  throw unsupported(`\\${c}`);
}

function translateClass(p: string, start: number): [string, number] {
  let i = start + 1;
  let out = '[';
  if (p[i] === '^') {
    out += '^';
    i++;
  }
  // In PCRE a ']' straight after '[' or '[^' is a literal member, not the end.
  if (p[i] === ']') {
    out += '\\]';
    i++;
  }
  while (i < p.length && p[i] !== ']') {
    const c = p[i];
    if (c === '[' && p[i + 1] === ':') {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i));
      if (posix) {
        if (posix[1] || !(posix[2] in POSIX_CLASSES)) throw unsupported(posix[0]);
        out += POSIX_CLASSES[posix[2]];
        i += posix[0].length;
        continue;
      }
    }
    if (c === '\\') {
      const [text, next] = translateEscape(p, i, true);
      out += text;
      i = next;
      continue;
    }
    out += c === '[' ? '\\[' : c;
    i++;
  }
  if (i >= p.length) throw invalid('missing terminating ] for character class');
  return [`${out}]`, i + 1];
}
