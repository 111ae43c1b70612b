/**
 * Outside production the session secret may be left unset: one is generated
 * on first start and kept under DATA_DIR, so sessions survive restarts.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export async function ensureSessionSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'session-secret');
  try {
    const existing = (await fs.readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch {
    // first start: fall through and create it
  }
  await fs.mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  await fs.writeFile(file, secret, { mode: 0o600 });
  return secret;
}
