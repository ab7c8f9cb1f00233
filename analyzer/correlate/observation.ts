/**
 * What the correlator reads about one packet at one point. One instance is reused for every packet
 * (the decoder callback or the time-ordered merge refills it), so the hot loop allocates nothing;
 * the only strings made are for the rare packets that carry a PROXY header or an X-Forwarded-For.
 *
 * For a tunnelled packet (VXLAN, Geneve, IP-in-IP) the fields describe the INNER packet, the one
 * that is the same at every point; the outer addresses go to `outer*`.
 */
import type { L34Fields, PacketRecord } from '../decode/record.js';
import { L3, PROTO } from '../decode/record.js';
import { fnv1a } from './hash-table.js';

/** How many application bytes (after any PROXY header) identify a proxied stream. */
export const APP_PREFIX_BYTES = 64;

export class Observation {
  point = 0;
  /** 1-based packet number in the point's capture file. */
  n = 0;
  /** Seconds since the epoch (float; sub-microsecond precision is not needed for ordering). */
  time = 0;
  l3 = 0;
  src4 = 0;
  dst4 = 0;
  src6 = new Uint8Array(16);
  dst6 = new Uint8Array(16);
  proto = -1;
  sport = 0;
  dport = 0;
  ipId = 0;
  ttl = 0;
  seq = 0;
  ack = 0;
  tcpFlags = 0;
  tsval = -1;
  payloadLen = 0;
  payloadHash = 0;
  /** Hash and length of the first application bytes after a PROXY header (appLen 0: none here). */
  appHash = 0;
  appLen = 0;
  /** 0: not tunnelled; else the outer packet's addresses (IPv4) and the tunnel kind. */
  tunnelled = 0;
  tunnel: string | null = null;
  outerSrc4 = 0;
  outerDst4 = 0;
  outerTtl = 0;
  /** PROXY protocol header at the start of this segment's payload. */
  ppv2 = false;
  ppv2Command = 0;
  ppv2Version = 0;
  ppv2Src = '';
  ppv2Dst = '';
  ppv2Sport = 0;
  ppv2Dport = 0;
  /** X-Forwarded-For value of an HTTP request in this segment, or null. */
  xff: string | null = null;

  /** Copy what the correlator needs out of a decoder record (valid only during its callback). */
  fill(rec: PacketRecord, point: number): this {
    this.point = point;
    this.n = rec.n;
    this.time = rec.tsSec + rec.tsNsec / 1e9;
    const tunnelled = rec.tunnel !== null && rec.inner.l3 !== L3.NONE;
    const l: L34Fields = tunnelled ? rec.inner : rec;
    this.tunnelled = tunnelled ? 1 : 0;
    this.tunnel = tunnelled ? rec.tunnel : null;
    this.outerSrc4 = tunnelled ? rec.src4 : 0;
    this.outerDst4 = tunnelled ? rec.dst4 : 0;
    this.outerTtl = tunnelled ? rec.ttl : 0;
    this.l3 = l.l3;
    this.src4 = l.src4;
    this.dst4 = l.dst4;
    if (l.l3 === L3.IPV6) {
      this.src6.set(l.src6);
      this.dst6.set(l.dst6);
    }
    this.proto = l.proto;
    this.sport = l.sport;
    this.dport = l.dport;
    this.ipId = l.ipId;
    this.ttl = l.ttl;
    this.seq = l.seq;
    this.ack = l.ack;
    this.tcpFlags = l.tcpFlags;
    this.tsval = l.tsval;
    this.payloadLen = l.payloadLen;
    this.payloadHash = l.payloadHash;
    const pp = rec.ppv2;
    this.ppv2 = pp.present && l.proto === PROTO.TCP;
    let appOff = l.payloadOffset;
    let appLen = l.payloadCaptured;
    if (this.ppv2) {
      this.ppv2Version = pp.version;
      this.ppv2Command = pp.command;
      this.ppv2Sport = pp.sport;
      this.ppv2Dport = pp.dport;
      if (pp.family === 'inet') {
        this.ppv2Src = ipv4ToString(pp.src4);
        this.ppv2Dst = ipv4ToString(pp.dst4);
      } else if (pp.family === 'inet6') {
        this.ppv2Src = ipv6ToString(pp.src6);
        this.ppv2Dst = ipv6ToString(pp.dst6);
      } else {
        this.ppv2Src = '';
        this.ppv2Dst = '';
      }
      // A header reassembled from earlier segments ends somewhere before this one: its application bytes come later.
      if (pp.reassembled) appLen = 0;
      appOff += pp.headerLen;
      appLen -= pp.headerLen;
    }
    this.appLen = appLen > 0 && appOff >= 0 && appOff + Math.min(appLen, APP_PREFIX_BYTES) <= rec.bytes.length ? appLen : 0;
    this.appHash = this.appLen > 0 ? fnv1a(rec.bytes, appOff, Math.min(this.appLen, APP_PREFIX_BYTES)) : 0;
    const h = rec.http;
    this.xff = h.present && h.isRequest && h.xffOff >= 0 && h.xffLen > 0
      ? Buffer.from(rec.bytes.buffer, rec.bytes.byteOffset + h.xffOff, h.xffLen).toString('latin1')
      : null;
    return this;
  }
}

export function ipv4ToString(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function ipv6ToString(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 asks.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function parseIpv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** "ip:port", with brackets for IPv6. */
export function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
