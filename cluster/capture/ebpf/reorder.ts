/**
 * Puts probe events back in time order. bpftrace keeps one output ring per CPU and drains them
 * one after another, so its output interleaves batches from different CPUs: under load a batch
 * can be hundreds of milliseconds older than the one printed before it, and one device's packets
 * come from several CPUs. The analyzer merges capture files expecting each in time order, so
 * events wait here (a min-heap on the probe's clock) until they are `lagNs` older than the newest
 * event seen, or until the end.
 */
import type { EbpfEvent } from './events.js';

/** A copy of an event that can wait (the parser reuses its own). */
export type HeldEvent = EbpfEvent;

function copyEvent(ev: EbpfEvent): HeldEvent {
  return {
    ...ev,
    src6: ev.family === 6 ? ev.src6.slice() : ev.src6,
    dst6: ev.family === 6 ? ev.dst6.slice() : ev.dst6,
    payload: ev.payload.slice(0, ev.capLen),
  };
}

const older = (a: HeldEvent, b: HeldEvent): boolean => a.monoSec < b.monoSec || (a.monoSec === b.monoSec && a.monoNsec < b.monoNsec);

export class ReorderBuffer {
  private readonly heap: HeldEvent[] = [];
  private newestSec = 0;
  private newestNsec = 0;
  /** Events released after a newer one had been released: later than `lagNs` behind. */
  lateEvents = 0;
  private releasedSec = 0;
  private releasedNsec = 0;

  constructor(
    private readonly lagNs: number,
    private readonly release: (ev: HeldEvent) => void,
  ) {}

  get held(): number {
    return this.heap.length;
  }

  push(ev: EbpfEvent): void {
    this.insert(copyEvent(ev));
    if (ev.monoSec > this.newestSec || (ev.monoSec === this.newestSec && ev.monoNsec > this.newestNsec)) {
      this.newestSec = ev.monoSec;
      this.newestNsec = ev.monoNsec;
    }
    // Release what is at least lagNs older than the newest event.
    let sec = this.newestSec - Math.floor(this.lagNs / 1e9);
    let nsec = this.newestNsec - (this.lagNs % 1e9);
    if (nsec < 0) {
      nsec += 1e9;
      sec -= 1;
    }
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (top.monoSec > sec || (top.monoSec === sec && top.monoNsec > nsec)) break;
      this.emit(this.pop());
    }
  }

  /** Release everything still held, oldest first. */
  flush(): void {
    while (this.heap.length > 0) this.emit(this.pop());
  }

  private emit(ev: HeldEvent): void {
    if (ev.monoSec < this.releasedSec || (ev.monoSec === this.releasedSec && ev.monoNsec < this.releasedNsec)) this.lateEvents++;
    else {
      this.releasedSec = ev.monoSec;
      this.releasedNsec = ev.monoNsec;
    }
    this.release(ev);
  }

  private insert(ev: HeldEvent): void {
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

  private pop(): HeldEvent {
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
