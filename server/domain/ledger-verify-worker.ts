/**
 * Worker thread of the parallel verifier (ledger-verify-parallel.ts): takes
 * blocks of whole JSONL lines, parses them and recomputes each transfer's
 * hash and Merkle leaf — the per-record work that needs nothing from earlier
 * records — and sends back the compact result of ledger-verify-block.ts.
 * Blocks arrive and leave in order, so the string table stays in step with
 * the main thread's copy.
 */
import { parentPort } from 'node:worker_threads';
import { BlockEncoder } from './ledger-verify-block.js';

const encoder = new BlockEncoder();
const port = parentPort!;

port.on('message', (msg: { id: number; buffer: ArrayBuffer; length: number }) => {
  const res = encoder.encode(msg.id, Buffer.from(msg.buffer, 0, msg.length));
  port.postMessage(res, [res.nums.buffer as ArrayBuffer, res.bytes.buffer as ArrayBuffer]);
});
