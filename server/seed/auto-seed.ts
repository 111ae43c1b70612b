/**
 * On first start of the embedded store with an empty database the demo is
 * loaded, so a new user can log in at once. Never on a non-empty database,
 * and never against MONGODB_URI unless SEED_DEMO=always.
 */
import type { Config } from '../config.js';
import { loadDemoCatalogue } from './load-demo-catalogue.js';
import { loadDemoFund } from './load-demo-fund.js';
import { loadDemoLicences } from './load-demo-licences.js';
import { isDatabaseEmpty, loadDemo } from './load-demo.js';

export async function maybeSeedDemo(config: Pick<Config, 'seedDemo'>, embedded: boolean): Promise<boolean> {
  if (config.seedDemo === 'never') return false;
  if (config.seedDemo === 'auto' && !embedded) return false;
  if (!(await isDatabaseEmpty())) return false;
  const { organizations, users } = await loadDemo();
  const catalogue = await loadDemoCatalogue();
  await loadDemoLicences();
  await loadDemoFund();
  console.log(`Loaded the demo: ${organizations} organisations, ${users} users, ${catalogue.patents} patents (${catalogue.offers} offers), ${catalogue.needs} needs (see README for the logins).`);
  return true;
}
