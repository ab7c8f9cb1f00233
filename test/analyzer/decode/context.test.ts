import { describe, expect, it } from 'vitest';
import { newL34, setPayloadHash } from '../../../analyzer/decode/context.js';

/** FNV-1a 32 over big-endian 32-bit words of the first 32 bytes, then single bytes: the definition eBPF and correlate rely on. */
function reference(b: Uint8Array, off: number, len: number): number {
  const n = Math.min(len, 32);
  let h = 0x811c9dc5;
  let i = 0;
  for (; i + 4 <= n; i += 4) h = Math.imul(h ^ ((b[off + i] << 24) | (b[off + i + 1] << 16) | (b[off + i + 2] << 8) | b[off + i + 3]), 0x01000193);
  for (; i < n; i++) h = Math.imul(h ^ b[off + i], 0x01000193);
  return h >>> 0;
}

describe('setPayloadHash', () => {
  it('is FNV-1a over the first 32 payload bytes whatever the length and offset', () => {
    const b = Uint8Array.from({ length: 128 }, (_, i) => (i * 151 + 7) & 0xff);
    const dv = new DataView(b.buffer);
    const f = newL34();
    const seen = new Set<number>();
    for (const off of [0, 1, 3, 17]) {
      for (let len = 0; len <= 48; len++) {
        setPayloadHash(f, b, dv, off, len);
        const h = f.payloadHash;
        expect(h, `off ${off} len ${len}`).toBe(reference(b, off, len));
        seen.add(h);
      }
    }
    // Per offset, lengths 1..31 differ and 32..48 hash the same 32 bytes; length 0 is the bare basis.
    expect(seen.size).toBe(4 * 32 + 1);
  });
});
