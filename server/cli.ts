/**
 * Operator commands. `npm run seed` loads the demo data into an empty
 * database (the embedded store in DATA_DIR, or MONGODB_URI).
 */
import { ConfigError, loadConfig } from './config.js';
import { connectDatabase } from './db.js';
import { loadDemoCatalogue } from './seed/load-demo-catalogue.js';
import { loadDemoFund } from './seed/load-demo-fund.js';
import { loadDemoLicences } from './seed/load-demo-licences.js';
import { isDatabaseEmpty, loadDemo } from './seed/load-demo.js';

async function seed(): Promise<void> {
  const config = loadConfig();
  const db = await connectDatabase(config);
  try {
    if (!(await isDatabaseEmpty())) {
      console.error('The database already holds organisations or users; the demo is only loaded into an empty database.');
      process.exitCode = 1;
      return;
    }
    const { organizations, users } = await loadDemo();
    const catalogue = await loadDemoCatalogue();
    await loadDemoLicences();
    await loadDemoFund();
    console.log(`Loaded the demo: ${organizations} organisations, ${users} users, ${catalogue.patents} patents, ${catalogue.offers} offers, ${catalogue.needs} needs.`);
  } finally {
    await db.close();
  }
}

const commands: Record<string, () => Promise<void>> = { seed };
const name = process.argv[2] ?? '';
const run = commands[name];
if (!run) {
  console.error(`usage: tsx server/cli.ts <${Object.keys(commands).join('|')}>`);
  process.exit(2);
}
run().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `failed: ${(err as Error).message}`);
  process.exit(1);
});
