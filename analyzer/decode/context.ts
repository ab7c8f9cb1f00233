/**
 * The state every protocol decoder shares while one packet is decoded: the current buffer (as bytes
 * and as one DataView), the one record being refilled, and the per-protocol counters. Protocol
 * files are plain functions over this context, so the hot loop allocates nothing.
 */
import { L3, PROTO, type HttpRecord, type L34Fields, type PacketRecord, type Ppv2Record } from './record.js';
import type { FlowReassembly } from './reassembly.js';

/** Indexes into `DecodeContext.counts`; the summary names them (see summary.ts). */
export const COUNT = {
  ETHERNET: 0, VLAN: 1, IPV4: 2, IPV6: 3, ARP: 4, OTHER_L3: 5, TCP: 6, UDP: 7, ICMP: 8, ICMPV6: 9,
  OTHER_L4: 10, FRAGMENT: 11, VXLAN: 12, GENEVE: 13, IPIP: 14, PPV1: 15, PPV2: 16, HTTP: 17,
} as const;
export const COUNT_NAMES = [
  'ethernet', 'vlan', 'ipv4', 'ipv6', 'arp', 'other-l3', 'tcp', 'udp', 'icmp', 'icmpv6',
  'other-l4', 'ip-fragment', 'vxlan', 'geneve', 'ipip', 'proxy-v1', 'proxy-v2', 'http',
] as const;

/** How deep a decoder is: the capture's own packet, a tunnel's inner packet, or an ICMP error's quote. */
export const DEPTH = { OUTER: 0, INNER: 1, QUOTED: 2 } as const;

export class DecodeContext {
  bytes: Uint8Array = new Uint8Array(0);
  dv: DataView = new DataView(new ArrayBuffer(0));
  /** Container byte order; NFLOG and NULL link headers follow it. */
  littleEndian = true;
  readonly rec: PacketRecord = newPacketRecord();
  readonly counts = new Float64Array(COUNT_NAMES.length);
  /** Whether `rec.inner` / `rec.quoted` were written by the previous packet and need a reset. */
  innerDirty = false;
  quotedDirty = false;
  /**
   * Views over `src6`/`dst6` of the record, its inner and its quoted fields, indexed by DEPTH, so
   * an IPv6 address is copied as four 32-bit words instead of sixteen bytes.
   */
  readonly src6Views: DataView[];
  readonly dst6Views: DataView[];

  constructor(readonly reasm: FlowReassembly | null) {
    const depths = [this.rec, this.rec.inner, this.rec.quoted];
    this.src6Views = depths.map((f) => new DataView(f.src6.buffer, f.src6.byteOffset, 16));
    this.dst6Views = depths.map((f) => new DataView(f.dst6.buffer, f.dst6.byteOffset, 16));
  }

  /** Records the first malformation of this packet. */
  fail(reason: string): void {
    if (this.rec.error === null) this.rec.error = reason;
  }

  setBuffer(bytes: Uint8Array, dv: DataView): void {
    this.bytes = bytes;
    this.dv = dv;
  }
}

/**
 * Fields that hold unsigned 32-bit numbers (addresses, sequence numbers, timestamps, hashes, offsets)
 * start as a non-integer so V8 gives them a double representation from the first object on: a value
 * above 2^31 is then written in place, where a field that had seen only small integers would box
 * it in a fresh heap number at every store. The constructors reset them right away.
 */
const WIDE = 0.5;

export function newL34(): L34Fields {
  const f: L34Fields = {
    l3: L3.NONE, src4: WIDE, dst4: WIDE, src6: new Uint8Array(16), dst6: new Uint8Array(16), proto: PROTO.NONE,
    sport: -1, dport: -1, ipId: WIDE, ttl: -1, fragment: false, seq: WIDE, ack: WIDE, tcpFlags: -1, window: -1,
    mss: -1, wscale: -1, tsval: WIDE, tsecr: WIDE, payloadOffset: -1, payloadLen: -1, payloadCaptured: 0,
    payloadHash: WIDE, flowLabel: -1, icmpType: -1, icmpCode: -1,
  };
  resetL34(f);
  return f;
}

export function resetL34(f: L34Fields): void {
  f.l3 = L3.NONE; f.src4 = 0; f.dst4 = 0; f.proto = PROTO.NONE; f.sport = -1; f.dport = -1; f.ipId = -1;
  f.ttl = -1; f.fragment = false; f.seq = -1; f.ack = -1; f.tcpFlags = -1; f.window = -1; f.mss = -1;
  f.wscale = -1; f.tsval = -1; f.tsecr = -1; f.payloadOffset = -1; f.payloadLen = -1; f.payloadCaptured = 0;
  f.payloadHash = 0; f.flowLabel = -1; f.icmpType = -1; f.icmpCode = -1;
}

