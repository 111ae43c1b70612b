/**
 * Reversal requests, four eyes over HTTP: a fund manager asks, a regulator
 * who did not ask approves (the reversal is posted with maker = requester
 * and checker = approver, in the same transaction as the request's state
 * and its audit row) or rejects, once. The requester cannot decide, even
 * after becoming a regulator; SMEs, TTOs and admins cannot touch them; a
 * reversal the ledger refuses leaves the request open and nothing written.
 */
import { expect } from 'chai';
import { formatYuan } from '../../server/domain/money.js';
import { Types } from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { LedgerReversalRequest } from '../../models/ledger-reversal-request.js';
import { LedgerTransfer } from '../../models/ledger-transfer.js';
import { User } from '../../models/user.js';
import { acct } from '../../server/domain/ledger-chart.js';
import type { Ctx } from '../../server/services/context.js';
import { post, type PostedRecord } from '../../server/services/fund/ledger.js';
import { approveReversal } from '../../server/services/fund/reversal-requests.js';
import { loadDemo } from '../../server/seed/load-demo.js';
import { csrfFrom, startApp, type AppHarness } from '../helpers/app-harness.js';
import { DEMO, escapeHtml, signedIn, t, type Agent } from '../integration/helpers.js';

const UNIV = new Types.ObjectId().toHexString();
const LIC = new Types.ObjectId().toHexString();
const at = new Date('2026-03-01T02:00:00Z');
let n = 0;
const transfer = (code: string, legs: [string, 'debit' | 'credit', number][], phase: 'posted' | 'pending' = 'posted') => post({
  kind: 'transfer', key: `rr-${++n}`, code: code as never, phase, maker: null, effectiveAt: at,
  entries: legs.map(([account, side, amountFen]) => ({ account, side, amountFen })),
});

