/** The step from an IP header to what it carries: chosen from the protocol number. */
import { COUNT, type DecodeContext } from './context.js';
import { decodeIcmp } from './icmp.js';
import { decodeTcp } from './tcp.js';
import { decodeIpInIp } from './tunnels.js';
import { decodeUdp } from './udp.js';
import { PROTO, type L34Fields } from './record.js';

/**
 * [off, capEnd) is what was captured of the IP payload; declEnd is where the IP header says it ends
 * (beyond capEnd when the snap length cut the packet).
 */
export function dispatchIpPayload(ctx: DecodeContext, proto: number, off: number, capEnd: number, declEnd: number, f: L34Fields, depth: number): void {
  switch (proto) {
    case PROTO.TCP: decodeTcp(ctx, off, capEnd, declEnd, f, depth); return;
    case PROTO.UDP: decodeUdp(ctx, off, capEnd, declEnd, f, depth); return;
    case PROTO.ICMP: case PROTO.ICMPV6: decodeIcmp(ctx, proto, off, capEnd, declEnd, f, depth); return;
    case 4: case 41: decodeIpInIp(ctx, proto, off, capEnd, f, depth); return;
    default: ctx.counts[COUNT.OTHER_L4]++;
  }
}
