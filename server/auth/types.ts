/**
 * What Passport puts on `req.user`: the acting user as services authorise
 * it, plus what the layout shows.
 */
import type { Locale } from '../../models/user.js';
import type { Actor } from '../services/context.js';

export interface SessionUser extends Actor {
  name: string;
  locale: Locale;
  orgName: string;
  orgNameEn: string;
}

declare global {
  // Express's own augmentation point (namespace merging is the only way to type req.user).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends SessionUser {}
    interface Request {
      locale: Locale;
      requestId: string;
    }
  }
}
