/**
 * Link layers: each strips its header and hands the network packet to IPv4, IPv6 or ARP.
 * Numbers are LINKTYPE_* values from the pcap/pcapng registry.
 */
import { COUNT, DEPTH, type DecodeContext } from './context.js';
import { decodeArp } from './arp.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { L3, type L34Fields } from './record.js';

export const LINKTYPE = {
  NULL: 0, ETHERNET: 1, RAW_12: 12, RAW_14: 14, RAW: 101, LOOP: 108, LINUX_SLL: 113, IPV4: 228, IPV6: 229,
  NFLOG: 239, LINUX_SLL2: 276,
} as const;

const NAMES: Record<number, string> = {
  0: 'NULL', 1: 'ETHERNET', 12: 'RAW', 14: 'RAW', 101: 'RAW', 108: 'LOOP', 113: 'LINUX_SLL', 228: 'IPV4',
  229: 'IPV6', 239: 'NFLOG', 276: 'LINUX_SLL2',
};

export function linktypeName(linktype: number): string {
  return NAMES[linktype] ?? `LINKTYPE_${linktype}`;
}

export const ETHERTYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, QINQ: 0x88a8, QINQ_OLD: 0x9100, IPV6: 0x86dd, TEB: 0x6558 } as const;

/** Decode one captured frame of `linktype` spanning [off, end) of ctx.bytes into ctx.rec. */
export function decodeLink(ctx: DecodeContext, linktype: number, off: number, end: number): void {
  const b = ctx.bytes;
  const rec = ctx.rec;
  switch (linktype) {
    case LINKTYPE.ETHERNET:
      decodeEthernet(ctx, off, end, rec, DEPTH.OUTER);
      return;
    case LINKTYPE.RAW: case LINKTYPE.RAW_12: case LINKTYPE.RAW_14:
      decodeRawIp(ctx, off, end, rec, DEPTH.OUTER);
      return;
    case LINKTYPE.IPV4:
      decodeIpv4(ctx, off, end, rec, DEPTH.OUTER);
      return;
    case LINKTYPE.IPV6:
      decodeIpv6(ctx, off, end, rec, DEPTH.OUTER);
      return;
    case LINKTYPE.LINUX_SLL: {
      if (end - off < 16) { ctx.fail('truncated-link'); return; }
      rec.pktType = (b[off] << 8) | b[off + 1];
      decodeEthertype(ctx, (b[off + 14] << 8) | b[off + 15], off + 16, end, rec, DEPTH.OUTER);
      return;
    }
    case LINKTYPE.LINUX_SLL2: {
      if (end - off < 20) { ctx.fail('truncated-link'); return; }
      rec.ifindex = ctx.dv.getUint32(off + 4);
      rec.pktType = b[off + 10];
      decodeEthertype(ctx, (b[off] << 8) | b[off + 1], off + 20, end, rec, DEPTH.OUTER);
      return;
    }
    case LINKTYPE.NULL: case LINKTYPE.LOOP: {
      if (end - off < 4) { ctx.fail('truncated-link'); return; }
      // NULL stores the family in the writer's byte order; LOOP in network order.
      let family = linktype === LINKTYPE.LOOP ? ctx.dv.getUint32(off) : ctx.dv.getUint32(off, ctx.littleEndian);
      if (family > 0xffff) family = ((family >>> 24) | ((family >>> 8) & 0xff00)) >>> 0;
      if (family === 2) decodeIpv4(ctx, off + 4, end, rec, DEPTH.OUTER);
      else if (family === 10 || family === 24 || family === 28 || family === 30) decodeIpv6(ctx, off + 4, end, rec, DEPTH.OUTER);
      else otherL3(ctx, rec);
      return;
    }
    case LINKTYPE.NFLOG:
      decodeNflog(ctx, off, end);
      return;
    default:
      otherL3(ctx, rec);
  }
}

function otherL3(ctx: DecodeContext, f: L34Fields): void {
  f.l3 = L3.OTHER;
  ctx.counts[COUNT.OTHER_L3]++;
}

/** Ethernet II with any number of 802.1Q / 802.1ad tags; the outermost VLAN id is kept. */
export function decodeEthernet(ctx: DecodeContext, off: number, end: number, f: L34Fields, depth: number): void {
  const b = ctx.bytes;
  if (end - off < 14) { ctx.fail('truncated-link'); return; }
  ctx.counts[COUNT.ETHERNET]++;
  let type = (b[off + 12] << 8) | b[off + 13];
  let p = off + 14;
  while (type === ETHERTYPE.VLAN || type === ETHERTYPE.QINQ || type === ETHERTYPE.QINQ_OLD) {
    if (end - p < 4) { ctx.fail('truncated-vlan'); return; }
    if (depth === DEPTH.OUTER && ctx.rec.vlan < 0) ctx.rec.vlan = ((b[p] << 8) | b[p + 1]) & 0x0fff;
    ctx.counts[COUNT.VLAN]++;
    type = (b[p + 2] << 8) | b[p + 3];
    p += 4;
  }
  if (type === ETHERTYPE.IPV4) decodeIpv4(ctx, p, end, f, depth);
  else decodeEthertype(ctx, type, p, end, f, depth);
}

export function decodeEthertype(ctx: DecodeContext, type: number, off: number, end: number, f: L34Fields, depth: number): void {
  if (type === ETHERTYPE.IPV4) decodeIpv4(ctx, off, end, f, depth);
  else if (type === ETHERTYPE.IPV6) decodeIpv6(ctx, off, end, f, depth);
  else if (type === ETHERTYPE.ARP) decodeArp(ctx, off, end, f);
  else otherL3(ctx, f);
}

/** A bare IP packet: the version nibble says which. */
export function decodeRawIp(ctx: DecodeContext, off: number, end: number, f: L34Fields, depth: number): void {
  if (end - off < 1) { ctx.fail('truncated-ip'); return; }
  const version = ctx.bytes[off] >> 4;
  if (version === 4) decodeIpv4(ctx, off, end, f, depth);
  else if (version === 6) decodeIpv6(ctx, off, end, f, depth);
  else { ctx.fail('bad-ip-version'); otherL3(ctx, f); }
}

const NFULA_PAYLOAD = 9;

/** NFLOG: a 4-byte header, then TLVs (length and type in the file's byte order), padded to 4. */
function decodeNflog(ctx: DecodeContext, off: number, end: number): void {
  const b = ctx.bytes;
  const le = ctx.littleEndian;
  if (end - off < 4) { ctx.fail('truncated-link'); return; }
  const family = b[off];
  let p = off + 4;
  while (end - p >= 4) {
    const len = ctx.dv.getUint16(p, le);
    const type = ctx.dv.getUint16(p + 2, le) & 0x7fff;
    if (len < 4) { ctx.fail('bad-nflog-tlv'); return; }
    if (type === NFULA_PAYLOAD) {
      // The snap length may cut the payload TLV; decode what was captured.
      const payloadEnd = p + len < end ? p + len : end;
      if (family === 2) decodeIpv4(ctx, p + 4, payloadEnd, ctx.rec, DEPTH.OUTER);
      else if (family === 10) decodeIpv6(ctx, p + 4, payloadEnd, ctx.rec, DEPTH.OUTER);
      else otherL3(ctx, ctx.rec);
      return;
    }
    if (p + len > end) { ctx.fail('truncated-link'); return; }
    p += (len + 3) & ~3;
  }
  otherL3(ctx, ctx.rec);
}
