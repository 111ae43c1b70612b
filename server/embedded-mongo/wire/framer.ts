/**
 * Splits a TCP byte stream into whole wire messages, whatever the chunking.
 */
import { HEADER_SIZE, MAX_MESSAGE_SIZE, WireProtocolError } from './messages.js';

export class MessageFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;

  /** Returns the messages completed by this chunk; throws a fatal WireProtocolError on an impossible length. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const messages: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 4) break;
        const length = this.peek(4).readInt32LE(0);
        if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE) {
          throw new WireProtocolError(
            `message length ${length} is outside [${HEADER_SIZE}, ${MAX_MESSAGE_SIZE}]`, 17, 'ProtocolError', true);
        }
        this.expected = length;
      }
      if (this.buffered < this.expected) break;
      messages.push(this.take(this.expected));
      this.expected = -1;
    }
    return messages;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    return Buffer.concat(this.chunks).subarray(0, n);
  }

  /** Removes n bytes; concatenates only when a message spans chunks, so large messages are copied once. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const all = Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    return all.subarray(0, n);
  }
}
