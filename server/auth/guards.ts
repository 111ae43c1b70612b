/**
 * Route guards: send anonymous visitors to the login page (remembering where
 * they were going) and answer 403 to a signed-in user without the role.
 * Services check the same rules again; the guard only gives the nicer answer.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Role } from '../../models/user.js';
import { ForbiddenError } from '../errors.js';

declare module 'express-session' {
  interface SessionData {
    returnTo?: string;
  }
}

export function requireLogin(...roles: Role[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!req.user) {
      if (req.method === 'GET') req.session.returnTo = req.originalUrl;
      res.redirect('/login');
      return;
    }
    if (roles.length && !roles.includes(req.user.role)) {
      next(new ForbiddenError('error.forbidden_role'));
      return;
    }
    next();
  };
}