describe('reversal requests', function () {
  let h: AppHarness;
  let regulator: Agent;
  let manager: Agent;
  let others: Record<'sme' | 'tto' | 'admin', Agent>;

  before(async () => {
    h = await startApp();
    await loadDemo();
    const [r, m, sme, tto, admin] = await Promise.all([DEMO.regulator, DEMO.fund_manager, DEMO.sme, DEMO.tto, DEMO.admin].map((e) => signedIn(h, e)));
    [regulator, manager] = [r!, m!];
    others = { sme: sme!, tto: tto!, admin: admin! };
  });
  after(() => h.stop());

  /** POSTs a form with the agent's own CSRF token (taken from a page it may open). */
  async function submit(agent: Agent, path: string, body: Record<string, string>, from = '/') {
    const page = await agent.get(from);
    return agent.post(path).type('form').send({ _csrf: csrfFrom(page.text), ...body });
  }
  const ask = (seq: number, reason = 'Posted to the wrong licence') => submit(manager, `/fund/ledger/${seq}/reversal-requests`, { reason }, `/fund/ledger/${seq}`);
  const requestFor = async (seq: number) => (await LedgerReversalRequest.findOne({ transferSeq: seq }).sort({ requestedAt: -1 }).lean())!;

  let accrual: PostedRecord;
  beforeEach(async () => {
    await LedgerReversalRequest.deleteMany({});
    accrual = await transfer('ACCRUAL', [[acct.receivable(LIC), 'debit', 5_000], [acct.revenue(UNIV), 'credit', 5_000]]);
  });

  it('a fund manager asks; a regulator approves: the reversal is posted with both ids, once, and audited', async () => {
    const res = await ask(accrual.seq);
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal(`/fund/ledger/${accrual.seq}`);
    const request = await requestFor(accrual.seq);
    expect(request).to.include({ state: 'open', transferCode: 'ACCRUAL', amountFen: 5_000, reason: 'Posted to the wrong licence' });
    const page = await regulator.get('/fund/reversals?state=open');
    expect(page.text).to.contain(`action="/fund/reversals/${String(request._id)}/approve"`);

    const approved = await submit(regulator, `/fund/reversals/${String(request._id)}/approve`, { note: 'Agreed' }, '/fund/reversals');
    expect(approved.status).to.equal(303);
    const done = (await LedgerReversalRequest.findById(request._id).lean())!;
    const [managerUser, regulatorUser] = await Promise.all([DEMO.fund_manager, DEMO.regulator].map((e) => User.findOne({ email: e }).lean()));
    expect(done).to.include({ state: 'approved', decisionReason: 'Agreed' });
    expect(String(done.decidedBy)).to.equal(String(regulatorUser!._id));
    const reversal = (await LedgerTransfer.findOne({ seq: done.reversalSeq }).lean())!;
    expect(reversal).to.include({ code: 'REVERSAL', reverses: accrual.seq, maker: String(managerUser!._id), checker: String(regulatorUser!._id) });
    expect(reversal.entries.map((e) => [e.account, e.side, e.amountFen])).to.deep.equal([[acct.receivable(LIC), 'credit', 5_000], [acct.revenue(UNIV), 'debit', 5_000]]);
    const actions = (await AuditEvent.find({ targetId: String(request._id) }).sort({ at: 1 }).lean()).map((a) => a.action);
    expect(actions).to.deep.equal(['fund.reversal_requested', 'fund.reversal_approved']);

    // Once: a second approval or a rejection afterwards is refused and changes nothing.
    for (const [path, body] of [['approve', {}], ['reject', { reason: 'no' }]] as const) {
      const again = await submit(regulator, `/fund/reversals/${String(request._id)}/${path}`, body, '/fund/reversals');
      expect(again.status).to.equal(409);
      expect(again.text).to.contain(escapeHtml(t('console.reversal.already_decided', { state: 'approved' })));
    }
    expect(await LedgerTransfer.countDocuments({ reverses: accrual.seq })).to.equal(1);
    // Reversed now: not reversible again, and the page no longer offers it.
    const twice = await ask(accrual.seq);
    expect(twice.status).to.equal(409);
    expect((await manager.get(`/fund/ledger/${accrual.seq}`)).text).to.not.contain('/reversal-requests"');
  });

  it('a regulator rejects with a reason; nothing is posted, and the transfer may be asked for again', async () => {
    await ask(accrual.seq);
    const request = await requestFor(accrual.seq);
    const noReason = await submit(regulator, `/fund/reversals/${String(request._id)}/reject`, { reason: '  ' }, '/fund/reversals');
    expect(noReason.status).to.equal(422);
    expect(noReason.text).to.contain(escapeHtml(t('console.reversal.reason_required')));
    const res = await submit(regulator, `/fund/reversals/${String(request._id)}/reject`, { reason: 'The licence is right' }, '/fund/reversals');
    expect(res.status).to.equal(303);
    expect(await LedgerReversalRequest.findById(request._id).lean()).to.include({ state: 'rejected', decisionReason: 'The licence is right' });
    expect(await LedgerTransfer.countDocuments({ reverses: accrual.seq })).to.equal(0);
    expect((await ask(accrual.seq)).status).to.equal(303);
  });

  it('one open request per transfer; only posted, unreversed, non-reversal transfers; a reason is required', async () => {
    expect((await ask(accrual.seq)).status).to.equal(303);
    const dup = await ask(accrual.seq);
    expect(dup.status).to.equal(409);
    expect(dup.text).to.contain(escapeHtml(t('console.reversal.open_exists', { seq: accrual.seq })));
    const pending = await transfer('APPROPRIATION', [[acct.bank(), 'debit', 10], [acct.pool(), 'credit', 10]], 'pending');
    expect((await ask(pending.seq)).status).to.equal(409);
    const noReason = await ask(pending.seq, '');
    expect(noReason.status).to.equal(422);
    expect((await submit(manager, '/fund/ledger/999999/reversal-requests', { reason: 'x' }, '/fund')).status).to.equal(404);
    expect((await submit(manager, '/fund/ledger/abc/reversal-requests', { reason: 'x' }, '/fund')).status).to.equal(400);
    expect(await LedgerReversalRequest.countDocuments()).to.equal(1);
  });

  it('four eyes: the requester cannot decide, even after becoming a regulator; others are refused', async () => {
    await ask(accrual.seq);
    const request = await requestFor(accrual.seq);
    const id = String(request._id);
    // The fund manager's role does not decide.
    expect((await submit(manager, `/fund/reversals/${id}/approve`, {}, '/fund/reversals')).status).to.equal(403);
    // Nor does the same person with the regulator role (the service compares ids, not only roles).
    const u = (await User.findById(request.requestedBy).lean())!;
    const promoted: Ctx = { actor: { userId: u._id, email: u.email, role: 'regulator', orgId: u.organization, orgVerified: true, orgAdmin: false }, meta: { requestId: 't', ip: '' } };
    const err = await approveReversal(promoted, id, '').then(() => null, (e: unknown) => e as { status: number; key: string });
    expect(err).to.include({ status: 403, key: 'console.reversal.own_request' });
    // Regulators cannot ask; SMEs, TTOs and admins can do neither.
    expect((await submit(regulator, `/fund/ledger/${accrual.seq}/reversal-requests`, { reason: 'x' })).status).to.equal(403);
    for (const agent of Object.values(others)) {
      expect((await submit(agent, `/fund/ledger/${accrual.seq}/reversal-requests`, { reason: 'x' })).status).to.equal(403);
      expect((await submit(agent, `/fund/reversals/${id}/approve`, {})).status).to.equal(403);
      expect((await submit(agent, `/fund/reversals/${id}/reject`, { reason: 'x' })).status).to.equal(403);
    }
    // Without the CSRF token nothing is accepted either.
    expect((await regulator.post(`/fund/reversals/${id}/approve`).type('form').send({})).status).to.equal(403);
    expect(await LedgerReversalRequest.findById(id).lean()).to.include({ state: 'open' });
    expect(await LedgerTransfer.countDocuments({ reverses: accrual.seq })).to.equal(0);
  });

  it('a reversal the ledger refuses writes nothing and the request stays open until it can be posted', async () => {
    const funding = await transfer('APPROPRIATION', [[acct.bank(), 'debit', 1_000], [acct.pool(), 'credit', 1_000]]);
    // The pool is then committed in full: taking the appropriation back would over-commit it.
    const held = await transfer('COMPENSATION', [[acct.pool(), 'debit', 1_000], [acct.compPayable(UNIV), 'credit', 1_000]], 'pending');
    await ask(funding.seq, 'Appropriated twice');
    const request = await requestFor(funding.seq);
    const seqBefore = await LedgerTransfer.countDocuments();
    const refused = await submit(regulator, `/fund/reversals/${String(request._id)}/approve`, {}, '/fund/reversals');
    expect(refused.status).to.equal(409);
    expect(refused.text).to.contain(escapeHtml(t('ledger.exceeds_available', { account: acct.pool(), availableFen: 0, available: formatYuan(0) })));
    expect(await LedgerReversalRequest.findById(request._id).lean()).to.include({ state: 'open', reversalSeq: null });
    expect(await LedgerTransfer.countDocuments()).to.equal(seqBefore);
    expect(await AuditEvent.countDocuments({ action: 'fund.reversal_approved', targetId: String(request._id) })).to.equal(0);
    // Once the reservation is voided the same request goes through.
    await post({ kind: 'resolve', key: 'rr-void', pendingSeq: held.seq, action: 'void', maker: null, checker: null, effectiveAt: at });
    expect((await submit(regulator, `/fund/reversals/${String(request._id)}/approve`, {}, '/fund/reversals')).status).to.equal(303);
    expect(await LedgerReversalRequest.findById(request._id).lean()).to.include({ state: 'approved' });
  });
});
