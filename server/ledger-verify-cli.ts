/**
 * The regulator's own check of a fund-ledger export, needing nothing from
 * the server but the file (and, better, the ledger's public key obtained
 * some other way):
 *
 *   npm run verify-ledger -- export.jsonl [--public-key key.pem] [--checkpoint checkpoint.json] [--workers n]
 *
 * --workers: threads that parse and hash (default one per core; 0: none,
 * everything on the main thread).
 *
 * Exit status: 0 the export verifies; 1 it does not (the first bad seq is
 * named); 2 the input cannot be read as an export (the line is named) or
 * the command line is wrong. Runs server/domain/ledger-verify.ts, the same
 * code as the console's check, so the two cannot disagree.
 */
import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { checkpointBodyProblem, type CheckpointClaim } from './domain/ledger-checkpoint-text.js';
import { defaultWorkers, verifyFile } from './domain/ledger-verify-parallel.js';
import { UnreadableExportError, verifyExport } from './domain/ledger-verify-read.js';
import type { VerifyOptions, VerifyResult } from './domain/ledger-verify.js';

const USAGE = 'usage: npm run verify-ledger -- <export.jsonl> [--public-key key.pem]… [--checkpoint checkpoint.json]… [--workers n]';

class UsageError extends Error {}

/**
 * The file's lines, a chunk's worth at a time (one await per chunk). An
 * all-ASCII chunk — the usual case — is read as latin1, several times
 * faster than UTF-8 decoding; any other goes through a UTF-8 decoder that
 * carries a character split across chunks.
 */
async function* fileLines(file: string): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>) {
    const text = isAscii(chunk) ? chunk.toString('latin1') : decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = start === 0 ? carry + text.slice(0, nl) : text.slice(start, nl);
      lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      start = nl + 1;
    }
    carry = start === 0 ? carry + text : text.slice(start);
    yield lines;
  }
  carry += decoder.end();
  if (carry) yield [carry];
}

function parseArgs(argv: string[]): { file: string; keys: string[]; checkpoints: CheckpointClaim[]; workers: number } {
  let file: string | null = null;
  let workers = defaultWorkers();
  const keys: string[] = [];
  const checkpoints: CheckpointClaim[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--public-key' || a === '--checkpoint') {
      const path = argv[++i];
      if (!path) throw new UsageError(`${a} needs a file`);
      const text = readText(path);
      if (a === '--public-key') keys.push(text);
      else checkpoints.push(readCheckpoint(path, text));
    } else if (a === '--workers') {
      workers = Number(argv[++i]);
      if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new UsageError('--workers needs a whole number from 0 (no worker threads) to 64');
    } else if (a === '-h' || a === '--help') throw new UsageError('');
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (file) throw new UsageError('give one export file');
    else file = a;
  }
  if (!file) throw new UsageError('no export file given');
  if (!fs.existsSync(file)) throw new UsageError(`cannot read ${file}: no such file`);
  return { file, keys, checkpoints, workers };
}

function readText(path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

function readCheckpoint(path: string, text: string): CheckpointClaim {
  let c: CheckpointClaim;
  try {
    c = JSON.parse(text) as CheckpointClaim;
  } catch {
    throw new UsageError(`${path} is not a checkpoint file (not JSON)`);
  }
  const bad = c && typeof c === 'object' ? checkpointBodyProblem(c) : 'not an object';
  if (bad) throw new UsageError(`${path} is not a checkpoint file: ${bad}`);
  return c;
}

function report(r: VerifyResult, file: string, trusted: boolean): void {
  const n = (x: number) => x.toLocaleString('en');
  console.log(`Export: ${file}`);
  console.log(`Transfers: ${n(r.transfers)} (through seq ${n(r.lastSeq)}); head hash ${r.headHash}`);
  console.log(`Merkle root of the whole journal: ${r.root}`);
  console.log(`Checkpoints checked: ${n(r.checkpoints)}, signatures against ${trusted ? 'the public key(s) you gave' : 'the keys carried in the export itself (pass --public-key with a key obtained independently to trust them)'}`);
  if (r.accountsCompared) console.log(`Account totals compared with the journal: ${n(r.accountsCompared)}`);
  if (r.ok) {
    console.log(`VERDICT: OK — the chain, the balances${r.checkpoints ? ' and every checkpoint' : ''} verify.`);
    if (!r.checkpoints) console.log('Note: the export holds no checkpoint, so nothing proves the journal is the one that was signed.');
    return;
  }
  console.log(`VERDICT: FAILED — ${r.firstBadSeq !== null ? `first bad seq ${r.firstBadSeq}` : 'see below'}; ${n(r.problemCount)} problem(s):`);
  for (const p of r.problems) console.log(`  ${p.seq === null ? '(export)' : `seq ${p.seq}`}: ${p.message}`);
  if (r.problemCount > r.problems.length) console.log(`  … and ${n(r.problemCount - r.problems.length)} more`);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) console.error(err.message);
    console.error(USAGE);
    return 2;
  }
  const started = Date.now();
  try {
    const opts: VerifyOptions = { trustedKeys: args.keys.length ? args.keys : undefined, checkpoints: args.checkpoints, maxProblems: 20 };
    // Worker threads parse and hash (ledger-verify-parallel.ts); --workers 0 reads on this thread alone.
    const result = args.workers ? await verifyFile(args.file, opts, args.workers) : await verifyExport(() => fileLines(args.file), opts);
    report(result, args.file, args.keys.length > 0);
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return result.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof UnreadableExportError) {
      console.error(`UNREADABLE: ${args.file} line ${err.line}: ${err.reason}`);
      return 2;
    }
    throw err;
  }
}

main().then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  console.error(`verify-ledger failed: ${(err as Error).message}`);
  process.exitCode = 2;
});
