/**
 * `npm run verify-ledger`: starts the offline verifier (ledger-verify-cli.ts)
 * from source through tsx's require hook, which is ready in a sixth of a
 * second. `tsx file.ts` or `node --import tsx` start Node's module-hooks
 * thread first and take half a second to a second more: a tenth of the
 * whole verification of a million transfers.
 */
require('tsx/cjs');
require('./ledger-verify-cli.ts');
