/** The last bytes of a stream, kept within a fixed budget, with the count of every byte seen. */

/** What is kept of one output stream. */
export interface StreamTail {
  /** The last bytes (at most the limit), decoded as UTF-8; a character cut at the start is dropped. */
  tail: string;
  /** Every byte the stream carried. */
  bytes: number;
  /** Bytes were dropped from the start (`bytes` exceeds what `tail` holds). */
  truncated: boolean;
}

export interface OutputTail {
  push(chunk: Buffer): void;
  result(): StreamTail;
}

/** Keeps the last `limitBytes` of what is pushed; memory stays at about `limitBytes` plus one chunk. */
export function createOutputTail(limitBytes: number): OutputTail {
  let chunks: Buffer[] = [];
  let kept = 0;
  let bytes = 0;
  return {
    push(chunk) {
      bytes += chunk.length;
      if (limitBytes === 0) return;
      chunks.push(chunk);
      kept += chunk.length;
      // Drop whole chunks from the front while the rest still covers the limit.
      while (chunks.length > 1 && kept - chunks[0]!.length >= limitBytes) kept -= chunks.shift()!.length;
      if (kept > 2 * limitBytes) {
        // One huge chunk (or many): compact so memory stays bounded.
        chunks = [Buffer.from(Buffer.concat(chunks).subarray(kept - limitBytes))];
        kept = limitBytes;
      }
    },
    result() {
      const all = Buffer.concat(chunks);
      let tail = all.length > limitBytes ? all.subarray(all.length - limitBytes) : all;
      if (tail.length < bytes) tail = tail.subarray(leadingContinuationBytes(tail));
      return { tail: tail.toString('utf8'), bytes, truncated: bytes > Math.min(all.length, limitBytes) };
    },
  };
}

/** UTF-8 continuation bytes (0b10xxxxxx) at the start: the rest of a character cut off (at most 3). */
function leadingContinuationBytes(b: Buffer): number {
  let n = 0;
  while (n < 3 && n < b.length && (b[n]! & 0xc0) === 0x80) n++;
  return n;
}
