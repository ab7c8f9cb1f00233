/**
 * PROXY protocol v2 (binary) and v1 (text) at the start of a TCP stream, as HAProxy's spec defines
 * them and as AWS NLB sends them (TLV 0xEA carries the VPC endpoint id). Parsers read a plain byte
 * range so the same code serves a packet's payload and a flow's reassembly buffer.
 */
import { crc32cFieldMatches } from './crc32c.js';
import { parseIp } from './ip-text.js';
import type { Ppv2Record } from './record.js';

/** The 12-byte v2 signature: \r\n\r\n\0\r\nQUIT\n. */
export const PPV2_SIGNATURE = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
const V1_PREFIX = Uint8Array.of(0x50, 0x52, 0x4f, 0x58, 0x59, 0x20); // "PROXY "
/** v1 lines are at most 107 bytes including CRLF. */
const V1_MAX = 107;

/** Results other than a header length (> 0). */
export const PP = { NOT_PROXY: 0, NEED_MORE: -1, BAD_V2: -2, BAD_V1: -3 } as const;

export const PP2_TYPE = { ALPN: 0x01, AUTHORITY: 0x02, CRC32C: 0x03, NOOP: 0x04, UNIQUE_ID: 0x05, SSL: 0x20, NETNS: 0x30, AWS: 0xea } as const;
const PP2_SUBTYPE_AWS_VPCE_ID = 0x01;

function prefixMatches(b: Uint8Array, off: number, avail: number, want: Uint8Array): boolean {
  const n = avail < want.length ? avail : want.length;
  for (let i = 0; i < n; i++) if (b[off + i] !== want[i]) return false;
  return true;
}

/**
 * Parse a v2 header at b[off, off+avail). Returns its total length, or a PP code: NOT_PROXY when the
 * bytes are not a v2 signature, NEED_MORE when they are a valid prefix of one. With `snapCut` (the
 * capture cut the payload, no more will come) a header whose address block was captured is
 * returned as `truncated`.
 */
export function parsePpv2(b: Uint8Array, off: number, avail: number, p: Ppv2Record, snapCut = false): number {
  if (!prefixMatches(b, off, avail, PPV2_SIGNATURE)) return PP.NOT_PROXY;
  if (avail < 16) return PP.NEED_MORE;
  const verCmd = b[off + 12];
  const command = verCmd & 0x0f;
  if (verCmd >> 4 !== 2 || command > 1) return PP.BAD_V2;
  const famByte = b[off + 13];
  const len = (b[off + 14] << 8) | b[off + 15];
  const total = 16 + len;
  const cut = avail < total;
  if (cut && !snapCut) return PP.NEED_MORE;
  const fam = famByte >> 4;
  let addrLen: number;
  let family: string;
  if (fam === 0) { family = 'unspec'; addrLen = 0; }
  else if (fam === 1) { family = 'inet'; addrLen = 12; }
  else if (fam === 2) { family = 'inet6'; addrLen = 36; }
  else if (fam === 3) { family = 'unix'; addrLen = 216; }
  else return PP.BAD_V2;
  if (len < addrLen) return PP.BAD_V2;
  if (avail < 16 + addrLen) return PP.NEED_MORE;
  const a = off + 16;
  p.src4 = 0; p.dst4 = 0; p.sport = -1; p.dport = -1;
  if (fam === 1) {
    p.src4 = ((b[a] << 24) | (b[a + 1] << 16) | (b[a + 2] << 8) | b[a + 3]) >>> 0;
    p.dst4 = ((b[a + 4] << 24) | (b[a + 5] << 16) | (b[a + 6] << 8) | b[a + 7]) >>> 0;
    p.sport = (b[a + 8] << 8) | b[a + 9];
    p.dport = (b[a + 10] << 8) | b[a + 11];
  } else if (fam === 2) {
    for (let i = 0; i < 16; i++) { p.src6[i] = b[a + i]; p.dst6[i] = b[a + 16 + i]; }
    p.sport = (b[a + 32] << 8) | b[a + 33];
    p.dport = (b[a + 34] << 8) | b[a + 35];
  }
  // TLVs: walk them once to validate lengths, verify CRC32C and find AWS's VPC endpoint id.
  const tlvStart = a + addrLen;
  const end = cut ? off + avail : off + total;
  let crcOk = -1;
  let vpceOff = -1;
  let vpceLen = 0;
  for (let t = tlvStart; t < end; ) {
    if (end - t < 3) { if (cut) break; return PP.BAD_V2; }
    const type = b[t];
    const tlen = (b[t + 1] << 8) | b[t + 2];
    const v = t + 3;
    if (v + tlen > end) { if (cut) break; return PP.BAD_V2; }
    if (type === PP2_TYPE.CRC32C && tlen === 4 && !cut) {
      crcOk = crc32cFieldMatches(b, off, end, v) ? 1 : 0;
    } else if (type === PP2_TYPE.AWS && tlen >= 1 && b[v] === PP2_SUBTYPE_AWS_VPCE_ID) {
      vpceOff = v + 1;
      vpceLen = tlen - 1;
    }
    t = v + tlen;
  }
  p.present = true;
  p.version = 2;
  p.command = command;
  p.family = family;
  p.headerLen = total;
  p.tlvOffset = tlvStart;
  p.tlvLen = end - tlvStart;
  p.crcOk = crcOk;
  p.awsVpceOffset = vpceOff;
  p.awsVpceLen = vpceLen;
  p.buf = b;
  p.reassembled = false;
  p.truncated = cut;
  return total;
}

