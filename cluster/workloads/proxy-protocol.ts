/**
 * Reading a PROXY protocol header (v2 binary, or v1 text) at the start of a TCP stream, as Apache's
 * RemoteIPProxyProtocol does in the write-up's `gasida/httpd:pp`. Pure: bytes in, header out.
 */

import { PPV2_SIGNATURE as SIGNATURE } from '../../analyzer/decode/proxy-protocol.js';

/** The 12-byte PPv2 signature (the decoder's constant, as a Buffer). */
export const PPV2_SIGNATURE = Buffer.from(SIGNATURE);

export interface ProxyHeader {
  version: 1 | 2;
  /** LOCAL (health checks: no addresses) or PROXY (a relayed connection). */
  command: 'LOCAL' | 'PROXY';
  family: 'inet' | 'inet6' | 'unix' | 'unspec';
  src: string | null;
  dst: string | null;
  sport: number | null;
  dport: number | null;
  tlvs: { type: number; length: number; value: string }[];
  /** Bytes the header used; the application's stream starts after them. */
  length: number;
}

export type ProxyParse = { kind: 'header'; header: ProxyHeader } | { kind: 'need-more' } | { kind: 'none' } | { kind: 'malformed'; reason: string };

function ipv6(buf: Buffer, off: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(buf.readUInt16BE(off + i).toString(16));
  return parts.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

function parseV2(buf: Buffer): ProxyParse {
  if (buf.length < 16) return { kind: 'need-more' };
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return { kind: 'malformed', reason: `PPv2 version nibble ${verCmd >> 4} at byte 12` };
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return { kind: 'malformed', reason: `PPv2 command ${cmd} at byte 12` };
  const famProto = buf[13]!;
  const len = buf.readUInt16BE(14);
  if (buf.length < 16 + len) return { kind: 'need-more' };
  const fam = famProto >> 4;
  const header: ProxyHeader = {
    version: 2,
    command: cmd === 0 ? 'LOCAL' : 'PROXY',
    family: fam === 1 ? 'inet' : fam === 2 ? 'inet6' : fam === 3 ? 'unix' : 'unspec',
    src: null,
    dst: null,
    sport: null,
    dport: null,
    tlvs: [],
    length: 16 + len,
  };
  let tlvStart = 16;
  if (fam === 1 && len >= 12) {
    header.src = Array.from(buf.subarray(16, 20)).join('.');
    header.dst = Array.from(buf.subarray(20, 24)).join('.');
    header.sport = buf.readUInt16BE(24);
    header.dport = buf.readUInt16BE(26);
    tlvStart = 28;
  } else if (fam === 2 && len >= 36) {
    header.src = ipv6(buf, 16);
    header.dst = ipv6(buf, 32);
    header.sport = buf.readUInt16BE(48);
    header.dport = buf.readUInt16BE(50);
    tlvStart = 52;
  } else if (fam === 3) {
    tlvStart = 16 + Math.min(len, 216);
  }
  let off = tlvStart;
  while (off + 3 <= 16 + len) {
    const type = buf[off]!;
    const tlen = buf.readUInt16BE(off + 1);
    if (off + 3 + tlen > 16 + len) return { kind: 'malformed', reason: `PPv2 TLV at byte ${off} runs past the header` };
    header.tlvs.push({ type, length: tlen, value: buf.subarray(off + 3, off + 3 + tlen).toString('hex') });
    off += 3 + tlen;
  }
  if (cmd === 0) {
    // LOCAL: the addresses (if any) are the proxy's own, not a client's.
    header.src = header.dst = null;
    header.sport = header.dport = null;
  }
  return { kind: 'header', header };
}

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.indexOf('\r\n');
  if (end < 0) return buf.length >= 107 ? { kind: 'malformed', reason: 'PROXY v1 line longer than 107 bytes' } : { kind: 'need-more' };
  const fields = buf.subarray(0, end).toString('latin1').split(' ');
  const length = end + 2;
  if (fields[1] === 'UNKNOWN') {
    return { kind: 'header', header: { version: 1, command: 'LOCAL', family: 'unspec', src: null, dst: null, sport: null, dport: null, tlvs: [], length } };
  }
  if (fields.length !== 6 || (fields[1] !== 'TCP4' && fields[1] !== 'TCP6')) {
    return { kind: 'malformed', reason: `PROXY v1 line '${fields.join(' ').slice(0, 60)}' is not 'PROXY TCP4|TCP6 SRC DST SPORT DPORT'` };
  }
  return {
    kind: 'header',
    header: {
      version: 1,
      command: 'PROXY',
      family: fields[1] === 'TCP4' ? 'inet' : 'inet6',
      src: fields[2]!,
      dst: fields[3]!,
      sport: Number(fields[4]),
      dport: Number(fields[5]),
      tlvs: [],
      length,
    },
  };
}

/** Look for a PROXY header at the start of `buf` (the first bytes received on a connection). */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  const sigLen = Math.min(buf.length, PPV2_SIGNATURE.length);
  if (buf.subarray(0, sigLen).equals(PPV2_SIGNATURE.subarray(0, sigLen))) {
    return sigLen < PPV2_SIGNATURE.length ? { kind: 'need-more' } : parseV2(buf);
  }
  const v1 = Buffer.from('PROXY ');
  const v1Len = Math.min(buf.length, v1.length);
  if (buf.subarray(0, v1Len).equals(v1.subarray(0, v1Len))) return v1Len < v1.length ? { kind: 'need-more' } : parseV1(buf);
  return { kind: 'none' };
}
