/**
 * The two dictionaries against each other and against their users: the same
 * keys in zh-CN and en, no empty texts, the same {placeholders}, and every
 * key that the TypeScript sources or the templates ask for present in both.
 * Keys are found in the places the code hands them to the translator: t(…),
 * new …Error(…), zod messages, flash(…), rerender(…) and `key:` / `key =`.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { INVOICE_KINDS } from '../../models/invoice.js';
import { REVERSAL_REQUEST_STATES } from '../../models/ledger-reversal-request.js';
import { ACCOUNT_KINDS, TRANSFER_CODES } from '../../server/domain/ledger-chart.js';
import { REF_KEYS } from '../../server/domain/ledger-record.js';
import { CLAIM_STATES } from '../../models/fund-claim.js';
import { SUBSIDY_STATES } from '../../models/fund-subsidy.js';
import { CLAIM_LIMITS } from '../../server/services/fund/claim-compute.js';
import { SUBSIDY_LIMITS } from '../../server/services/fund/subsidies.js';
import { FEE_FORMS, OFFER_STATUSES, PAYMENT_TRIGGERS } from '../../models/offer.js';
import { INVOICE_STATUSES, LICENCE_STATES } from '../../server/domain/licence-states.js';
import { REGIONS } from '../../models/organization.js';
import { EXCLUSIVE_LICENCES, LEGAL_STATUSES, OFFER_KINDS, PATENT_TYPES } from '../../models/patent.js';
import { ROLES } from '../../models/user.js';
import { TECH_FIELDS } from '../../server/domain/tech-fields.js';
import { PRICE_BANDS, SORTS } from '../../server/services/catalogue.js';
import { SME_REASON_KEYS } from '../../server/domain/sme-size.js';
import { loadDictionaries, type Dictionary } from '../../server/http/i18n.js';
import { PROBLEM_CODES } from '../../server/domain/ledger-verify-messages.js';

const ROOT = path.resolve('.');
const KEY = /^[a-z][a-z0-9_]*(?:\.[A-Za-z0-9_]+)+$/;

function walk(dir: string, ext: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return walk(rel, ext);
    return e.name.endsWith(ext) ? [rel] : [];
  });
}

/**
 * The text from `start` up to where the expression that begins there ends
 * or, with `wholeCall`, up to the ")" closing the call whose "(" ends just
 * before `start` (commas and new lines included).
 */
function expressionFrom(src: string, start: number, wholeCall = false): string {
  let depth = 0;
  let quote: string | null = null;
  for (let i = start; i < src.length; i++) {
    const c = src[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) {
      if (--depth < 0) return src.slice(start, i);
    } else if (!wholeCall && depth === 0 && (c === ',' || c === ';' || c === '\n')) return src.slice(start, i);
  }
  return src.slice(start);
}