/**
 * resetL34 for the outer record, kept separate so its stores see one object shape (the packet
 * record) instead of two: measurably cheaper on every packet.
 */
export function resetPacketRecord(f: PacketRecord): void {
  f.l3 = L3.NONE; f.src4 = 0; f.dst4 = 0; f.proto = PROTO.NONE; f.sport = -1; f.dport = -1; f.ipId = -1;
  f.ttl = -1; f.fragment = false; f.seq = -1; f.ack = -1; f.tcpFlags = -1; f.window = -1; f.mss = -1;
  f.wscale = -1; f.tsval = -1; f.tsecr = -1; f.payloadOffset = -1; f.payloadLen = -1; f.payloadCaptured = 0;
  f.payloadHash = 0; f.flowLabel = -1; f.icmpType = -1; f.icmpCode = -1;
  f.ifindex = -1; f.pktType = -1; f.arpOp = -1; f.vlan = -1; f.tunnel = null; f.vni = -1;
  f.ppv2.present = false; f.http.present = false;
}

function newPpv2(): Ppv2Record {
  const p: Ppv2Record = {
    present: false, version: 0, command: 0, family: 'unspec', src4: WIDE, dst4: WIDE, src6: new Uint8Array(16),
    dst6: new Uint8Array(16), sport: -1, dport: -1, headerLen: 0, tlvOffset: -1, tlvLen: 0, crcOk: -1,
    awsVpceOffset: -1, awsVpceLen: 0, buf: new Uint8Array(0), reassembled: false, truncated: false,
  };
  p.src4 = 0;
  p.dst4 = 0;
  return p;
}

function newHttp(): HttpRecord {
  return {
    present: false, isRequest: false, methodOff: -1, methodLen: 0, pathOff: -1, pathLen: 0, status: -1,
    hostOff: -1, hostLen: 0, xffOff: -1, xffLen: 0, xRealIpOff: -1, xRealIpLen: 0, clientAddrOff: -1, clientAddrLen: 0,
  };
}

export function newPacketRecord(): PacketRecord {
  // One literal (not a spread of newL34()) so every field lives inside the object.
  const r: PacketRecord = {
    l3: L3.NONE, src4: WIDE, dst4: WIDE, src6: new Uint8Array(16), dst6: new Uint8Array(16), proto: PROTO.NONE,
    sport: -1, dport: -1, ipId: WIDE, ttl: -1, fragment: false, seq: WIDE, ack: WIDE, tcpFlags: -1, window: -1,
    mss: -1, wscale: -1, tsval: WIDE, tsecr: WIDE, payloadOffset: -1, payloadLen: -1, payloadCaptured: 0,
    payloadHash: WIDE, flowLabel: -1, icmpType: -1, icmpCode: -1,
    n: 0, tsSec: WIDE, tsNsec: 0, linktype: -1, interfaceId: 0, ifindex: -1, pktType: -1, caplen: 0, origLen: 0,
    fileOffset: WIDE, bytes: new Uint8Array(0), arpOp: -1, vlan: -1, tunnel: null, vni: -1, inner: newL34(),
    quoted: newL34(), ppv2: newPpv2(), http: newHttp(), error: null,
  };
  resetPacketRecord(r);
  r.tsSec = 0;
  r.fileOffset = 0;
  return r;
}

/**
 * Sets `f.payloadHash`: FNV-1a over the first 32 captured payload bytes, taken four at a time (as
 * big-endian words), a cheap, NAT-invariant fingerprint of the payload. It stores rather than
 * returns the hash: a returned 32-bit value above 2^30 is boxed in a fresh heap number on every call.
 */
export function setPayloadHash(f: L34Fields, b: Uint8Array, dv: DataView, off: number, len: number): void {
  // Most payloads have 32 bytes or more: eight straight-line steps, no loop bookkeeping.
  if (len >= 32) {
    let h = Math.imul(0x811c9dc5 ^ dv.getInt32(off), 0x01000193);
    h = Math.imul(h ^ dv.getInt32(off + 4), 0x01000193);
    h = Math.imul(h ^ dv.getInt32(off + 8), 0x01000193);
    h = Math.imul(h ^ dv.getInt32(off + 12), 0x01000193);
    h = Math.imul(h ^ dv.getInt32(off + 16), 0x01000193);
    h = Math.imul(h ^ dv.getInt32(off + 20), 0x01000193);
    h = Math.imul(h ^ dv.getInt32(off + 24), 0x01000193);
    h = Math.imul(h ^ dv.getInt32(off + 28), 0x01000193);
    f.payloadHash = h >>> 0;
    return;
  }
  const n = len;
  const words = off + (n & ~3);
  let h = 0x811c9dc5;
  let i = off;
  for (; i < words; i += 4) h = Math.imul(h ^ dv.getInt32(i), 0x01000193);
  for (const end = off + n; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  f.payloadHash = h >>> 0;
}
