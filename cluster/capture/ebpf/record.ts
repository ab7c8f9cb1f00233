/**
 * Probe events → the analyzer's PacketRecord (analyzer/decode/record.ts), so correlation, hops,
 * verdicts and reports treat an eBPF observation like a packet read from a pcap. The record's
 * `bytes` is the synthesised Ethernet frame (frame.ts), the same bytes the pcapng writer stores,
 * so a record read live and one decoded later from the file agree.
 */
import { L3, PROTO, type L34Fields, type PacketRecord } from '../../../analyzer/decode/record.js';
import type { EbpfEvent } from './events.js';
import { MAX_SYNTH_FRAME, synthesizeFrame } from './frame.js';

/** A PacketRecord plus what only the eBPF source knows. */
export interface EbpfPacketRecord extends PacketRecord {
  netnsInode: number;
  /** 0 receive (netif_receive_skb), 1 transmit (net_dev_queue). */
  dir: 0 | 1;
  /** skb address (low 48 bits): the same packet inside one namespace keeps it from device to device. */
  skb: number;
  /** Index into the capture's point list. */
  point: number;
}

function emptyL34(): L34Fields {
  return {
    l3: L3.NONE, src4: 0, dst4: 0, src6: new Uint8Array(16), dst6: new Uint8Array(16),
    proto: PROTO.NONE, sport: 0, dport: 0, ipId: 0, ttl: 0, fragment: false,
    seq: 0, ack: 0, tcpFlags: 0, window: 0, mss: -1, wscale: -1, tsval: -1, tsecr: -1,
    payloadOffset: 0, payloadLen: 0, payloadHash: 0,
  };
}

export function createEbpfRecord(): EbpfPacketRecord {
  return {
    ...emptyL34(),
    n: 0, tsSec: 0, tsNsec: 0, linktype: 1, interfaceId: 0, ifindex: -1, pktType: -1,
    caplen: 0, origLen: 0, fileOffset: -1, bytes: new Uint8Array(MAX_SYNTH_FRAME), arpOp: 0,
    tunnel: null, inner: emptyL34(),
    ppv2: {
      present: false, version: 0, command: 0, family: 'unspec', src4: 0, dst4: 0,
      src6: new Uint8Array(16), dst6: new Uint8Array(16), sport: 0, dport: 0, headerLen: 0,
      tlvOffset: -1, tlvLen: 0, crcOk: -1, awsVpceOffset: -1, awsVpceLen: -1,
    },
    http: {
      present: false, isRequest: false, methodOff: -1, methodLen: -1, pathOff: -1, pathLen: -1, status: 0,
      hostOff: -1, hostLen: -1, xffOff: -1, xffLen: -1, xRealIpOff: -1, xRealIpLen: -1, clientAddrOff: -1, clientAddrLen: -1,
    },
    error: null,
    netnsInode: 0, dir: 0, skb: 0, point: -1,
  };
}

