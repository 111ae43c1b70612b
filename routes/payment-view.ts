/**
 * How invoices and payments read on a page: status and provider names in the
 * reader's language, and what each party may do with a payment. Labels are
 * looked up from fixed maps (not built keys), so the dictionary test sees
 * every key.
 */
import type { InvoiceStatus } from '../server/domain/licence-states.js';
import type { InvoiceSide } from '../server/services/invoices.js';

export type Translate = (key: string, params?: Record<string, string | number>) => string;

const INVOICE_STATUS_KEYS: Record<InvoiceStatus, string> = {
  open: 'invoice.status.open', paid: 'invoice.status.paid', overdue: 'invoice.status.overdue',
  defaulted: 'invoice.status.defaulted', written_off: 'invoice.status.written_off', void: 'invoice.status.void',
};
const INVOICE_KIND_KEYS: Record<string, string> = {
  entry_fee: 'invoice.kind.entry_fee', lump_sum: 'invoice.kind.lump_sum', instalment: 'invoice.kind.instalment', royalty: 'invoice.kind.royalty',
};
const PAYMENT_STATUS_KEYS: Record<string, string> = {
  pending: 'payment.status.pending', succeeded: 'payment.status.succeeded', failed: 'payment.status.failed',
  declared: 'payment.status.declared', confirmed: 'payment.status.confirmed', disputed: 'payment.status.disputed',
};
const PROVIDER_KEYS: Record<string, string> = { stripe: 'payment.provider.stripe', bank_transfer: 'payment.provider.bank_transfer' };

export function invoiceRow<I extends { status: string; kind?: string }>(invoice: I, t: Translate) {
  return {
    ...invoice,
    statusLabel: t(INVOICE_STATUS_KEYS[invoice.status as InvoiceStatus] ?? invoice.status),
    kindLabel: invoice.kind ? t(INVOICE_KIND_KEYS[invoice.kind] ?? invoice.kind) : '',
    late: invoice.status === 'overdue' || invoice.status === 'defaulted',
  };
}

export function paymentRow<P extends { status: string; provider: string }>(payment: P, t: Translate, side: InvoiceSide) {
  return {
    ...payment,
    statusLabel: t(PAYMENT_STATUS_KEYS[payment.status] ?? payment.status),
    providerLabel: t(PROVIDER_KEYS[payment.provider] ?? payment.provider),
    decidable: side === 'payee' && payment.provider === 'bank_transfer' && payment.status === 'declared',
  };
}
