/**
 * Evidence files of a claim: which files are accepted and how they are kept.
 *
 * Only PDF, PNG and JPEG, recognised by their first bytes — the name and the
 * browser's MIME type are the uploader's say-so, and an executable renamed
 * `.pdf` must not reach a reviewer's machine as a PDF. At most 10 MB each and
 * 10 per claim. A batch is checked whole before anything is written: one bad
 * file refuses the batch (422, naming the file and the rule), so what is
 * stored is always a set the uploader chose. Each file is kept with its
 * SHA-256, which the dossier lists, so anyone can check a copy.
 */
import { createHash } from 'node:crypto';
import type { ClientSession, Types } from 'mongoose';
import { ClaimEvidence } from '../../../models/claim-evidence.js';
import { ValidationError } from '../../errors.js';

export const EVIDENCE_MAX_BYTES = 10 * 1024 * 1024;
export const EVIDENCE_MAX_FILES = 10;
export const EVIDENCE_MAX_MB = EVIDENCE_MAX_BYTES / 1024 / 1024;

/** An uploaded file as the HTTP layer hands it over (multer's memory storage shape). */
export interface UploadedFile {
  originalname: string;
  buffer: Buffer;
}

export interface CheckedFile {
  name: string;
  contentType: 'application/pdf' | 'image/png' | 'image/jpeg';
  size: number;
  sha256: string;
  data: Buffer;
}

const SIGNATURES: { type: CheckedFile['contentType']; magic: Buffer }[] = [
  { type: 'application/pdf', magic: Buffer.from('%PDF-', 'latin1') },
  { type: 'image/png', magic: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: 'image/jpeg', magic: Buffer.from([0xff, 0xd8, 0xff]) },
];

/** The type the bytes say, or null when they are none of ours. */
export function sniffType(data: Buffer): CheckedFile['contentType'] | null {
  for (const s of SIGNATURES) if (data.length >= s.magic.length && data.subarray(0, s.magic.length).equals(s.magic)) return s.type;
  return null;
}

/** A file name safe to show and to send back in Content-Disposition: no path, no control characters, bounded. */
export function cleanName(raw: string): string {
  const base = String(raw ?? '').normalize('NFC').split(/[\\/]/).pop() ?? '';
  const name = base.replace(/\p{Cc}/gu, '').trim().slice(0, 200);
  return name || 'evidence';
}

/**
 * Checks a batch against the rules, given how many files the claim already
 * has. Throws a ValidationError on the `evidence` field naming the first
 * file at fault and the rule it breaks.
 */
export function checkEvidence(files: UploadedFile[], already = 0, required = false): CheckedFile[] {
  const fail = (key: string, params: Record<string, string | number> = {}) => new ValidationError({ evidence: { key, params } });
  if (required && files.length === 0) throw fail('fund.claim.evidence.required');
  if (already + files.length > EVIDENCE_MAX_FILES) throw fail('fund.claim.evidence.too_many', { max: EVIDENCE_MAX_FILES, already });
  return files.map((f) => {
    const name = cleanName(f.originalname);
    if (!f.buffer?.length) throw fail('fund.claim.evidence.empty', { name });
    if (f.buffer.length > EVIDENCE_MAX_BYTES) throw fail('fund.claim.evidence.too_large', { name, max: EVIDENCE_MAX_MB });
    const contentType = sniffType(f.buffer);
    if (!contentType) throw fail('fund.claim.evidence.bad_type', { name });
    return { name, contentType, size: f.buffer.length, sha256: createHash('sha256').update(f.buffer).digest('hex'), data: f.buffer };
  });
}

/** Stores checked files for `claim` inside the caller's transaction. */
export async function storeEvidence(claim: Types.ObjectId, files: CheckedFile[], by: Types.ObjectId, at: Date, session: ClientSession) {
  if (!files.length) return [];
  return ClaimEvidence.insertMany(files.map((f) => ({ claim, ...f, uploadedBy: by, uploadedAt: at })), { session });
}

/** The evidence list of a claim without the bytes, oldest first. */
export async function evidenceList(claim: Types.ObjectId, session?: ClientSession) {
  return ClaimEvidence.find({ claim }).select('-data').sort({ uploadedAt: 1, _id: 1 }).session(session ?? null).lean();
}
