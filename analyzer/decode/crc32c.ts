/** CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as the PROXY v2 CRC32C TLV uses it. */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** Continue a CRC32C over bytes[off, off+len); start with crc = 0. */
export function crc32cUpdate(crc: number, bytes: Uint8Array, off: number, len: number): number {
  let c = ~crc >>> 0;
  for (let i = off, end = off + len; i < end; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Continue a CRC32C over `count` zero bytes (the CRC field itself is summed as zeros). */
export function crc32cZeros(crc: number, count: number): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < count; i++) c = TABLE[c & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export function crc32c(bytes: Uint8Array, off = 0, len = bytes.length - off): number {
  return crc32cUpdate(0, bytes, off, len);
}
