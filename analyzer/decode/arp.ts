/** ARP for IPv4 over Ethernet: opcode, sender and target protocol addresses (into src4/dst4). */
import { COUNT, type DecodeContext } from './context.js';
import { L3, type L34Fields } from './record.js';

export function decodeArp(ctx: DecodeContext, off: number, end: number, f: L34Fields): void {
  const b = ctx.bytes;
  f.l3 = L3.ARP;
  ctx.counts[COUNT.ARP]++;
  if (end - off < 8) { ctx.fail('truncated-arp'); return; }
  const hlen = b[off + 4];
  const plen = b[off + 5];
  ctx.rec.arpOp = (b[off + 6] << 8) | b[off + 7];
  // Only IPv4-over-anything has addresses the rest of netlab understands.
  if (plen !== 4 || ((b[off + 2] << 8) | b[off + 3]) !== 0x0800) return;
  if (end - off < 8 + 2 * hlen + 8) { ctx.fail('truncated-arp'); return; }
  f.src4 = ctx.dv.getUint32(off + 8 + hlen);
  f.dst4 = ctx.dv.getUint32(off + 8 + 2 * hlen + 4);
}
