/** UDP: ports and length; VXLAN and Geneve ports hand the payload to the tunnel decoder. */
import { COUNT, DEPTH, setPayloadHash, type DecodeContext } from './context.js';
import { decodeUdpTunnel, isTunnelPort } from './tunnels.js';
import type { L34Fields } from './record.js';

export function decodeUdp(ctx: DecodeContext, off: number, capEnd: number, declEnd: number, f: L34Fields, depth: number): void {
  const b = ctx.bytes;
  const quoted = depth === DEPTH.QUOTED;
  if (capEnd - off < (quoted ? 4 : 8)) { if (!quoted) ctx.fail('truncated-udp'); return; }
  ctx.counts[COUNT.UDP]++;
  f.sport = (b[off] << 8) | b[off + 1];
  f.dport = (b[off + 2] << 8) | b[off + 3];
  if (quoted) return;
  const udpLen = (b[off + 4] << 8) | b[off + 5];
  // A first fragment carries the UDP header of the whole datagram: its length runs past this packet.
  if (udpLen < 8 || (!f.fragment && off + udpLen > declEnd)) { ctx.fail('bad-udp-length'); return; }
  const payloadOff = off + 8;
  const capPayloadEnd = off + udpLen < capEnd ? off + udpLen : capEnd;
  f.payloadOffset = payloadOff;
  f.payloadLen = udpLen - 8;
  f.payloadCaptured = capPayloadEnd > payloadOff ? capPayloadEnd - payloadOff : 0;
  setPayloadHash(f, b, ctx.dv, payloadOff, f.payloadCaptured);
  if (depth === DEPTH.OUTER && isTunnelPort(f.dport)) decodeUdpTunnel(ctx, f.dport, payloadOff, capPayloadEnd);
}
