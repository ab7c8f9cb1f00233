import { describe, expect, it } from 'vitest';
import { createEvent } from '../../../../cluster/capture/ebpf/events.js';
import { ReorderBuffer } from '../../../../cluster/capture/ebpf/reorder.js';

/** An event at `ms` milliseconds of probe time, tagged by its IP ID; the source event is reused as the parser does. */
const source = createEvent(1);
function at(ms: number, id: number) {
  source.monoSec = Math.floor(ms / 1000);
  source.monoNsec = (ms % 1000) * 1e6;
  source.ipId = id;
  source.capLen = 3;
  source.payload.set([id, id, id]);
  return source;
}

describe('ReorderBuffer', () => {
  it('releases interleaved per-CPU batches in time order once they are older than the lag', () => {
    const out: Array<{ ipId: number; payload: number[] }> = [];
    // Released events are pooled and reused: keep copies of what is checked.
    const buf = new ReorderBuffer(100e6, 1, (ev) => out.push({ ipId: ev.ipId, payload: [...ev.payload.subarray(0, ev.capLen)] }));
    // CPU 0's batch (0, 20, 40 ms) printed before CPU 1's (10, 30 ms), then later traffic.
    for (const [ms, id] of [[0, 1], [20, 3], [40, 5], [10, 2], [30, 4]]) buf.push(at(ms, id));
    expect(out).toEqual([]);
    buf.push(at(125, 6));
    // 125 - 100 = 25 ms: everything at or before 25 ms is out, in order.
    expect(out.map((e) => e.ipId)).toEqual([1, 2, 3]);
    expect(buf.held).toBe(3);
    buf.flush();
    expect(out.map((e) => e.ipId)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(buf.lateEvents).toBe(0);
    // 10 ms came after 40 ms
    expect(buf.maxBehindNs).toBe(30e6);
    // Each held event is a copy: the reused source event changed since, the copies did not.
    expect(out.map((e) => e.payload)).toEqual([1, 2, 3, 4, 5, 6].map((i) => [i, i, i]));
  });

  it('orders across second boundaries and counts what comes later than the lag', () => {
    const out: number[] = [];
    const buf = new ReorderBuffer(1e9, 1, (ev) => out.push(ev.ipId));
    buf.push(at(999, 2));
    buf.push(at(998, 1));
    buf.push(at(1500, 3));
    buf.push(at(2999, 4));
    // 2.999 - 1 s: up to 1.999 s is out
    expect(out).toEqual([1, 2, 3]);
    // 0.5 s: older than what was already released
    buf.push(at(500, 9));
    buf.flush();
    expect(out).toEqual([1, 2, 3, 9, 4]);
    expect(buf.lateEvents).toBe(1);
  });

  it('keeps a large shuffled stream in order', () => {
    const out: number[] = [];
    const buf = new ReorderBuffer(150e6, 1, (ev) => out.push(ev.monoSec * 1000 + ev.monoNsec / 1e6));
    // 4 "CPUs" drained in turns of 25 events (100 ms of traffic each), each CPU's own in order.
    const times = Array.from({ length: 4000 }, (_, i) => i);
    const cpus = [0, 1, 2, 3].map((c) => times.filter((t) => t % 4 === c));
    for (let i = 0; i < 1000; i += 25) for (const c of cpus) for (const t of c.slice(i, i + 25)) buf.push(at(t, 0));
    buf.flush();
    expect(out).toEqual(times);
  });
});
