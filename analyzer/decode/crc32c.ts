/** CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as the PROXY v2 CRC32C TLV uses it. */
/**
 * Slicing-by-4 tables: TABLES[k * 256 + x] is the CRC of byte x followed by k zero bytes, so four
 * bytes are folded with four independent lookups instead of a chain of four (212 → 126 ns for a
 * 61-byte PROXY v2 header in a one-off micro-benchmark, docs/decode.md).
 */
const TABLES = (() => {
  const t = new Uint32Array(4 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let k = 1; k < 4; k++) {
    for (let i = 0; i < 256; i++) {
      const prev = t[(k - 1) * 256 + i];
      t[k * 256 + i] = (t[prev & 0xff] ^ (prev >>> 8)) >>> 0;
    }
  }
  return t;
})();

/** Continue a CRC32C over bytes[off, off+len); start with crc = 0. */
export function crc32cUpdate(crc: number, bytes: Uint8Array, off: number, len: number): number {
  const t = TABLES;
  let c = ~crc;
  let i = off;
  const end = off + len;
  for (const words = off + (len & ~3); i < words; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t[768 + (c & 0xff)] ^ t[512 + ((c >>> 8) & 0xff)] ^ t[256 + ((c >>> 16) & 0xff)] ^ t[c >>> 24];
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Continue a CRC32C over `count` zero bytes (the CRC field itself is summed as zeros). */
export function crc32cZeros(crc: number, count: number): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < count; i++) c = TABLES[c & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export function crc32c(bytes: Uint8Array, off = 0, len = bytes.length - off): number {
  return crc32cUpdate(0, bytes, off, len);
}

/**
 * Whether bytes[off, end) carries its own CRC32C in the big-endian 4-byte field at `fieldAt`, the
 * field summed as zeros (PROXY v2 TLV 0x03). A boolean, so a packet's check allocates nothing
 * (a returned CRC above 2^30 would be boxed).
 */
export function crc32cFieldMatches(bytes: Uint8Array, off: number, end: number, fieldAt: number): boolean {
  const want = (bytes[fieldAt] << 24) | (bytes[fieldAt + 1] << 16) | (bytes[fieldAt + 2] << 8) | bytes[fieldAt + 3];
  const c = crc32cUpdate(crc32cZeros(crc32cUpdate(0, bytes, off, fieldAt - off), 4), bytes, fieldAt + 4, end - fieldAt - 4);
  return (c | 0) === want;
}
