/**
 * The demo data: what loadDemo() puts into an empty database, that every
 * demo login works over HTTP, and when maybeSeedDemo() may load it (only
 * into an empty database; against an external MongoDB only with 'always').
 */
import { expect } from 'chai';
import { AuditEvent } from '../../models/audit-event.js';
import { Organization, REGIONS, SIZE_CLASSES } from '../../models/organization.js';
import { User } from '../../models/user.js';
import { loadSessionUser } from '../../server/auth/passport.js';
import { validateUscc } from '../../server/domain/uscc.js';
import { maybeSeedDemo } from '../../server/seed/auto-seed.js';
import { DEMO_ORGS } from '../../server/seed/demo-data.js';
import { isDatabaseEmpty, loadDemo } from '../../server/seed/load-demo.js';
import { ROLE_FOR_KIND } from '../../server/services/organizations.js';
import { verifyPassword } from '../../server/services/passwords.js';
import { startApp, type AppHarness } from '../helpers/app-harness.js';
import { counts, DEMO_PASSWORD, login, t, validUscc } from './helpers.js';

const DEMO_USERS = DEMO_ORGS.flatMap((o) => o.users.map((u) => ({ ...u, kind: o.kind })));

describe('demo data', function () {
  let h: AppHarness;
  before(async () => {
    h = await startApp();
  });
  after(async () => {
    await h.stop();
  });

  describe('loadDemo() into an empty database', () => {
    before(async () => {
      expect(await isDatabaseEmpty()).to.equal(true);
      expect(await loadDemo()).to.deep.equal({ organizations: DEMO_ORGS.length, users: DEMO_USERS.length });
    });

    it('creates organisations of every kind in all four regions, with valid credit codes', async () => {
      const orgs = await Organization.find().lean();
      expect(orgs).to.have.length(DEMO_ORGS.length);
      expect(new Set(orgs.map((o) => o.region))).to.deep.equal(new Set(REGIONS));
      for (const kind of ['university', 'institute', 'enterprise', 'fund', 'authority', 'platform']) {
        expect(orgs.filter((o) => o.kind === kind).length, kind).to.be.greaterThan(0);
      }
      expect(new Set(orgs.filter((o) => o.kind === 'university').map((o) => o.region)), 'a university in each province').to.deep.equal(new Set(REGIONS));
      for (const o of orgs) expect(validateUscc(o.uscc).ok, `${o.nameZh} ${o.uscc}`).to.equal(true);
      expect(new Set(orgs.map((o) => o.uscc)).size).to.equal(orgs.length);
    });

    it('has enterprises of every size class, each with its reason', async () => {
      const enterprises = await Organization.find({ kind: 'enterprise' }).lean();
      expect(new Set(enterprises.map((o) => o.enterprise!.sizeClass))).to.deep.equal(new Set(SIZE_CLASSES));
      for (const e of enterprises) {
        const reason = e.enterprise!.sizeReason as { key: string };
        expect(reason.key, e.nameZh).to.match(/^sme\.reason\./);
        expect(t(reason.key), 'reason key in the dictionary').to.be.a('string');
      }
      const small = enterprises.find((o) => o.enterprise!.employees === 85);
      expect(small!.enterprise).to.include({ sector: 'industry', annualRevenueFen: 5_000 * 1_000_000, sizeClass: 'small' });
    });

    it('has a fund, an authority and the platform admin, verified; two registrations pending', async () => {
      for (const [kind, role] of [['fund', 'fund_manager'], ['authority', 'regulator'], ['platform', 'admin']] as const) {
        const org = await Organization.findOne({ kind }).lean();
        expect(org!.verified, kind).to.equal(true);
        const users = await User.find({ organization: org!._id }).lean();
        expect(users.map((u) => u.role), kind).to.deep.equal([role]);
      }
      const pending = await Organization.find({ verified: false }).lean();
      expect(pending.map((o) => o.kind).sort()).to.deep.equal(['enterprise', 'institute']);
    });

    it("gives every user their organisation's role, and audits every record", async () => {
      const users = await User.find().populate<{ organization: { kind: keyof typeof ROLE_FOR_KIND } }>('organization').lean();
      expect(users).to.have.length(DEMO_USERS.length);
      for (const u of users) expect(u.role, u.email).to.equal(ROLE_FOR_KIND[u.organization.kind]);
      const c = await counts();
      expect(await AuditEvent.countDocuments({ requestId: 'seed' })).to.equal(c.organizations + c.users);
    });

    it('every demo login works', async () => {
      // All demo users share one hash of the printed password (one scrypt for the whole load), so
      // checking that hash once plus each account's state covers every login without 15 slow hashes.
      const users = await User.find().select('+passwordHash').lean();
      expect(new Set(users.map((u) => u.passwordHash)).size, 'one shared hash').to.equal(1);
      expect(await verifyPassword(DEMO_PASSWORD, users[0]!.passwordHash)).to.equal(true);
      for (const u of users) {
        expect(u, u.email).to.include({ active: true, failedLogins: 0, lockedUntil: null });
        const sessionUser = await loadSessionUser(String(u._id));
        expect(sessionUser, `${u.email} can get a session`).to.include({ email: u.email, role: u.role });
      }
      // …and over HTTP, for a zh-CN and an English-speaking user.
      for (const u of DEMO_USERS.filter((d) => d.email === 'admin@demo.yrd-exchange.cn' || d.locale === 'en')) {
        const agent = h.agent();
        expect((await login(agent, u.email)).status, u.email).to.equal(302);
        expect((await agent.get('/')).text, u.email).to.include(`<html lang="${u.locale}"`);
      }
    });
  });

  describe('maybeSeedDemo()', () => {
    const quietly = async <T>(fn: () => Promise<T>): Promise<T> => {
      const log = console.log;
      console.log = () => {};
      try {
        return await fn();
      } finally {
        console.log = log;
      }
    };

    beforeEach(async () => {
      await h.reset();
    });

    it('loads into an empty embedded database (auto), never twice', async () => {
      expect(await quietly(() => maybeSeedDemo({ seedDemo: 'auto' }, true))).to.equal(true);
      const after = await counts();
      expect(after.organizations).to.equal(DEMO_ORGS.length);
      for (const mode of ['auto', 'always'] as const) {
        expect(await quietly(() => maybeSeedDemo({ seedDemo: mode }, true)), mode).to.equal(false);
        expect(await quietly(() => maybeSeedDemo({ seedDemo: mode }, false)), mode).to.equal(false);
      }
      expect(await counts()).to.deep.equal(after);
    });

    it('never loads into a database that holds any organisation or user', async () => {
      await Organization.create({ kind: 'platform', nameZh: '已有平台', region: 'SH', uscc: validUscc(1, '12310000') });
      expect(await quietly(() => maybeSeedDemo({ seedDemo: 'always' }, true))).to.equal(false);
      expect(await Organization.countDocuments()).to.equal(1);
      expect(await User.countDocuments()).to.equal(0);
    });

    it("never against an external database (not embedded) unless seedDemo is 'always'", async () => {
      expect(await quietly(() => maybeSeedDemo({ seedDemo: 'auto' }, false))).to.equal(false);
      expect(await quietly(() => maybeSeedDemo({ seedDemo: 'never' }, true))).to.equal(false);
      expect(await quietly(() => maybeSeedDemo({ seedDemo: 'never' }, false))).to.equal(false);
      expect(await isDatabaseEmpty()).to.equal(true);
      expect(await quietly(() => maybeSeedDemo({ seedDemo: 'always' }, false))).to.equal(true);
      expect(await Organization.countDocuments()).to.equal(DEMO_ORGS.length);
    });
  });
});