/** Parse a v1 line ("PROXY TCP4 a b p q\r\n" or "PROXY UNKNOWN...\r\n"); same results as parsePpv2. */
export function parsePpv1(b: Uint8Array, off: number, avail: number, p: Ppv2Record): number {
  if (!prefixMatches(b, off, avail, V1_PREFIX)) return PP.NOT_PROXY;
  const limit = avail < V1_MAX ? avail : V1_MAX;
  let lf = -1;
  for (let i = 1; i < limit; i++) if (b[off + i] === 0x0a) { lf = i; break; }
  if (lf < 0) return avail < V1_MAX ? PP.NEED_MORE : PP.BAD_V1;
  if (b[off + lf - 1] !== 0x0d) return PP.BAD_V1;
  // A v1 line comes once per connection, so building its text here costs nothing measurable.
  const fields = String.fromCharCode(...b.subarray(off + 6, off + lf - 1)).split(' ');
  const total = lf + 1;
  p.src4 = 0; p.dst4 = 0; p.sport = -1; p.dport = -1;
  if (fields[0] === 'UNKNOWN') {
    p.family = 'unspec';
  } else {
    if (fields.length !== 5 || (fields[0] !== 'TCP4' && fields[0] !== 'TCP6')) return PP.BAD_V1;
    const src = parseIp(fields[1]);
    const dst = parseIp(fields[2]);
    const sport = /^\d{1,5}$/.test(fields[3]) ? Number(fields[3]) : -1;
    const dport = /^\d{1,5}$/.test(fields[4]) ? Number(fields[4]) : -1;
    if (src === null || dst === null || sport < 0 || sport > 65535 || dport < 0 || dport > 65535) return PP.BAD_V1;
    if (fields[0] === 'TCP4') {
      if (src.version !== 4 || dst.version !== 4) return PP.BAD_V1;
      p.family = 'inet'; p.src4 = src.u32; p.dst4 = dst.u32;
    } else {
      if (src.version !== 6 || dst.version !== 6) return PP.BAD_V1;
      p.family = 'inet6'; p.src6.set(src.bytes); p.dst6.set(dst.bytes);
    }
    p.sport = sport;
    p.dport = dport;
  }
  p.present = true;
  p.version = 1;
  p.command = 1;
  p.headerLen = total;
  p.tlvOffset = -1;
  p.tlvLen = 0;
  p.crcOk = -1;
  p.awsVpceOffset = -1;
  p.awsVpceLen = 0;
  p.buf = b;
  p.reassembled = false;
  p.truncated = false;
  return total;
}

/** Either version, chosen by the first byte. */
export function parseProxyHeader(b: Uint8Array, off: number, avail: number, p: Ppv2Record, snapCut = false): number {
  if (avail <= 0) return PP.NOT_PROXY;
  const first = b[off];
  if (first === 0x0d) return parsePpv2(b, off, avail, p, snapCut);
  if (first === 0x50) return parsePpv1(b, off, avail, p);
  return PP.NOT_PROXY;
}
