/**
 * Tunnels: VXLAN (IANA 4789 and Linux's default 8472), Geneve (6081), IP-in-IP (protocol 4 and 41).
 * The outer packet stays in the record; the inner one is decoded into `rec.inner`. One level only.
 */
import { COUNT, DEPTH, type DecodeContext } from './context.js';
import { decodeEthernet, decodeEthertype, ETHERTYPE } from './linktypes.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import type { L34Fields } from './record.js';

export const VXLAN_PORT = 4789;
export const VXLAN_LINUX_PORT = 8472;
export const GENEVE_PORT = 6081;

export function isTunnelPort(port: number): boolean {
  return port === VXLAN_PORT || port === VXLAN_LINUX_PORT || port === GENEVE_PORT;
}

export function decodeUdpTunnel(ctx: DecodeContext, port: number, off: number, end: number): void {
  const b = ctx.bytes;
  const rec = ctx.rec;
  if (end - off < 8) { ctx.fail('truncated-tunnel'); return; }
  if (port === GENEVE_PORT) {
    if (b[off] >> 6 !== 0) return;
    const optLen = (b[off] & 0x3f) << 2;
    const protoType = (b[off + 2] << 8) | b[off + 3];
    rec.tunnel = 'geneve';
    rec.vni = (b[off + 4] << 16) | (b[off + 5] << 8) | b[off + 6];
    ctx.counts[COUNT.GENEVE]++;
    const inner = off + 8 + optLen;
    if (inner > end) { ctx.fail('truncated-tunnel'); return; }
    ctx.innerDirty = true;
    if (protoType === ETHERTYPE.TEB) decodeEthernet(ctx, inner, end, rec.inner, DEPTH.INNER);
    else decodeEthertype(ctx, protoType, inner, end, rec.inner, DEPTH.INNER);
    return;
  }
  // VXLAN: the I flag says the VNI is valid; without it this is not VXLAN traffic.
  if ((b[off] & 0x08) === 0) return;
  rec.tunnel = 'vxlan';
  rec.vni = (b[off + 4] << 16) | (b[off + 5] << 8) | b[off + 6];
  ctx.counts[COUNT.VXLAN]++;
  ctx.innerDirty = true;
  decodeEthernet(ctx, off + 8, end, rec.inner, DEPTH.INNER);
}

export function decodeIpInIp(ctx: DecodeContext, proto: number, off: number, end: number, _f: L34Fields, depth: number): void {
  if (depth !== DEPTH.OUTER) { ctx.counts[COUNT.OTHER_L4]++; return; }
  ctx.rec.tunnel = 'ipip';
  ctx.counts[COUNT.IPIP]++;
  ctx.innerDirty = true;
  if (proto === 4) decodeIpv4(ctx, off, end, ctx.rec.inner, DEPTH.INNER);
  else decodeIpv6(ctx, off, end, ctx.rec.inner, DEPTH.INNER);
}
