/**
 * A licence as its pages show it: terms in plain words (the same sentences
 * the catalogue shows for offers, routes/offer-view.ts), invoices, history
 * and what the viewer may do now; and the contract document, which states
 * everything in both languages whatever the reader's locale.
 */
import path from 'node:path';
import type { OfferKind } from '../models/patent.js';
import { loadDictionaries, translator, type Translate } from '../server/http/i18n.js';
import type { getContract, getLicence } from '../server/services/licensing.js';
import type { OfferTermsValues } from '../server/services/offer-input.js';
import { termLines } from './offer-view.js';

type LicenceData = Awaited<ReturnType<typeof getLicence>>;

export function licenceView(data: LicenceData, t: Translate) {
  const { licence } = data;
  const kind = licence.kind as OfferKind;
  return {
    ...data,
    id: String(licence._id),
    termLines: termLines(kind, licence.terms as OfferTermsValues, t),
    proposedLines: licence.proposedTerms ? termLines(kind, licence.proposedTerms as OfferTermsValues, t) : [],
    filingOverdue: !!licence.filingDueAt && !licence.filedAt && licence.filingDueAt < new Date(),
    invoiceTotalFen: data.invoices.reduce((s, i) => s + (i.status === 'void' ? 0 : i.amountFen), 0),
    paidTotalFen: data.invoices.reduce((s, i) => s + i.paidFen, 0),
  };
}

let both: { zh: Translate; en: Translate } | null = null;

/** Translators for both languages (the dictionaries are read once, on first use). */
export function translators() {
  if (!both) {
    const dicts = loadDictionaries(path.resolve('views/locales'));
    both = { zh: translator(dicts, 'zh-CN'), en: translator(dicts, 'en') };
  }
  return both;
}

/** `{{zh "key"}}` and `{{en "key"}}` for pages that state everything in both languages. */
export function bilingualHelpers() {
  const { zh, en } = translators();
  const helper = (tr: Translate) => (key: string, options: { hash?: Record<string, string | number> }) => tr(key, options?.hash ?? {});
  return { zh: helper(zh), en: helper(en) };
}

/**
 * Everything the contract template needs, with `zh`/`en` helpers so each
 * label appears in both languages: {{zh "licence.contract.parties"}}.
 */
export function contractModel(data: Awaited<ReturnType<typeof getContract>>) {
  const { zh, en } = translators();
  const { licence } = data;
  const kind = licence.kind as OfferKind;
  const terms = licence.terms as OfferTermsValues;
  return {
    layout: 'contract',
    title: `${licence.number} · ${licence.snapshot?.patentTitleZh ?? ''}`,
    helpers: bilingualHelpers(),
    licence, licensor: data.licensor, licensee: data.licensee, patent: data.patent, signer: data.signer,
    lines: { zh: termLines(kind, terms, zh), en: termLines(kind, terms, en) },
    kindZh: zh(`offer.kind.${kind}`), kindEn: en(`offer.kind.${kind}`),
    patentTypeZh: zh(`patent.type.${data.patent?.type ?? 'invention'}`), patentTypeEn: en(`patent.type.${data.patent?.type ?? 'invention'}`),
    notes: terms.notes,
  };
}
