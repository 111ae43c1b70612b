/**
 * The licence state machine, twice. First the transition tables alone:
 * closed over their own states, every state reachable from a state a licence
 * is born in, terminal states truly terminal. Then a model-based test with
 * fast-check: random sequences of actions (approve, reject, terminate, the
 * time trigger, first revenue, pay, defaults sweep, lapse) run against the real services on
 * the embedded store next to a small model of what each should do. After
 * every step the stored state equals the model's, is a legal state, every
 * history step is a listed transition that was audited, and no licence has
 * been paid more than it was invoiced.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import mongoose, { Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { Invoice } from '../../models/invoice.js';
import { Licence } from '../../models/licence.js';
import {
  assertInvoiceTransition, assertLicenceTransition, canTransition, INVOICE_STATUSES, INVOICE_TRANSITIONS, LICENCE_STATES, LICENCE_TRANSITIONS, LIVE_LICENCE_STATES, type LicenceState,
} from '../../server/domain/licence-states.js';
import { addMonths } from '../../server/domain/patent-term.js';
import { ConflictError } from '../../server/errors.js';
import type { Ctx } from '../../server/services/context.js';
import { afterInvoiceSettled, moveLicence } from '../../server/services/licence-transitions.js';
import { advanceFreePeriods, applyDeferred, decideApplication, onFirstRevenue, terminateInFreePeriod } from '../../server/services/licensing.js';
import { runDefaultSweep } from '../../server/jobs/default-sweep.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { DEMO } from '../integration/helpers.js';
import { ctxFor, publishedOffer, TERMS } from '../integration/licensing-helpers.js';

/** States a licence is created in (licensing-common.ts createLicence callers). */
const BIRTH_STATES: LicenceState[] = ['notified', 'applied', 'requested'];

