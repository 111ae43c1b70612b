/**
 * Loads the demo organisations and users into an empty database, with an
 * audit event for each record, as if they had registered and been verified.
 */
import mongoose from 'mongoose';
import { AuditEvent } from '../../models/audit-event.js';
import { Organization } from '../../models/organization.js';
import { User } from '../../models/user.js';
import { classifySme } from '../domain/sme-size.js';
import { usccCheckCharacter } from '../domain/uscc.js';
import { ROLE_FOR_KIND } from '../services/organizations.js';
import { hashPassword } from '../services/passwords.js';
import { DEMO_ORGS, DEMO_PASSWORD } from './demo-data.js';

/** A deterministic, valid credit code: prefix, a 9-character body from the index, then the check character. */
function demoUscc(prefix: string, index: number): string {
  const body = `${prefix}MA${String(10_000_000 + index).slice(1)}`;
  return body + usccCheckCharacter(body);
}

export async function isDatabaseEmpty(): Promise<boolean> {
  return !(await Organization.exists({})) && !(await User.exists({}));
}

export async function loadDemo(): Promise<{ organizations: number; users: number }> {
  // One hash for every demo account (they share the printed password); scrypt is deliberately slow.
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  let users = 0;
  await Promise.all([Organization.init(), User.init(), AuditEvent.init()]);
  await mongoose.connection.transaction(async (session) => {
    const admin = DEMO_ORGS.find((o) => o.kind === 'platform')!;
    let adminUserId: mongoose.Types.ObjectId | null = null;
    const adminEmail = admin.users[0].email;
    for (const [i, o] of [admin, ...DEMO_ORGS.filter((d) => d !== admin)].entries()) {
      const enterprise = o.enterprise ? { ...o.enterprise, ...(({ sizeClass, reason }) => ({ sizeClass, sizeReason: reason }))(classifySme(o.enterprise)) } : undefined;
      const [org] = await Organization.create(
        [{ kind: o.kind, nameZh: o.nameZh, nameEn: o.nameEn, region: o.region, uscc: demoUscc(o.usccPrefix, i + 1), verified: o.verified, verifiedAt: o.verified ? new Date() : null, enterprise }],
        { session },
      );
      for (const u of o.users) {
        const [user] = await User.create([{ ...u, passwordHash, organization: org._id, role: ROLE_FOR_KIND[o.kind] }], { session });
        adminUserId ??= user._id;
        users++;
        await AuditEvent.create([{ actor: adminUserId, actorEmail: adminEmail, action: 'user.created', targetType: 'User', targetId: String(user._id), summary: { email: u.email, source: 'demo seed' }, requestId: 'seed' }], { session });
      }
      await AuditEvent.create([{ actor: adminUserId, actorEmail: adminEmail, action: o.verified ? 'organization.verified' : 'organization.registered', targetType: 'Organization', targetId: String(org._id), summary: { nameZh: o.nameZh, source: 'demo seed' }, requestId: 'seed' }], { session });
    }
  });
  return { organizations: DEMO_ORGS.length, users };
}
