/** ICMP and ICMPv6: type and code; error messages quote the original packet's header, decoded into `rec.quoted`. */
import { COUNT, DEPTH, setPayloadHash, type DecodeContext } from './context.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { PROTO, type L34Fields } from './record.js';

function isError(proto: number, type: number): boolean {
  if (proto === PROTO.ICMP) return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
  return type >= 1 && type <= 4;
}

export function decodeIcmp(ctx: DecodeContext, proto: number, off: number, capEnd: number, declEnd: number, f: L34Fields, depth: number): void {
  const b = ctx.bytes;
  const quoted = depth === DEPTH.QUOTED;
  if (capEnd - off < (quoted ? 2 : 8)) { if (!quoted) ctx.fail(proto === PROTO.ICMP ? 'truncated-icmp' : 'truncated-icmpv6'); return; }
  ctx.counts[proto === PROTO.ICMP ? COUNT.ICMP : COUNT.ICMPV6]++;
  f.icmpType = b[off];
  f.icmpCode = b[off + 1];
  if (quoted) return;
  f.payloadOffset = off + 8;
  f.payloadLen = declEnd - off - 8;
  f.payloadCaptured = capEnd - off - 8;
  setPayloadHash(f, b, ctx.dv, off + 8, f.payloadCaptured);
  if (depth !== DEPTH.OUTER || !isError(proto, f.icmpType)) return;
  ctx.quotedDirty = true;
  if (proto === PROTO.ICMP) decodeIpv4(ctx, off + 8, capEnd, ctx.rec.quoted, DEPTH.QUOTED);
  else decodeIpv6(ctx, off + 8, capEnd, ctx.rec.quoted, DEPTH.QUOTED);
}
