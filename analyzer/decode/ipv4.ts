/** IPv4: header, options skipped by IHL, fragments flagged (only the first carries L4). */
import { COUNT, DEPTH, type DecodeContext } from './context.js';
import { dispatchIpPayload } from './ip-payload.js';
import { decodeTcp } from './tcp.js';
import { L3, PROTO, type L34Fields } from './record.js';

export function decodeIpv4(ctx: DecodeContext, off: number, end: number, f: L34Fields, depth: number): void {
  const b = ctx.bytes;
  const dv = ctx.dv;
  const quoted = depth === DEPTH.QUOTED;
  if (end - off < 20) { if (!quoted) ctx.fail('truncated-ipv4'); return; }
  const vihl = b[off];
  const ihl = (vihl & 0x0f) << 2;
  if (vihl >> 4 !== 4 || ihl < 20) { ctx.fail('bad-ipv4-header'); return; }
  f.l3 = L3.IPV4;
  ctx.counts[COUNT.IPV4]++;
  const totalLen = (b[off + 2] << 8) | b[off + 3];
  f.ipId = (b[off + 4] << 8) | b[off + 5];
  const fragField = (b[off + 6] << 8) | b[off + 7];
  f.ttl = b[off + 8];
  f.proto = b[off + 9];
  f.src4 = dv.getUint32(off + 12);
  f.dst4 = dv.getUint32(off + 16);
  const fragOffset = fragField & 0x1fff;
  f.fragment = (fragField & 0x2000) !== 0 || fragOffset !== 0;
  if (f.fragment) ctx.counts[COUNT.FRAGMENT]++;
  if (end - off < ihl) { if (!quoted) ctx.fail('truncated-ipv4'); return; }
  if (totalLen < ihl) { if (!quoted) ctx.fail('bad-ipv4-length'); return; }
  const declEnd = off + totalLen;
  // Ethernet pads short frames: the IP length, not the frame, says where the packet ends.
  const capEnd = declEnd < end ? declEnd : end;
  if (fragOffset !== 0) return;
  // TCP straight away: the common case skips the dispatch call.
  if (f.proto === PROTO.TCP) decodeTcp(ctx, off + ihl, capEnd, declEnd, f, depth);
  else dispatchIpPayload(ctx, f.proto, off + ihl, capEnd, declEnd, f, depth);
}
