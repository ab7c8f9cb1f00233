/**
 * Cross-point correlation: the same TCP packet seen at several capture points (before and after
 * NAT, inside and outside a tunnel) is recognised by a NAT-invariant fingerprint, and every
 * (point, 5-tuple) it was seen with is linked to one connection. Packets must arrive in (roughly)
 * time order across points; state is kept only for connections in flight and for fingerprints of
 * the last `windowSec` seconds, in typed arrays, so memory follows flows in flight, not packets.
 *
 * Fingerprint: TCP seq, ack, flags (PSH ignored: GRO/TSO move it), TCP timestamp, IP ID, whether
 * there is payload, and a hash of the first application bytes. Addresses, ports, TTL and
 * checksums are left out because NAT and routing change them. The payload length is left out so
 * that a GRO/TSO super-frame matches the first MSS-sized segment another point saw; the segments
 * that follow are attributed through the (point, tuple) link the first one made.
 *
 * A proxy hop (a new TCP connection) cannot share a fingerprint; it is linked to its upstream
 * connection by the PROXY v2 header's client address, or, without one, by equal first
 * application bytes, the upstream connection ending where the downstream one starts.
 */
import { PROTO, TCP_FLAG } from '../decode/record.js';
import { U64Table, finish, mix } from './hash-table.js';
import { endpoint, ipv4ToString, ipv6ToString, type Observation } from './observation.js';

export const DIR_ORIG = 0;
export const DIR_REPLY = 1;

