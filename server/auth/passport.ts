/**
 * passport-local over services/accounts: the session stores only the user
 * id; each request reloads the user and organisation, so a verification or a
 * deactivation takes effect at once.
 */
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { Organization } from '../../models/organization.js';
import { User } from '../../models/user.js';
import { actorFor, authenticate } from '../services/accounts.js';
import type { SessionUser } from './types.js';

export function configurePassport(): passport.PassportStatic {
  passport.use(
    new LocalStrategy({ usernameField: 'email', passwordField: 'password', passReqToCallback: true }, (req, email, password, done) => {
      authenticate({ requestId: req.requestId, ip: req.ip ?? '' }, String(email), String(password)).then(
        (userId) => (userId ? loadSessionUser(String(userId)).then((u) => done(null, u ?? false)) : done(null, false)),
        (err) => done(err),
      );
    }),
  );
  passport.serializeUser((user, done) => done(null, String(user.userId)));
  passport.deserializeUser((id: string, done) => {
    loadSessionUser(id).then((u) => done(null, u ?? false), done);
  });
  return passport;
}

export async function loadSessionUser(id: string): Promise<SessionUser | null> {
  const actor = await actorFor(id);
  if (!actor) return null;
  const [user, org] = await Promise.all([User.findById(id).lean(), Organization.findById(actor.orgId).lean()]);
  if (!user || !org) return null;
  return { ...actor, name: user.name, locale: user.locale, orgName: org.nameZh, orgNameEn: org.nameEn };
}
