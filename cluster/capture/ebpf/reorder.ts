/**
 * Puts probe events back in time order. bpftrace keeps one output ring per CPU and drains them
 * one after another, so its output interleaves batches from different CPUs: under load a batch
 * can be hundreds of milliseconds older than the one printed before it, and one device's packets
 * come from several CPUs. The analyzer merges capture files expecting each in time order, so
 * events wait here until they are `lagNs` older than the newest event seen, or until the end.
 *
 * Most events arrive in order: they go to a FIFO; only one older than the FIFO's last goes to a
 * min-heap; release takes the older of the two heads. Held events are copies in pooled objects
 * of one shape (no allocation once the pool is warm), handed back to the pool after `release`.
 */
import { createEvent, type EbpfEvent } from './events.js';

const older = (a: EbpfEvent, b: EbpfEvent): boolean => a.monoSec < b.monoSec || (a.monoSec === b.monoSec && a.monoNsec < b.monoNsec);

function copyInto(d: EbpfEvent, s: EbpfEvent): void {
  d.family = s.family; d.monoSec = s.monoSec; d.monoNsec = s.monoNsec; d.netnsInode = s.netnsInode;
  d.ifindex = s.ifindex; d.dev = s.dev; d.dir = s.dir; d.skb = s.skb; d.src4 = s.src4; d.dst4 = s.dst4;
  if (s.family === 6) { d.src6.set(s.src6); d.dst6.set(s.dst6); }
  d.proto = s.proto; d.sport = s.sport; d.dport = s.dport; d.ipId = s.ipId; d.ttl = s.ttl; d.ipLen = s.ipLen;
  d.ipHeaderLen = s.ipHeaderLen; d.seq = s.seq; d.ack = s.ack; d.tcpFlags = s.tcpFlags; d.l4HeaderLen = s.l4HeaderLen;
  d.window = s.window; d.tsval = s.tsval; d.tsecr = s.tsecr; d.mss = s.mss; d.wscale = s.wscale;
  d.payloadLen = s.payloadLen; d.capLen = s.capLen;
  d.payload.set(s.payload.subarray(0, s.capLen));
}

export class ReorderBuffer {
  /** Events in arrival order that are also in time order; `fifo[head..]` are held. */
  private fifo: EbpfEvent[] = [];
  private head = 0;
  private readonly heap: EbpfEvent[] = [];
  private readonly pool: EbpfEvent[] = [];
  private newestSec = 0;
  private newestNsec = 0;
  private releasedSec = 0;
  private releasedNsec = 0;
  /** Events released after a newer one had been released: later than `lagNs` behind. */
  lateEvents = 0;
  /** The furthest an event arrived behind the newest one before it, in ns (how much order was lost). */
  maxBehindNs = 0;

  /** `payloadWords`: payload capacity of held copies, in 8-byte words (the parser's events'). */
  constructor(
    private readonly lagNs: number,
    private readonly payloadWords: number,
    private readonly release: (ev: EbpfEvent) => void,
  ) {}

  get held(): number {
    return this.fifo.length - this.head + this.heap.length;
  }

  push(ev: EbpfEvent): void {
    const copy = this.pool.pop() ?? createEvent(this.payloadWords);
    copyInto(copy, ev);
    const last = this.fifo.length > this.head ? this.fifo[this.fifo.length - 1]! : null;
    if (last === null || !older(copy, last)) this.fifo.push(copy);
    else this.heapInsert(copy);
    if (ev.monoSec > this.newestSec || (ev.monoSec === this.newestSec && ev.monoNsec > this.newestNsec)) {
      this.newestSec = ev.monoSec;
      this.newestNsec = ev.monoNsec;
    } else {
      const behind = (this.newestSec - ev.monoSec) * 1e9 + (this.newestNsec - ev.monoNsec);
      if (behind > this.maxBehindNs) this.maxBehindNs = behind;
    }
    // Release what is at least lagNs older than the newest event.
    let sec = this.newestSec - Math.floor(this.lagNs / 1e9);
    let nsec = this.newestNsec - (this.lagNs % 1e9);
    if (nsec < 0) {
      nsec += 1e9;
      sec -= 1;
    }
    for (;;) {
      const next = this.oldest();
      if (next === null || next.monoSec > sec || (next.monoSec === sec && next.monoNsec > nsec)) break;
      this.emit(this.take());
    }
    if (this.head > 4096 && this.head * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.head);
      this.head = 0;
    }
  }

  /** Release everything still held, oldest first. */
  flush(): void {
    while (this.oldest() !== null) this.emit(this.take());
    this.fifo = [];
    this.head = 0;
  }

  private oldest(): EbpfEvent | null {
    const f = this.fifo.length > this.head ? this.fifo[this.head]! : null;
    const h = this.heap.length > 0 ? this.heap[0]! : null;
    if (f === null) return h;
    if (h === null) return f;
    return older(h, f) ? h : f;
  }

  /** Removes and returns what oldest() returned. */
  private take(): EbpfEvent {
    const f = this.fifo.length > this.head ? this.fifo[this.head]! : null;
    if (this.heap.length > 0 && (f === null || older(this.heap[0]!, f))) return this.heapPop();
    this.head++;
    return f!;
  }

  private emit(ev: EbpfEvent): void {
    if (ev.monoSec < this.releasedSec || (ev.monoSec === this.releasedSec && ev.monoNsec < this.releasedNsec)) this.lateEvents++;
    else {
      this.releasedSec = ev.monoSec;
      this.releasedNsec = ev.monoNsec;
    }
    this.release(ev);
    this.pool.push(ev);
  }

  private heapInsert(ev: EbpfEvent): void {
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!older(ev, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = ev;
  }

  private heapPop(): EbpfEvent {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const child = r < h.length && older(h[r]!, h[l]!) ? r : l;
        if (!older(h[child]!, last)) break;
        h[i] = h[child]!;
        i = child;
      }
      h[i] = last;
    }
    return top;
  }
}