export interface Ppv2Seen {
  /** Packet number at the hop's point. */
  n: number;
  version: number;
  /** 'LOCAL' (health checks) or 'PROXY'. */
  command: 'LOCAL' | 'PROXY';
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

/** One (point, 5-tuple) a connection was seen with, in one direction. */
export interface HopObservation {
  point: number;
  /** 0: client → server, 1: reply. */
  dir: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  ttl: number;
  firstTime: number;
  lastTime: number;
  /** Packet number (in the point's capture) of the first packet of this hop. */
  firstN: number;
  /** How this (point, tuple) joined the connection: a shared fingerprint, or it started it. */
  via: 'fingerprint' | 'start';
  packets: number;
  payloadBytes: number;
  retransmissions: number;
  duplicates: number;
  /** Segments larger than one 1500-byte-MTU MSS: GRO/TSO super-frames. */
  superframes: number;
  tunnel: string | null;
  outerSrc: string | null;
  outerDst: string | null;
  ppv2: Ppv2Seen | null;
  xff: string | null;
  xffN: number;
}

/** One TCP connection as seen across all points. */
export interface ConnectionFlow {
  id: number;
  firstTime: number;
  lastTime: number;
  hops: HopObservation[];
  packets: number;
  /** The connection's SYN was seen, so the client side is known for sure. */
  sawSyn: boolean;
  synSeq: number;
  /** Bit 1: client sent FIN, bit 2: server sent FIN. */
  fin: number;
  rst: boolean;
  /** The upstream connection this one continues (a proxy hop), or -1; and how it was found. */
  upstream: number;
  upstreamBy: 'ppv2' | 'payload' | null;
  downstream: number;
  /** A PROXY v2 LOCAL header (a load balancer's health check): no client behind it. */
  healthCheck: boolean;
  appHash: number;
  appTime: number;
}

export interface CorrelatorOptions {
  /** Called once per connection when it ends (FIN/RST + linger, idle, or `finish()`). */
  onFlow: (flow: ConnectionFlow) => void;
  /** How far apart (seconds) the same packet may be seen at two points. Default 2. */
  windowSec?: number;
  /** A connection with no packet for this long is finished. Default 120. */
  idleSec?: number;
  /** Kept this long after FIN/RST for late copies from other points. Default = windowSec. */
  lingerSec?: number;
  /** Fingerprints kept at once (a ring); older ones are dropped first. Default 2^20. */
  fingerprintCapacity?: number;
  /** For each point, the network namespace / host it was captured in (proxy hop inference). */
  pointHost?: readonly string[];
}

export interface CorrelatorStats {
  packets: number;
  tcpPackets: number;
  /** Not TCP (ARP, UDP, ICMP…): not correlated. */
  ignored: number;
  connections: number;
  linksByFingerprint: number;
  retransmissions: number;
  duplicates: number;
  /** Fingerprints pushed out of the ring before their window ended (raise fingerprintCapacity). */
  fingerprintsEvictedEarly: number;
  /** Two live connections produced the same fingerprint (ambiguous; the first one keeps it). */
  fingerprintConflicts: number;
  proxyLinks: number;
  maxConnectionsInFlight: number;
}

const SEED_T1 = 0x3c6ef372;
const SEED_T2 = 0x1b873593 ^ 0x5bd1e995;
const SEED_F1 = 0x27d4eb2f;
const SEED_F2 = 0x165667b1;
const MSS_1500 = 1460;
const SWEEP_EVERY_SEC = 1;

function seqLeq(a: number, b: number): boolean {
  return ((b - a) | 0) >= 0;
}

function growInt32(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

function growFloat64(a: Float64Array, n: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}

export class Correlator {
  readonly stats: CorrelatorStats = {
    packets: 0, tcpPackets: 0, ignored: 0, connections: 0, linksByFingerprint: 0, retransmissions: 0,
    duplicates: 0, fingerprintsEvictedEarly: 0, fingerprintConflicts: 0, proxyLinks: 0, maxConnectionsInFlight: 0,
  };

  private readonly onFlow: (flow: ConnectionFlow) => void;
  private readonly window: number;
  private readonly idle: number;
  private readonly linger: number;
  private readonly pointHost: readonly string[];
  private now = -Infinity;
  private nextSweep = -Infinity;
  private nextFlowId = 1;

  /** Connections in flight, by slot; freed slots are reused. */
  private flows: (ConnectionFlow | null)[] = [];
  private freeFlowSlots: number[] = [];
  /** The link slots of the connection in each flow slot. */
  private flowLinks: number[][] = [];
  private inFlight = 0;

  /** (point, directed 5-tuple) → link slot. */
  private readonly tuples = new U64Table(4096);
  private linkFlow = new Int32Array(1024);
  private linkHop = new Int32Array(1024);
  private linkDir = new Int32Array(1024);
  /** The highest sequence end seen on this link (for retransmissions); NaN before any. */
  private linkSeqEnd = new Float64Array(1024);
  /** Each link's tuple key (two int32), to remove it from `tuples` when its connection ends. */
  private linkKeys = new Int32Array(1024 * 2);
  private linkCount = 0;
  private freeLinks: number[] = [];

  /** Fingerprint ring: insertion order is time order, so the head is always the oldest. */
  private readonly fp = new U64Table(1024);
  private readonly fpCap: number;
  private readonly fpK1: Uint32Array;
  private readonly fpK2: Uint32Array;
  private readonly fpFlowSlot: Int32Array;
  private readonly fpFlowId: Int32Array;
  private readonly fpDir: Uint8Array;
  private readonly fpHopMask: Uint32Array;
  private readonly fpTime: Float64Array;
  private readonly fpLast: Float64Array;
  private fpHead = 0;
  private fpCount = 0;

  /** Proxy linking: dir-0 tuples of recent connections, and recent first-application-bytes hashes. */
  private readonly byClientTuple = new Map<string, ConnectionFlow>();
  private readonly byAppHash = new Map<number, ConnectionFlow[]>();
  private retired: { flow: ConnectionFlow; keys: string[]; at: number }[] = [];
  private readonly tupleKeysOf = new Map<number, string[]>();

  constructor(opts: CorrelatorOptions) {
    this.onFlow = opts.onFlow;
    this.window = opts.windowSec ?? 2;
    this.idle = opts.idleSec ?? 120;
    this.linger = opts.lingerSec ?? this.window;
    this.pointHost = opts.pointHost ?? [];
    const cap = opts.fingerprintCapacity ?? 1 << 20;
    this.fpCap = cap;
    this.fpK1 = new Uint32Array(cap);
    this.fpK2 = new Uint32Array(cap);
    this.fpFlowSlot = new Int32Array(cap);
    this.fpFlowId = new Int32Array(cap);
    this.fpDir = new Uint8Array(cap);
    this.fpHopMask = new Uint32Array(cap);
    this.fpTime = new Float64Array(cap);
    this.fpLast = new Float64Array(cap);
  }

  /** Feed one packet. Observations must come in time order across all points (±windowSec). */
  observe(o: Observation): void {
    const stats = this.stats;
    stats.packets++;
    if (o.proto !== PROTO.TCP || (o.l3 !== 4 && o.l3 !== 6)) {
      stats.ignored++;
      return;
    }
    stats.tcpPackets++;
    if (o.time > this.now) this.now = o.time;
    if (this.now >= this.nextSweep) this.sweep();

    // Directed tuple key at this point, and its reverse.
    const sa = o.l3 === 4 ? o.src4 : fold6(o.src6);
    const da = o.l3 === 4 ? o.dst4 : fold6(o.dst6);
    const ports = ((o.sport << 16) | o.dport) >>> 0;
    const rports = ((o.dport << 16) | o.sport) >>> 0;
    const t1 = finish(mix(mix(mix(mix(SEED_T1, o.point), sa), da), ports));
    const t2 = finish(mix(mix(mix(mix(SEED_T2, o.point), sa), da), ports));
    const flags = o.tcpFlags;

    let link = this.tuples.get(t1, t2);
    if (link >= 0 && (flags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === TCP_FLAG.SYN) {
      // A fresh SYN on a tuple still linked to a connection: port reuse, unless it is a SYN retransmission.
      const old = this.flows[this.linkFlow[link]!]!;
      if (!old.sawSyn || old.synSeq !== o.seq) {
        this.endFlow(this.linkFlow[link]!);
        link = -1;
      }
    }

    const payloadKey = o.appLen > 0 ? o.appHash : o.payloadLen > 0 ? o.payloadHash : 0;
    const f1 = finish(mix(mix(mix(mix(mix(SEED_F1, o.seq), o.ack), flags & ~TCP_FLAG.PSH), o.tsval), o.ipId));
    const f2 = finish(mix(mix(mix(mix(SEED_F2, payloadKey), o.payloadLen > 0 ? 1 : 0), o.seq ^ o.ipId), o.tsval ^ o.ack));
    let fe = this.fp.get(f1, f2);
    if (fe >= 0) {
      const live = this.flows[this.fpFlowSlot[fe]!];
      if (!live || live.id !== this.fpFlowId[fe]) fe = this.dropStaleFingerprint(fe);
    }

    let slot: number;
    let dir: number;
    if (link < 0) {
      let via: 'fingerprint' | 'start';
      if (fe >= 0) {
        slot = this.fpFlowSlot[fe]!;
        dir = this.fpDir[fe]!;
        via = 'fingerprint';
        stats.linksByFingerprint++;
      } else {
        slot = this.newFlow(o);
        dir = this.firstDirection(o);
        via = 'start';
      }
      link = this.addLink(slot, dir, o, t1, t2, sa, da, rports, via);
    } else {
      slot = this.linkFlow[link]!;
      dir = this.linkDir[link]!;
    }

    const flow = this.flows[slot]!;
    const hopIndex = this.linkHop[link]!;
    const hop = flow.hops[hopIndex]!;
    const hopBit = 1 << (hopIndex & 31);
    if (hop.packets === 0) {
      hop.ttl = o.ttl;
      hop.firstN = o.n;
      hop.firstTime = o.time;
      if (o.tunnelled) {
        hop.tunnel = o.tunnel;
        hop.outerSrc = ipv4ToString(o.outerSrc4);
        hop.outerDst = ipv4ToString(o.outerDst4);
      }
    }
    hop.packets++;
    hop.lastTime = o.time;
    hop.payloadBytes += o.payloadLen;
    flow.packets++;
    if (o.time > flow.lastTime) flow.lastTime = o.time;

    // Retransmission / duplicate at this link: a segment that ends at or before what was seen.
    const consumes = o.payloadLen + ((flags & (TCP_FLAG.SYN | TCP_FLAG.FIN)) !== 0 ? 1 : 0);
    if (consumes > 0) {
      const end = (o.seq + consumes) | 0;
      const seen = this.linkSeqEnd[link]!;
      if (seen === seen && seqLeq(end, seen)) {
        if (fe >= 0 && (this.fpHopMask[fe]! & hopBit) !== 0 && o.time - this.fpLast[fe]! < 0.001) {
          hop.duplicates++;
          stats.duplicates++;
        } else {
          hop.retransmissions++;
          stats.retransmissions++;
        }
      } else {
        this.linkSeqEnd[link] = end;
      }
    }
    if (o.payloadLen > MSS_1500) hop.superframes++;

    if ((flags & TCP_FLAG.SYN) !== 0 && (flags & TCP_FLAG.ACK) === 0 && dir === DIR_ORIG && !flow.sawSyn) {
      flow.sawSyn = true;
      flow.synSeq = o.seq;
    }
    if ((flags & TCP_FLAG.FIN) !== 0) flow.fin |= dir === DIR_ORIG ? 1 : 2;
    if ((flags & TCP_FLAG.RST) !== 0) flow.rst = true;
    if (o.ppv2 && hop.ppv2 === null) {
      hop.ppv2 = {
        n: o.n, version: o.ppv2Version, command: o.ppv2Command === 1 ? 'PROXY' : 'LOCAL',
        src: o.ppv2Src, sport: o.ppv2Sport, dst: o.ppv2Dst, dport: o.ppv2Dport,
      };
      if (o.ppv2Command === 0) flow.healthCheck = true;
      else if (flow.upstream < 0) this.linkByPpv2(flow, hop.ppv2);
    }
    if (o.xff !== null && hop.xff === null) {
      hop.xff = o.xff;
      hop.xffN = o.n;
    }
    if (dir === DIR_ORIG && o.appLen > 0 && flow.appTime < 0) {
      flow.appHash = o.appHash;
      flow.appTime = o.time;
      this.linkByPayload(flow, hop);
    }

    if (fe < 0) this.addFingerprint(f1, f2, slot, flow.id, dir, o.time, hopBit);
    else {
      if (this.fpFlowSlot[fe] !== slot) stats.fingerprintConflicts++;
      this.fpHopMask[fe]! |= hopBit;
      this.fpLast[fe] = o.time;
    }
  }

  /** End every connection still in flight (end of input). */
  finish(): void {
    for (let s = 0; s < this.flows.length; s++) if (this.flows[s]) this.endFlow(s);
    this.retired = [];
    this.byClientTuple.clear();
    this.byAppHash.clear();
  }

  get connectionsInFlight(): number {
    return this.inFlight;
  }

  private newFlow(o: Observation): number {
    const flow: ConnectionFlow = {
      id: this.nextFlowId++, firstTime: o.time, lastTime: o.time, hops: [], packets: 0, sawSyn: false, synSeq: 0,
      fin: 0, rst: false, upstream: -1, upstreamBy: null, downstream: -1, healthCheck: false, appHash: 0, appTime: -1,
    };
    const slot = this.freeFlowSlots.length > 0 ? this.freeFlowSlots.pop()! : this.flows.length;
    this.flows[slot] = flow;
    if (this.flowLinks[slot]) this.flowLinks[slot]!.length = 0;
    else this.flowLinks[slot] = [];
    this.inFlight++;
    this.stats.connections++;
    if (this.inFlight > this.stats.maxConnectionsInFlight) this.stats.maxConnectionsInFlight = this.inFlight;
    return slot;
  }

  /** Which way the first packet of a connection goes: SYN from the client, SYN-ACK from the server, else the higher port is the client's. */
  private firstDirection(o: Observation): number {
    const f = o.tcpFlags;
    if ((f & TCP_FLAG.SYN) !== 0) return (f & TCP_FLAG.ACK) !== 0 ? DIR_REPLY : DIR_ORIG;
    return o.sport >= o.dport ? DIR_ORIG : DIR_REPLY;
  }

  private allocLink(): number {
    if (this.freeLinks.length > 0) return this.freeLinks.pop()!;
    const link = this.linkCount++;
    if (link >= this.linkFlow.length) {
      const n = this.linkFlow.length * 2;
      this.linkFlow = growInt32(this.linkFlow, n);
      this.linkHop = growInt32(this.linkHop, n);
      this.linkDir = growInt32(this.linkDir, n);
      this.linkSeqEnd = growFloat64(this.linkSeqEnd, n);
      this.linkKeys = growInt32(this.linkKeys, n * 2);
    }
    return link;
  }

  /** Link (point, tuple) and its reverse to the connection in `slot`; returns the forward link. */
  private addLink(slot: number, dir: number, o: Observation, t1: number, t2: number, sa: number, da: number,
    rports: number, via: 'fingerprint' | 'start'): number {
    const r1 = finish(mix(mix(mix(mix(SEED_T1, o.point), da), sa), rports));
    const r2 = finish(mix(mix(mix(mix(SEED_T2, o.point), da), sa), rports));
    const flow = this.flows[slot]!;
    const src = o.l3 === 4 ? ipv4ToString(o.src4) : ipv6ToString(o.src6);
    const dst = o.l3 === 4 ? ipv4ToString(o.dst4) : ipv6ToString(o.dst6);
    const hop = makeHop(o.point, dir, src, o.sport, dst, o.dport, via);
    const rhop = makeHop(o.point, 1 - dir, dst, o.dport, src, o.sport, via);
    flow.hops.push(hop, rhop);
    const link = this.allocLink();
    const rlink = this.allocLink();
    this.linkFlow[link] = slot;
    this.linkHop[link] = flow.hops.length - 2;
    this.linkDir[link] = dir;
    this.linkSeqEnd[link] = NaN;
    this.linkKeys[link * 2] = t1 | 0;
    this.linkKeys[link * 2 + 1] = t2 | 0;
    this.tuples.set(t1, t2, link);
    this.linkFlow[rlink] = slot;
    this.linkHop[rlink] = flow.hops.length - 1;
    this.linkDir[rlink] = 1 - dir;
    this.linkSeqEnd[rlink] = NaN;
    this.linkKeys[rlink * 2] = r1 | 0;
    this.linkKeys[rlink * 2 + 1] = r2 | 0;
    this.tuples.set(r1, r2, rlink);
    this.flowLinks[slot]!.push(link, rlink);
    this.indexClientTuple(flow, dir === DIR_ORIG ? hop : rhop);
    return link;
  }

  private addFingerprint(f1: number, f2: number, slot: number, id: number, dir: number, time: number, hopBit: number): void {
    while (this.fpCount > 0 && this.fpTime[this.fpHead]! < time - this.window) this.evictFingerprint();
    if (this.fpCount === this.fpCap) {
      this.evictFingerprint();
      this.stats.fingerprintsEvictedEarly++;
    }
    const i = (this.fpHead + this.fpCount) % this.fpCap;
    this.fpK1[i] = f1;
    this.fpK2[i] = f2;
    this.fpFlowSlot[i] = slot;
    this.fpFlowId[i] = id;
    this.fpDir[i] = dir;
    this.fpHopMask[i] = hopBit;
    this.fpTime[i] = time;
    this.fpLast[i] = time;
    this.fpCount++;
    this.fp.set(f1, f2, i);
  }

  private evictFingerprint(): void {
    const h = this.fpHead;
    if (this.fp.get(this.fpK1[h]!, this.fpK2[h]!) === h) this.fp.delete(this.fpK1[h]!, this.fpK2[h]!);
    this.fpHead = (h + 1) % this.fpCap;
    this.fpCount--;
  }

  /** A fingerprint whose connection has ended: forget it (the ring slot ages out on its own). */
  private dropStaleFingerprint(fe: number): number {
    this.fp.delete(this.fpK1[fe]!, this.fpK2[fe]!);
    return -1;
  }

  /**
   * Remember "src:sport" of each distinct client-side source a connection shows (the client's, and
   * the SNAT'd one after a NAT), so a downstream PROXY v2 header naming it finds this connection.
   */
  private indexClientTuple(flow: ConnectionFlow, hop: HopObservation): void {
    for (const h of flow.hops) if (h !== hop && h.dir === hop.dir && h.sport === hop.sport && h.src === hop.src) return;
    const key = endpoint(hop.src, hop.sport);
    this.byClientTuple.set(key, flow);
    let keys = this.tupleKeysOf.get(flow.id);
    if (!keys) this.tupleKeysOf.set(flow.id, (keys = []));
    keys.push(key);
  }

  /** A PROXY v2 header names the client connection: the upstream is the connection with that tuple. */
  private linkByPpv2(flow: ConnectionFlow, pp: Ppv2Seen): void {
    if (!pp.src) return;
    const up = this.byClientTuple.get(endpoint(pp.src, pp.sport));
    if (!up || up === flow || up.downstream >= 0) return;
    flow.upstream = up.id;
    flow.upstreamBy = 'ppv2';
    up.downstream = flow.id;
    this.stats.proxyLinks++;
  }

  /**
   * Without a PROXY header, a proxied connection is the one whose first application bytes equal
   * an upstream connection's, starting where that one ended (same host, or from the address it
   * was sent to) and shortly after it. The most recent such upstream wins.
   */
  private linkByPayload(flow: ConnectionFlow, hop: HopObservation): void {
    let list = this.byAppHash.get(flow.appHash);
    if (!list) this.byAppHash.set(flow.appHash, (list = []));
    if (flow.upstream < 0 && !flow.healthCheck) {
      const start = this.firstOrigHop(flow) ?? hop;
      for (let i = list.length - 1; i >= 0; i--) {
        const up = list[i]!;
        if (up.downstream >= 0 || up.upstream === flow.id || flow.appTime - up.appTime > this.window) continue;
        const end = this.lastOrigHop(up);
        if (!end) continue;
        const sameHost = this.pointHost[end.point] !== undefined && this.pointHost[end.point] === this.pointHost[start.point];
        if (!sameHost && end.dst !== start.src) continue;
        if (end.dst === start.dst && end.dport === start.dport && end.src === start.src) continue;
        flow.upstream = up.id;
        flow.upstreamBy = 'payload';
        up.downstream = flow.id;
        this.stats.proxyLinks++;
        break;
      }
    }
    list.push(flow);
  }

  private firstOrigHop(flow: ConnectionFlow): HopObservation | undefined {
    let best: HopObservation | undefined;
    for (const h of flow.hops) if (h.dir === DIR_ORIG && h.packets > 0 && (!best || h.ttl > best.ttl)) best = h;
    return best;
  }

  private lastOrigHop(flow: ConnectionFlow): HopObservation | undefined {
    let best: HopObservation | undefined;
    for (const h of flow.hops) {
      if (h.dir !== DIR_ORIG || h.packets === 0) continue;
      if (!best || h.ttl < best.ttl || (h.ttl === best.ttl && h.firstTime > best.firstTime)) best = h;
    }
    return best;
  }

  private endFlow(slot: number): void {
    const flow = this.flows[slot]!;
    for (const link of this.flowLinks[slot]!) {
      this.tuples.delete(this.linkKeys[link * 2]! >>> 0, this.linkKeys[link * 2 + 1]! >>> 0);
      this.linkFlow[link] = -1;
      this.freeLinks.push(link);
    }
    this.flowLinks[slot]!.length = 0;
    this.flows[slot] = null;
    this.freeFlowSlots.push(slot);
    this.inFlight--;
    // Drop the reverse-hop placeholders no packet ever used.
    flow.hops = flow.hops.filter((h) => h.packets > 0);
    this.retired.push({ flow, keys: this.tupleKeysOf.get(flow.id) ?? [], at: this.now });
    this.tupleKeysOf.delete(flow.id);
    this.onFlow(flow);
  }

  private sweep(): void {
    this.nextSweep = this.now + SWEEP_EVERY_SEC;
    const now = this.now;
    for (let s = 0; s < this.flows.length; s++) {
      const f = this.flows[s];
      if (!f) continue;
      const quiet = now - f.lastTime;
      if (quiet > this.idle || ((f.rst || f.fin === 3) && quiet > this.linger)) this.endFlow(s);
    }
    // Proxy-link indexes: keep ended connections only as long as a late downstream could still appear.
    let keep = 0;
    for (const r of this.retired) {
      if (now - r.at <= this.window) {
        this.retired[keep++] = r;
        continue;
      }
      for (const k of r.keys) if (this.byClientTuple.get(k) === r.flow) this.byClientTuple.delete(k);
      const list = this.byAppHash.get(r.flow.appHash);
      if (list) {
        const i = list.indexOf(r.flow);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.byAppHash.delete(r.flow.appHash);
      }
    }
    this.retired.length = keep;
  }
}

function makeHop(point: number, dir: number, src: string, sport: number, dst: string, dport: number,
  via: 'fingerprint' | 'start'): HopObservation {
  return {
    point, dir, src, sport, dst, dport, ttl: -1, firstTime: 0, lastTime: 0, firstN: -1, via, packets: 0,
    payloadBytes: 0, retransmissions: 0, duplicates: 0, superframes: 0, tunnel: null, outerSrc: null, outerDst: null,
    ppv2: null, xff: null, xffN: -1,
  };
}

function fold6(b: Uint8Array): number {
  let h = 0x6a09e667;
  for (let i = 0; i < 16; i += 4) h = mix(h, (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
  return finish(h);
}