/** FNV-1a 32 over bytes[off, off+len). */
export function fnv1a32(bytes: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + len; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const PPV2_SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A PROXY v2 header at b[off..off+len): fills rec.ppv2 from what was captured. Returns its length or 0. */
function readPpv2(rec: PacketRecord, b: Uint8Array, off: number, len: number): number {
  const p = rec.ppv2;
  p.present = false;
  if (len < 16) return 0;
  for (let i = 0; i < 12; i++) if (b[off + i] !== PPV2_SIG[i]) return 0;
  const verCmd = b[off + 12];
  if (verCmd >> 4 !== 2) return 0;
  p.present = true;
  p.version = 2;
  p.command = verCmd & 0x0f;
  const fam = b[off + 13] >> 4;
  const declared = (b[off + 14] << 8) | b[off + 15];
  p.headerLen = 16 + declared;
  p.crcOk = -1;
  p.awsVpceOffset = -1;
  p.awsVpceLen = -1;
  p.src4 = 0; p.dst4 = 0; p.sport = 0; p.dport = 0;
  let addrLen = 0;
  if (fam === 1) {
    p.family = 'inet';
    addrLen = 12;
    if (len >= 28) {
      const a = off + 16;
      p.src4 = ((b[a] << 24) | (b[a + 1] << 16) | (b[a + 2] << 8) | b[a + 3]) >>> 0;
      p.dst4 = ((b[a + 4] << 24) | (b[a + 5] << 16) | (b[a + 6] << 8) | b[a + 7]) >>> 0;
      p.sport = (b[a + 8] << 8) | b[a + 9];
      p.dport = (b[a + 10] << 8) | b[a + 11];
    }
  } else if (fam === 2) {
    p.family = 'inet6';
    addrLen = 36;
    if (len >= 52) {
      p.src6.set(b.subarray(off + 16, off + 32));
      p.dst6.set(b.subarray(off + 32, off + 48));
      p.sport = (b[off + 48] << 8) | b[off + 49];
      p.dport = (b[off + 50] << 8) | b[off + 51];
    }
  } else if (fam === 3) {
    p.family = 'unix';
    addrLen = 216;
  } else {
    p.family = 'unspec';
  }
  p.tlvOffset = off + 16 + addrLen;
  p.tlvLen = Math.max(0, Math.min(declared - addrLen, len - 16 - addrLen));
  return Math.min(p.headerLen, len);
}

const METHODS = ['GET ', 'POST ', 'PUT ', 'HEAD ', 'DELETE ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'TRACE '];

function startsWith(b: Uint8Array, off: number, len: number, text: string): boolean {
  if (len < text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[off + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** The HTTP request line or status line, as far as it was captured. */
function readHttp(rec: PacketRecord, b: Uint8Array, off: number, len: number): void {
  const h = rec.http;
  h.present = false;
  h.isRequest = false;
  h.methodOff = h.methodLen = h.pathOff = h.pathLen = -1;
  h.status = 0;
  if (len < 4) return;
  for (const m of METHODS) {
    if (startsWith(b, off, len, m)) {
      h.present = true;
      h.isRequest = true;
      h.methodOff = off;
      h.methodLen = m.length - 1;
      h.pathOff = off + m.length;
      let e = h.pathOff;
      while (e < off + len && b[e] !== 0x20 && b[e] !== 0x0d) e++;
      h.pathLen = e - h.pathOff;
      return;
    }
  }
  if (startsWith(b, off, len, 'HTTP/1.') && len >= 12) {
    const s = off + 9;
    const status = (b[s] - 0x30) * 100 + (b[s + 1] - 0x30) * 10 + (b[s + 2] - 0x30);
    if (status >= 100 && status <= 599) {
      h.present = true;
      h.status = status;
    }
  }
}

/**
 * Fill `rec` from `ev`. `wallSec`/`wallNsec` convert the probe's monotonic clock to wall time
 * (the offset measured when the capture started).
 */
export function fillRecord(ev: EbpfEvent, rec: EbpfPacketRecord, wallSec: number, wallNsec: number): void {
  const frame = synthesizeFrame(ev, rec.bytes);
  let nsec = ev.monoNsec + wallNsec;
  let sec = ev.monoSec + wallSec;
  if (nsec >= 1e9) {
    nsec -= 1e9;
    sec += 1;
  }
  rec.tsSec = sec;
  rec.tsNsec = nsec;
  rec.linktype = 1;
  rec.ifindex = ev.ifindex;
  rec.pktType = ev.dir === 1 ? 4 : 0;
  rec.caplen = frame.caplen;
  rec.origLen = frame.origLen;
  rec.netnsInode = ev.netnsInode;
  rec.dir = ev.dir;
  rec.skb = ev.skb;
  rec.error = null;
  rec.tunnel = null;
  rec.arpOp = 0;

  rec.l3 = ev.family === 4 ? L3.IPV4 : L3.IPV6;
  rec.src4 = ev.family === 4 ? ev.src4 : 0;
  rec.dst4 = ev.family === 4 ? ev.dst4 : 0;
  if (ev.family === 6) {
    rec.src6.set(ev.src6);
    rec.dst6.set(ev.dst6);
  }
  rec.proto = ev.proto;
  rec.sport = ev.sport;
  rec.dport = ev.dport;
  rec.ipId = ev.ipId;
  rec.ttl = ev.ttl;
  rec.fragment = false;
  rec.seq = ev.seq;
  rec.ack = ev.ack;
  rec.tcpFlags = ev.tcpFlags;
  rec.window = ev.window;
  rec.mss = ev.mss;
  rec.wscale = ev.wscale;
  const hasTs = ev.proto === 6 && (ev.tsval !== 0 || ev.tsecr !== 0);
  rec.tsval = hasTs ? ev.tsval : -1;
  rec.tsecr = hasTs ? ev.tsecr : -1;
  rec.payloadOffset = frame.payloadOffset;
  rec.payloadLen = ev.payloadLen;
  const cap = frame.caplen - frame.payloadOffset;
  rec.payloadHash = cap > 0 ? fnv1a32(rec.bytes, frame.payloadOffset, cap) : 0;

  const ppLen = readPpv2(rec, rec.bytes, frame.payloadOffset, cap);
  readHttp(rec, rec.bytes, frame.payloadOffset + ppLen, cap - ppLen);
}
