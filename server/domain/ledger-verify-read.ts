/**
 * Reading an export into the verifier: JSONL text (the CLI, an uploaded
 * file) or items straight from the database (the console). Input that is not
 * an export at all — bad JSON, an unknown line type, no header first — is
 * refused naming the line, as distinct from an export that fails to verify.
 */
import { LedgerVerifier, plainJsonLine, type AccountLine, type CheckpointLine, type ExportHeader, type ExportLine, type TransferLine, type VerifyOptions, type VerifyResult } from './ledger-verify.js';

/** The input is not an export at all (bad JSON, an unknown line type, no header): names the line. */
export class UnreadableExportError extends Error {
  constructor(readonly line: number, readonly reason: string) {
    super(`line ${line}: ${reason}`);
  }
}

/** Feeds an export's items to a verifier; the first must be the header. */
export class ExportReader {
  private line = 0;
  private seenHeader = false;

  get sawHeader(): boolean {
    return this.seenHeader;
  }

  constructor(readonly verifier: LedgerVerifier) {}

  /** One JSONL line (blank lines are skipped; a trailing "\r" is allowed). */
  text(raw: string): void {
    const item = this.parse(raw);
    if (item) this.item(item, true, plainJsonLine(raw));
  }

  /** A JSONL line parsed and counted (null: blank); not yet fed to the verifier. */
  parse(raw: string): ExportLine | null {
    this.line++;
    if (!raw.trim()) return null;
    try {
      return JSON.parse(raw) as ExportLine;
    } catch (err) {
      throw new UnreadableExportError(this.line, `not JSON (${(err as Error).message})`);
    }
  }

  /** One parsed item (from a JSONL line, or straight from the database); `plain`: see LedgerVerifier.transfer. */
  item(item: ExportLine, counted = false, plain = false): void {
    if (!counted) this.line++;
    const type = item && typeof item === 'object' ? (item as { type?: unknown }).type : undefined;
    if (!this.seenHeader) {
      if (type !== 'header') throw new UnreadableExportError(this.line, 'the first line must be the export header ({"type":"header",…})');
      this.seenHeader = true;
      this.verifier.setHeader(item as ExportHeader);
      return;
    }
    if (type === 'transfer') this.verifier.transfer(item as TransferLine, plain);
    else if (type === 'checkpoint') this.verifier.checkpoint(item as CheckpointLine);
    else if (type === 'account') this.verifier.account(item as AccountLine);
    else if (type === 'header') throw new UnreadableExportError(this.line, 'a second header');
    else throw new UnreadableExportError(this.line, `unknown line type ${JSON.stringify(type)}`);
  }
}

/** The verdict once every item is in; an input without even a header is not an export. */
export function finishReading(reader: ExportReader): VerifyResult {
  if (!reader.sawHeader) throw new UnreadableExportError(1, 'the file is empty: an export starts with its header line ({"type":"header",…})');
  return reader.verifier.finish();
}

/** A JSONL line, or an item already parsed. */
export type ExportInput = string | ExportLine;

/**
 * Verifies an export read by `open()` (called again, with the misplaced
 * checkpoints supplied up front, if any checkpoint came after its seq).
 * Throws UnreadableExportError for input that is not an export.
 */
export async function verifyExport(open: () => AsyncIterable<ExportInput | ExportInput[]>, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const once = async (o: VerifyOptions) => {
    const reader = new ExportReader(new LedgerVerifier(o));
    const feed = (x: ExportInput) => (typeof x === 'string' ? reader.text(x) : reader.item(x));
    // Sources yield batches (a chunk of a file, a page of the journal): one await per batch, not per line.
    for await (const x of open()) {
      if (Array.isArray(x)) for (const y of x) feed(y);
      else feed(x);
    }
    return finishReading(reader);
  };
  const first = await once(opts);
  if (!first.misplaced.length) return first;
  return once({ ...opts, checkpoints: [...(opts.checkpoints ?? []), ...first.misplaced] });
}