/** Where code passes a message key: each match is followed by the expression holding the key(s). */
const KEY_SITES: { name: string; re: RegExp }[] = [
  { name: 't(…)', re: /\bt\(/g },
  { name: 'new …Error(…)', re: /\bnew \w*Error\(/g },
  { name: 'flash(…)', re: /\bflash\(/g },
  { name: 'rerender(…)', re: /\brerender\(/g },
  { name: 'zod message', re: /\.(?:min|max|length|email|refine|regex|enum)\(|\bz\.enum\(|\bmessage:\s*(?=')/g },
  { name: 'key: / key =', re: /\bkey\s*(?::|=(?!=))\s*/g },
];

interface Found {
  key: string;
  file: string;
  site: string;
}

function keysInSources(): { found: Found[]; dynamic: string[] } {
  const files = [...walk('server', '.ts').filter((f) => !f.includes(`${path.sep}embedded-mongo${path.sep}`)), ...walk('routes', '.ts')];
  const found: Found[] = [];
  const dynamic: string[] = [];
  for (const file of files) {
    const src = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const { name, re } of KEY_SITES) {
      for (const m of src.matchAll(re)) {
        const expr = expressionFrom(src, m.index + m[0].length);
        // For a call the whole argument list is one "expression" (it ends at the closing paren).
        const whole = m[0].endsWith('(') ? expressionFrom(src, m.index + m[0].length, true) : expr;
        for (const lit of whole.matchAll(/'([^'\n]*)'/g)) {
          if (KEY.test(lit[1]!)) found.push({ key: lit[1]!, file, site: name });
        }
        for (const tpl of whole.matchAll(/`([a-z][a-z0-9_.]*\$\{[^`]*)`/g)) dynamic.push(`${file}: ${tpl[1]}`);
      }
    }
  }
  return { found, dynamic };
}


function keysInTemplates(): Found[] {
  const found: Found[] = [];
  for (const file of walk('views', '.hbs')) {
    const src = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of src.matchAll(/(?:\{\{~?|\()\s*t\s+"([^"]+)"/g)) found.push({ key: m[1]!, file, site: '{{t "…"}}' });
  }
  return found;
}

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

describe('i18n dictionaries', () => {
  const raw = {
    'zh-CN': JSON.parse(fs.readFileSync(path.join(ROOT, 'views/locales/zh-CN.json'), 'utf8')) as Dictionary,
    en: JSON.parse(fs.readFileSync(path.join(ROOT, 'views/locales/en.json'), 'utf8')) as Dictionary,
  };
  const dicts = loadDictionaries(path.join(ROOT, 'views/locales'));

  it('zh-CN and en have identical key sets (as files and as loaded)', () => {
    expect(Object.keys(raw.en).sort()).to.deep.equal(Object.keys(raw['zh-CN']).sort());
    expect(Object.keys(dicts.en).sort()).to.deep.equal(Object.keys(dicts['zh-CN']).sort());
  });

  it('has no empty or non-string texts', () => {
    for (const [locale, dict] of Object.entries(dicts)) {
      for (const [key, text] of Object.entries(dict)) {
        expect(text, `${locale} ${key}`).to.be.a('string');
        expect(text.trim(), `${locale} ${key}`).to.not.equal('');
      }
    }
  });

  it('uses the same {placeholders} in both languages', () => {
    // (The SME reason templates are exempt: zh states revenue in 万元, en in millions, from the same params.)
    for (const key of Object.keys(raw['zh-CN'])) {
      expect(placeholders(raw.en[key] ?? ''), key).to.deep.equal(placeholders(raw['zh-CN'][key]!));
    }
  });

  it('contains every key the TypeScript sources use', () => {
    const { found } = keysInSources();
    // A broken scanner would pass vacuously.
    expect(found.length).to.be.greaterThan(60);
    for (const site of KEY_SITES) expect(found.some((f) => f.site === site.name), `keys found at ${site.name}`).to.equal(true);
    const missing = found.filter((f) => !(f.key in dicts['zh-CN']) || !(f.key in dicts.en)).map((f) => `${f.key} (${f.file}, ${f.site})`);
    expect([...new Set(missing)]).to.deep.equal([]);
  });

  it('contains the keys the sources build at run time', () => {
    const { dynamic } = keysInSources();
    // Each template literal that builds a key must be accounted for here.
    const expected = [
      'routes/home.ts: home.${req.user.role}.title',
      'server/http/error-handler.ts: error.title.${status}',
      "server/domain/sme-size.ts: sme.reason.${sizeClass}${employeesOnly ? '_employees_only' : ''}",
      'routes/patents.ts: offer.form.title.${o.kind}',
      'routes/fund-console.ts: region.${k}', 'routes/fund-console.ts: field.${k}', 'routes/fund-console.ts: console.chart.${dim}.title', 'routes/fund-console.ts: console.dim.${dim}',
      'routes/fund-checkpoints.ts: checkpoints.problem.${p.code}',
    ];
    expect([...new Set(dynamic)].sort()).to.deep.equal(expected.sort());
    const built = [
      ...ROLES.map((r) => `home.${r}.title`),
      // Every status the error handler and the rate limiter can render.
      ...[400, 403, 404, 409, 413, 422, 429, 500].map((s) => `error.title.${s}`),
      ...SME_REASON_KEYS,
      ...OFFER_KINDS.flatMap((k) => [`offer.form.title.${k}`, `offer.explain.kind.${k}`]),
      ...PAYMENT_TRIGGERS.map((k) => `offer.explain.trigger.${k}`),
      ...['province', 'field', 'institution', 'quarter'].flatMap((d) => [`console.chart.${d}.title`, `console.dim.${d}`]),
      ...PROBLEM_CODES.map((c) => `checkpoints.problem.${c}`),
    ];
    const missing = built.filter((k) => !(k in dicts['zh-CN']) || !(k in dicts.en));
    expect(missing).to.deep.equal([]);
  });

  it('zod messages use a prefix parseForm() shows (others become "form.invalid")', () => {
    const formsSrc = fs.readFileSync(path.join(ROOT, 'server/http/forms.ts'), 'utf8');
    const ownKey = new RegExp(/const OWN_KEY = \/(.+)\/;/.exec(formsSrc)![1]!);
    const zod = keysInSources().found.filter((f) => f.site === 'zod message');
    expect(zod.length).to.be.greaterThan(5);
    expect(zod.filter((f) => !ownKey.test(f.key)).map((f) => `${f.key} (${f.file})`)).to.deep.equal([]);
  });

  it('contains every key the templates build with (concat "prefix." value)', () => {
    // Each prefix a template concatenates, with every value the data can hold.
    const values: Record<string, readonly string[]> = {
      'patent.type.': PATENT_TYPES, 'patent.legal.': LEGAL_STATUSES, 'patent.exclusive.': EXCLUSIVE_LICENCES,
      'offer.kind.': OFFER_KINDS, 'offer.new.': OFFER_KINDS, 'offer.status.': OFFER_STATUSES, 'offer.form.intro.': OFFER_KINDS,
      'offer.term.hint.': OFFER_KINDS, 'offer.fee_form.': FEE_FORMS, 'offer.trigger.': PAYMENT_TRIGGERS, 'field.': TECH_FIELDS,
      'catalogue.price.': Object.keys(PRICE_BANDS), 'catalogue.sort.': SORTS, 'match.kind_fit.': OFFER_KINDS, 'region.': REGIONS,
      'licence.state.': LICENCE_STATES, 'licence.take.title.': OFFER_KINDS, 'licence.invoice_status.': INVOICE_STATUSES, 'licence.invoice_kind.': INVOICE_KINDS,
      'console.code.': TRANSFER_CODES, 'console.phase.': ['posted', 'pending', 'post', 'void'], 'console.ref.': REF_KEYS, 'console.kind.': ACCOUNT_KINDS,
      'console.normal.': ['debit', 'credit'], 'console.reversal_state.': REVERSAL_REQUEST_STATES,
      'fund.claim.state.': CLAIM_STATES, 'fund.claim.limit.': CLAIM_LIMITS, 'fund.subsidy.state.': SUBSIDY_STATES, 'fund.subsidy.limit.': SUBSIDY_LIMITS,
      'fund.writeoff.state.': ['proposed', 'approved', 'rejected'],
    };
    const used = new Set<string>();
    for (const file of walk('views', '.hbs')) {
      for (const m of fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(/\(concat "([^"]+)"/g)) {
        expect(values, `${file}: unknown prefix ${m[1]}`).to.have.property(m[1]!);
        used.add(m[1]!);
      }
    }
    expect(used.size, 'scanner found the concat sites').to.be.greaterThan(8);
    const missing = [...used].flatMap((prefix) => values[prefix]!.map((v) => prefix + v)).filter((k) => !(k in dicts['zh-CN']) || !(k in dicts.en));
    expect(missing).to.deep.equal([]);
  });

  it('contains every key the templates use', () => {
    const found = keysInTemplates();
    expect(found.length).to.be.greaterThan(100);
    const missing = found.filter((f) => !(f.key in dicts['zh-CN']) || !(f.key in dicts.en)).map((f) => `${f.key} (${f.file})`);
    expect([...new Set(missing)]).to.deep.equal([]);
  });
});
