/**
 * Just enough TCP stream reassembly to recognise a PROXY header split over segments: a flow is
 * tracked only after a segment that starts with an incomplete header, for at most `capBytes` of
 * its stream, and at most `maxFlows` flows at once (the oldest is evicted). Flows are keyed by a
 * 30-bit hash of the 4-tuple (a small integer, so lookups allocate nothing) and checked field by field.
 */
import { COUNT, type DecodeContext } from './context.js';
import { PP, parseProxyHeader } from './proxy-protocol.js';
import { L3, TCP_FLAG, type L34Fields } from './record.js';

interface FlowSlot {
  key: number;
  l3: number;
  src4: number;
  dst4: number;
  src6: Uint8Array;
  dst6: Uint8Array;
  sport: number;
  dport: number;
  nextSeq: number;
  buf: Uint8Array;
  len: number;
}

export class FlowReassembly {
  private readonly flows = new Map<number, FlowSlot>();
  private readonly free: FlowSlot[] = [];

  constructor(readonly maxFlows = 1024, readonly capBytes = 4096) {}

  get size(): number {
    return this.flows.size;
  }

  private keyOf(f: L34Fields): number {
    let h = 0x811c9dc5;
    if (f.l3 === L3.IPV4) {
      h = Math.imul(h ^ f.src4, 0x01000193);
      h = Math.imul(h ^ f.dst4, 0x01000193);
    } else {
      for (let i = 0; i < 16; i += 4) {
        h = Math.imul(h ^ ((f.src6[i] << 24) | (f.src6[i + 1] << 16) | (f.src6[i + 2] << 8) | f.src6[i + 3]), 0x01000193);
        h = Math.imul(h ^ ((f.dst6[i] << 24) | (f.dst6[i + 1] << 16) | (f.dst6[i + 2] << 8) | f.dst6[i + 3]), 0x01000193);
      }
    }
    h = Math.imul(h ^ ((f.sport << 16) | f.dport), 0x01000193);
    return h & 0x3fffffff;
  }

  private matches(s: FlowSlot, f: L34Fields): boolean {
    if (s.l3 !== f.l3 || s.sport !== f.sport || s.dport !== f.dport) return false;
    if (f.l3 === L3.IPV4) return s.src4 === f.src4 && s.dst4 === f.dst4;
    for (let i = 0; i < 16; i++) if (s.src6[i] !== f.src6[i] || s.dst6[i] !== f.dst6[i]) return false;
    return true;
  }

  /** Begin tracking the flow of `f`, whose complete payload b[off, off+len) is a header's first part. */
  start(f: L34Fields, b: Uint8Array, off: number, len: number): void {
    if (len > this.capBytes) return;
    const key = this.keyOf(f);
    const old = this.flows.get(key);
    if (old !== undefined) this.release(old);
    if (this.flows.size >= this.maxFlows) {
      const oldest = this.flows.values().next().value;
      if (oldest !== undefined) this.release(oldest);
    }
    const s = this.free.pop() ?? {
      key: 0, l3: 0, src4: 0, dst4: 0, src6: new Uint8Array(16), dst6: new Uint8Array(16), sport: 0, dport: 0,
      nextSeq: 0, buf: new Uint8Array(this.capBytes), len: 0,
    };
    s.key = key; s.l3 = f.l3; s.src4 = f.src4; s.dst4 = f.dst4; s.src6.set(f.src6); s.dst6.set(f.dst6);
    s.sport = f.sport; s.dport = f.dport;
    s.nextSeq = (f.seq + len) >>> 0;
    s.buf.set(b.subarray(off, off + len), 0);
    s.len = len;
    this.flows.set(key, s);
  }

  private release(s: FlowSlot): void {
    this.flows.delete(s.key);
    this.free.push(s);
  }

  /**
   * Feed a segment of a possibly tracked flow. Returns -1 when the flow is not tracked (decode the
   * payload normally); otherwise how many bytes at the start of this payload belong to the header
   * (all of them while it is still incomplete). A completed header is written to `ctx.rec.ppv2`.
   */
  feed(ctx: DecodeContext, f: L34Fields, off: number, captured: number): number {
    const key = this.keyOf(f);
    const s = this.flows.get(key);
    if (s === undefined || !this.matches(s, f)) return -1;
    const closing = (f.tcpFlags & (TCP_FLAG.FIN | TCP_FLAG.RST)) !== 0;
    const ahead = (f.seq - s.nextSeq) | 0;
    if (captured === 0 || ahead !== 0) {
      // A retransmission (ahead < 0) is ignored; a gap (ahead > 0) or a close ends the attempt.
      if (ahead > 0 || closing) this.release(s);
      return -1;
    }
    const oldLen = s.len;
    const room = this.capBytes - oldLen;
    const take = captured < room ? captured : room;
    s.buf.set(ctx.bytes.subarray(off, off + take), oldLen);
    s.len += take;
    s.nextSeq = (f.seq + captured) >>> 0;
    const r = parseProxyHeader(s.buf, 0, s.len, ctx.rec.ppv2);
    if (r > 0) {
      ctx.rec.ppv2.reassembled = true;
      ctx.counts[ctx.rec.ppv2.version === 2 ? COUNT.PPV2 : COUNT.PPV1]++;
      this.release(s);
      return r - oldLen;
    }
    if (r === PP.NEED_MORE && s.len < this.capBytes && !closing) return captured;
    if (r === PP.NEED_MORE) ctx.fail('proxy-header-incomplete');
    else if (r === PP.BAD_V2) ctx.fail('bad-proxy-v2');
    else if (r === PP.BAD_V1) ctx.fail('bad-proxy-v1');
    this.release(s);
    return captured;
  }
}
