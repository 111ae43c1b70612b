/** Placeholder, filled in by the fund-ledger work (issue 6). */
import { Router } from 'express';
import type { RouteDeps } from '../server/app.js';

export function createFundCheckpointsRouter(_deps: RouteDeps): Router {
  return Router();
}
