/**
 * The ledger's Ed25519 signing key, which signs checkpoints. Configured with
 * LEDGER_SIGNING_KEY (server/config.ts) or, where the configuration allows,
 * generated on first start and kept as DATA_DIR/ledger-signing-key.pem
 * (mode 0600) — like the session secret — so checkpoints stay verifiable
 * with one key across restarts.
 *
 * Services never reach for a global key: they take a LedgerSigner, so tests
 * pass their own. main.ts loads the key once and installs it for the routes.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { keyIdOf } from '../../domain/ledger-checkpoint-text.js';

export interface LedgerSigner {
  /** First 16 hex digits of SHA-256 of the public key (SPKI DER). */
  readonly keyId: string;
  /** The public key, SPKI PEM: what verifiers need. */
  readonly publicKeyPem: string;
  /** base64 Ed25519 signature of `text` (UTF-8). */
  sign(text: string): string;
  /**
   * Public keys (SPKI PEM) of keys this ledger signed with before a
   * rotation (LEDGER_RETIRED_KEYS): the checkpoints they signed stay
   * trusted, though nothing new is signed with them.
   */
  readonly retiredPublicKeyPems: readonly string[];
}

export const SIGNING_KEY_FILE = 'ledger-signing-key.pem';

/** A signer for a PKCS#8 PEM Ed25519 private key (and the public keys it replaced); throws on anything else. */
export function signerFromPem(pkcs8Pem: string, retiredPublicKeyPems: readonly string[] = []): LedgerSigner {
  const privateKey: KeyObject = createPrivateKey(pkcs8Pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError(`the ledger signing key must be Ed25519 (got ${privateKey.asymmetricKeyType ?? 'unknown'})`);
  const publicKey = createPublicKey(privateKey);
  return Object.freeze({
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    sign: (text: string) => sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64'),
    retiredPublicKeyPems: Object.freeze([...retiredPublicKeyPems]),
  });
}

/** The keys a checkpoint of this ledger may be signed with: the current one, then the retired ones. */
export function trustedKeysOf(signer: LedgerSigner): string[] {
  return [signer.publicKeyPem, ...signer.retiredPublicKeyPems];
}

/** A fresh Ed25519 key as PKCS#8 PEM. */
export function generateSigningKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/**
 * The configured key, else the one kept under `dataDir` (created on first
 * start). Config has already refused an unset key where one is required.
 */
export async function loadLedgerSigner(opts: { configuredPem: string | null; dataDir: string; retiredPems?: readonly string[] }): Promise<LedgerSigner> {
  const retired = opts.retiredPems ?? [];
  if (opts.configuredPem) return signerFromPem(opts.configuredPem, retired);
  const file = path.join(opts.dataDir, SIGNING_KEY_FILE);
  try {
    return signerFromPem(await fs.readFile(file, 'utf8'), retired);
  } catch (err) {
    // A key file that exists but is unusable must not be silently replaced: checkpoints signed with it would become unverifiable.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is not a usable Ed25519 private key: ${(err as Error).message}`);
  }
  await fs.mkdir(opts.dataDir, { recursive: true });
  const pem = generateSigningKeyPem();
  try {
    // 'wx': if another process created it meanwhile, use theirs.
    await fs.writeFile(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return signerFromPem(await fs.readFile(file, 'utf8'), retired);
    throw err;
  }
  return signerFromPem(pem, retired);
}

let installed: LedgerSigner | null = null;

/** main.ts hands the loaded key to the HTTP layer here (routes pass it on to services explicitly). */
export function installLedgerSigner(signer: LedgerSigner | null): void {
  installed = signer;
}

/** The key main.ts installed, or null (the app was started without one, e.g. in a test that does not sign). */
export function installedLedgerSigner(): LedgerSigner | null {
  return installed;
}