function reachable(from: LicenceState[]): Set<LicenceState> {
  const seen = new Set<LicenceState>(from);
  const queue = [...from];
  while (queue.length) {
    for (const next of LICENCE_TRANSITIONS[queue.shift()!]) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return seen;
}

describe('licence state machine', () => {
  describe('transition tables', () => {
    it('are closed: every source and target is a known state', () => {
      expect(Object.keys(LICENCE_TRANSITIONS).sort()).to.deep.equal([...LICENCE_STATES].sort());
      for (const targets of Object.values(LICENCE_TRANSITIONS)) for (const s of targets) expect(LICENCE_STATES).to.include(s);
      expect(Object.keys(INVOICE_TRANSITIONS).sort()).to.deep.equal([...INVOICE_STATUSES].sort());
    });

    it('reach every state from the states licences are born in', () => {
      expect([...reachable(BIRTH_STATES)].sort()).to.deep.equal([...LICENCE_STATES].sort());
    });

    it('random walks only ever take listed transitions, and illegal ones throw 409', () => {
      fc.assert(fc.property(fc.constantFrom(...BIRTH_STATES), fc.array(fc.constantFrom(...LICENCE_STATES), { maxLength: 30 }), (start, wishes) => {
        let state = start;
        for (const to of wishes) {
          if (canTransition(LICENCE_TRANSITIONS, state, to)) state = to;
          else expect(() => assertLicenceTransition(state, to)).to.throw(ConflictError);
          expect(LICENCE_STATES).to.include(state);
        }
      }));
    });
  });

  describe('services against a model', function () {
    this.timeout(300_000);
    let h: AppHarness;
    let tto: Ctx;
    let sme: Ctx;
    const offers: { offerId: string; trigger: string }[] = [];

    before(async () => {
      h = await startApp();
      await loadDemo();
      tto = await ctxFor(DEMO.tto);
      sme = await ctxFor(DEMO.sme);
      for (const [form, trigger] of [['lump_sum', 'time'], ['instalments', 'either'], ['royalty', 'first_revenue'], ['entry_plus_royalty', 'either']] as const) {
        offers.push({ ...(await publishedOffer(tto, 'deferred', TERMS.deferred(form, trigger))), trigger });
      }
    });
    after(async () => {
      await h.stop();
    });

    type Action = 'approve' | 'reject' | 'terminate' | 'trigger' | 'revenue' | 'pay' | 'sweep' | 'lapse';
    const ACTIONS: Action[] = ['approve', 'reject', 'terminate', 'trigger', 'revenue', 'pay', 'sweep', 'lapse'];
    const DAYS_TO_DEFAULT = 90;
    /** The defaults sweep runs as of 20 months on: invoices billed at the 13-month trigger are long overdue by then. */
    const sweepAt = (clock: Date) => addMonths(clock, 20);

    /** What the invoices say before a sweep: something unpaid past due, and something unpaid 90+ days past due. */
    interface Billing { hasOpenInvoice: boolean; late: boolean; defaultable: boolean }

    /** What the model expects `action` to do from `state`: the next state, or 'refused' (409). */
    function expected(action: Action, state: LicenceState, trigger: string, billing: Billing): LicenceState | 'refused' {
      const { hasOpenInvoice } = billing;
      switch (action) {
        case 'approve': return state === 'applied' ? 'active_free' : 'refused';
        case 'reject': return state === 'applied' ? 'rejected' : 'refused';
        case 'terminate': return state === 'active_free' ? 'terminated_by_licensee' : 'refused';
        case 'trigger': return state === 'active_free' && ['time', 'either'].includes(trigger) ? 'payment_due' : state;
        case 'revenue': return state === 'active_free' && ['first_revenue', 'either'].includes(trigger) ? 'payment_due' : state;
        case 'pay': return hasOpenInvoice && state === 'payment_due' ? 'paying' : state;
        case 'lapse': return LIVE_LICENCE_STATES.includes(state) ? 'ended_patent_lapsed' : state;
        case 'sweep':
          if (['payment_due', 'paying'].includes(state) && billing.late) return billing.defaultable ? 'defaulted' : 'in_arrears';
          return state === 'in_arrears' && billing.defaultable ? 'defaulted' : state;
      }
    }

    async function billingOf(id: Types.ObjectId, clock: Date): Promise<Billing> {
      const at = sweepAt(clock);
      const [open, late, defaultable] = await Promise.all([
        Invoice.exists({ licence: id, status: 'open' }),
        Invoice.exists({ licence: id, status: 'open', dueAt: { $lt: at } }),
        Invoice.exists({ licence: id, status: { $in: ['open', 'overdue'] }, dueAt: { $lte: new Date(at.getTime() - DAYS_TO_DEFAULT * 86_400_000) } }),
      ]);
      return { hasOpenInvoice: !!open, late: !!late, defaultable: !!defaultable };
    }

    async function run(action: Action, id: Types.ObjectId, clock: Date): Promise<void> {
      const sid = String(id);
      switch (action) {
        case 'approve': await decideApplication(tto, sid, true, '', undefined, clock); return;
        case 'reject': await decideApplication(tto, sid, false, '不符合条件', undefined, clock); return;
        case 'terminate': await terminateInFreePeriod(sme, sid, '', clock); return;
        case 'trigger': await advanceFreePeriods(addMonths(clock, 13)); return;
        case 'revenue': await mongoose.connection.transaction((s) => onFirstRevenue(sme, id, clock, s)); return;
        case 'pay': await mongoose.connection.transaction(async (session) => {
          const invoice = await Invoice.findOne({ licence: id, status: 'open' }).sort({ dueAt: 1 }).session(session);
          if (!invoice) return;
          assertInvoiceTransition('open', 'paid');
          invoice.set({ status: 'paid', paidFen: invoice.amountFen, paidAt: clock });
          await invoice.save({ session });
          await afterInvoiceSettled(tto, id, clock, session);
        }); return;
        case 'sweep': await runDefaultSweep({ mailer: h.mailer, daysToDefault: DAYS_TO_DEFAULT, now: sweepAt(clock) }); return;
        case 'lapse': await mongoose.connection.transaction(async (session) => {
          const licence = (await Licence.findById(id).session(session))!;
          if (LIVE_LICENCE_STATES.includes(licence.state as LicenceState)) await moveLicence(tto, licence, 'ended_patent_lapsed', { at: clock, reason: 'patent lapsed' }, session);
        });
      }
    }

    async function checkInvariants(id: Types.ObjectId, model: LicenceState): Promise<void> {
      const licence = (await Licence.findById(id).lean())!;
      expect(licence.state).to.equal(model);
      expect(LICENCE_STATES).to.include(licence.state);
      let prev: string | null = null;
      for (const step of licence.history) {
        expect(step.from ?? null).to.equal(prev);
        if (prev) expect(canTransition(LICENCE_TRANSITIONS, prev as LicenceState, step.to as LicenceState), `${prev} → ${step.to}`).to.equal(true);
        prev = step.to;
      }
      expect(prev).to.equal(licence.state);
      expect(await AuditEvent.countDocuments({ action: 'licence.state_changed', targetId: String(id) })).to.equal(licence.history.length);
      const invoices = await Invoice.find({ licence: id }).lean();
      expect(invoices.reduce((s, i) => s + i.paidFen, 0)).to.be.at.most(invoices.reduce((s, i) => s + i.amountFen, 0));
    }

    it('random action sequences keep the service and the model in step', async () => {
      await fc.assert(fc.asyncProperty(fc.nat(offers.length - 1), fc.array(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 8 }), async (which, actions) => {
        const offer = offers[which]!;
        // Each run starts afresh: one SME may hold only one licence per patent at a time.
        // (Earlier runs' invoices go too, so the sweep has only this run's to move.)
        await Invoice.deleteMany({});
        await Licence.deleteMany({ offer: offer.offerId });
        const clock = new Date();
        const licence = await applyDeferred(sme, offer.offerId, { message: '' }, undefined, clock);
        let model: LicenceState = 'applied';
        await checkInvariants(licence._id, model);
        for (const action of actions) {
          const want = expected(action, model, offer.trigger, await billingOf(licence._id, clock));
          let refused = false;
          try {
            await run(action, licence._id, clock);
          } catch (err) {
            if (!(err instanceof ConflictError)) throw err;
            refused = true;
          }
          expect(refused, `${action} from ${model}`).to.equal(want === 'refused');
          if (want !== 'refused') model = want;
          await checkInvariants(licence._id, model);
        }
      }), {
        numRuns: 40,
        // Random sequences rarely get as far as a default; these always do (per offer: lump sum/time, instalments/either, royalty/first revenue).
        examples: [
          [0, ['approve', 'trigger', 'sweep', 'pay', 'sweep']],
          [1, ['approve', 'trigger', 'pay', 'sweep', 'lapse']],
          [2, ['approve', 'revenue', 'sweep', 'sweep']],
          [0, ['approve', 'trigger', 'pay', 'sweep']],
        ],
      });
    });
  });
});
