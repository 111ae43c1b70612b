/**
 * The fund's demo data, so the fund pages and the regulators' console show
 * a working fund on a fresh install: the first rules version; four
 * appropriations (one per funder, RMB 5 m each, January 2026) recorded by the
 * demo fund manager through the same service as the form; then one ledger
 * sync, which posts the demo licences' events (accruals, the confirmed
 * payment, the default) and decides their cover.
 *
 * Idempotent: the appropriations carry fixed idempotency keys (a second run
 * replays them and writes nothing), and the sync posts only unposted events.
 * Runs after loadDemoLicences; without the demo fund manager it records no
 * appropriations.
 */
import { User } from '../../models/user.js';
import type { Ctx } from '../services/context.js';
import { recordAppropriation } from '../services/fund/appropriations.js';
import { ensureInitialRules, rulesInForce } from '../services/fund/fund-rules.js';
import { cstDay } from '../services/fund/ledger-post.js';
import { runFundLedgerSync } from '../services/fund/subscriber.js';

const FUND_MANAGER = 'fund@demo.yrd-exchange.cn';
const APPROPRIATIONS = [
  { day: '2026-01-06', key: '6d656d6f-0000-4000-8000-000000000001' },
  { day: '2026-01-13', key: '6d656d6f-0000-4000-8000-000000000002' },
  { day: '2026-01-20', key: '6d656d6f-0000-4000-8000-000000000003' },
  { day: '2026-01-27', key: '6d656d6f-0000-4000-8000-000000000004' },
];

export async function loadDemoFund(now = new Date()): Promise<{ appropriations: number; events: number; transfers: number }> {
  await ensureInitialRules();
  let appropriations = 0;
  const user = await User.findOne({ email: FUND_MANAGER, role: 'fund_manager' }).lean();
  const rules = await rulesInForce(now);
  if (user && rules) {
    const ctx: Ctx = {
      actor: { userId: user._id, email: user.email, role: 'fund_manager', orgId: user.organization, orgVerified: true, orgAdmin: user.orgAdmin },
      meta: { requestId: 'seed', ip: '' },
    };
    const today = cstDay(now);
    for (const [i, a] of APPROPRIATIONS.entries()) {
      if (!rules.funders[i]) break;
      const record = await recordAppropriation(ctx, { funder: String(i), amount: '5000000', reference: `DEMO-APPR-2026-${i + 1}`, date: a.day < today ? a.day : today, key: a.key }, now);
      if (!record.replayed) appropriations++;
    }
  }
  const sync = await runFundLedgerSync({ now });
  return { appropriations, events: sync.events, transfers: sync.transfers };
}
