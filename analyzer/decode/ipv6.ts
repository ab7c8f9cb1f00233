/** IPv6: fixed header, then the extension-header chain walked to the upper-layer protocol. */
import { COUNT, DEPTH, type DecodeContext } from './context.js';
import { dispatchIpPayload } from './ip-payload.js';
import { L3, type L34Fields } from './record.js';

const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AH = 51;
const DEST_OPTS = 60;
const MOBILITY = 135;
/** More extension headers than this is not a packet any stack sends; stop walking. */
const MAX_EXT_HEADERS = 16;

export function decodeIpv6(ctx: DecodeContext, off: number, end: number, f: L34Fields, depth: number): void {
  const b = ctx.bytes;
  const dv = ctx.dv;
  const quoted = depth === DEPTH.QUOTED;
  if (end - off < 40) { if (!quoted) ctx.fail('truncated-ipv6'); return; }
  if (b[off] >> 4 !== 6) { ctx.fail('bad-ipv6-header'); return; }
  f.l3 = L3.IPV6;
  ctx.counts[COUNT.IPV6]++;
  f.flowLabel = dv.getUint32(off) & 0xfffff;
  const payloadLen = (b[off + 4] << 8) | b[off + 5];
  let next = b[off + 6];
  f.ttl = b[off + 7];
  // f is the record at `depth`: these views write its src6/dst6.
  const s = ctx.src6Views[depth];
  const d = ctx.dst6Views[depth];
  s.setUint32(0, dv.getUint32(off + 8)); s.setUint32(4, dv.getUint32(off + 12));
  s.setUint32(8, dv.getUint32(off + 16)); s.setUint32(12, dv.getUint32(off + 20));
  d.setUint32(0, dv.getUint32(off + 24)); d.setUint32(4, dv.getUint32(off + 28));
  d.setUint32(8, dv.getUint32(off + 32)); d.setUint32(12, dv.getUint32(off + 36));
  const declEnd = off + 40 + payloadLen;
  const capEnd = declEnd < end ? declEnd : end;
  let p = off + 40;
  for (let n = 0; n < MAX_EXT_HEADERS; n++) {
    if (next !== HOP_BY_HOP && next !== ROUTING && next !== FRAGMENT && next !== AH && next !== DEST_OPTS && next !== MOBILITY) break;
    if (capEnd - p < 8) { f.proto = next; if (!quoted) ctx.fail('truncated-ipv6-ext'); return; }
    const hdrNext = b[p];
    if (next === FRAGMENT) {
      const fragField = (b[p + 2] << 8) | b[p + 3];
      f.fragment = true;
      f.ipId = dv.getUint32(p + 4);
      ctx.counts[COUNT.FRAGMENT]++;
      if (fragField >> 3 !== 0) { f.proto = hdrNext; return; }
      p += 8;
    } else if (next === AH) {
      p += (b[p + 1] + 2) << 2;
    } else {
      p += (b[p + 1] + 1) << 3;
    }
    next = hdrNext;
  }
  f.proto = next;
  if (p > capEnd) { if (!quoted) ctx.fail('truncated-ipv6-ext'); return; }
  dispatchIpPayload(ctx, next, p, capEnd, declEnd, f, depth);
}
