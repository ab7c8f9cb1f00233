/**
 * The correlator on hand-made observations: what one packet at several points, NAT, retransmissions,
 * duplicates, super-frames, port reuse and proxy hops must and must not do to the connections.
 */
import { describe, expect, it } from 'vitest';
import { Correlator, type ConnectionFlow } from '../../../analyzer/correlate/correlator.js';
import { Observation, parseIpv4 } from '../../../analyzer/correlate/observation.js';
import { TCP_FLAG } from '../../../analyzer/decode/record.js';

const { SYN, ACK, PSH, FIN } = TCP_FLAG;
const ip = (s: string) => parseIpv4(s)!;

interface Pkt {
  point: number; t: number; src: string; sport: number; dst: string; dport: number; ttl: number;
  seq: number; ack?: number; flags: number; len?: number; hash?: number; ipId?: number; tsval?: number; n?: number;
  ppv2?: { src: string; sport: number; dst: string; dport: number; command?: number };
}

function obs(p: Pkt): Observation {
  const o = new Observation();
  Object.assign(o, {
    point: p.point, n: p.n ?? 1, time: p.t, l3: 4, src4: ip(p.src), dst4: ip(p.dst), proto: 6, sport: p.sport, dport: p.dport,
    ttl: p.ttl, seq: p.seq, ack: p.ack ?? 0, tcpFlags: p.flags, payloadLen: p.len ?? 0, payloadHash: p.hash ?? 0,
    appLen: p.len ?? 0, appHash: p.hash ?? 0, ipId: p.ipId ?? 0, tsval: p.tsval ?? -1,
  });
  if (p.ppv2) {
    Object.assign(o, { ppv2: true, ppv2Version: 2, ppv2Command: p.ppv2.command ?? 1, ppv2Src: p.ppv2.src, ppv2Sport: p.ppv2.sport, ppv2Dst: p.ppv2.dst, ppv2Dport: p.ppv2.dport });
  }
  return o;
}

function collect(feed: (c: Correlator) => void, opts: { pointHost?: string[] } = {}): { flows: ConnectionFlow[]; c: Correlator } {
  const flows: ConnectionFlow[] = [];
  const c = new Correlator({ onFlow: (f) => flows.push(f), pointHost: opts.pointHost });
  feed(c);
  c.finish();
  return { flows, c };
}

/** A client→VIP SYN seen at the client (0), then DNAT'd to a pod at point 1. */
const C = { src: '198.51.100.10', sport: 40000, dst: '203.0.113.10', dport: 80 };
const P = { src: '198.51.100.10', sport: 40000, dst: '10.244.1.5', dport: 8080 };

describe('Correlator', () => {
  it('links the same packet before and after DNAT into one connection with one hop per point', () => {
    const { flows, c } = collect((c) => {
      c.observe(obs({ point: 0, t: 1, ...C, ttl: 64, seq: 100, flags: SYN, tsval: 7, ipId: 11 }));
      c.observe(obs({ point: 1, t: 1.001, ...P, ttl: 63, seq: 100, flags: SYN, tsval: 7, ipId: 11 }));
      // The reply at point 1, then reverse-NATed at point 0: linked through the tuples, no fingerprint needed.
      c.observe(obs({ point: 1, t: 1.002, src: P.dst, sport: P.dport, dst: P.src, dport: P.sport, ttl: 64, seq: 900, ack: 101, flags: SYN | ACK }));
      c.observe(obs({ point: 0, t: 1.003, src: C.dst, sport: C.dport, dst: C.src, dport: C.sport, ttl: 63, seq: 900, ack: 101, flags: SYN | ACK }));
    });
    expect(flows).toHaveLength(1);
    expect(flows[0]!.hops.map((h) => [h.point, h.dir, `${h.src}:${h.sport}>${h.dst}:${h.dport}`, h.ttl, h.via])).toEqual([
      [0, 0, '198.51.100.10:40000>203.0.113.10:80', 64, 'start'],
      [0, 1, '203.0.113.10:80>198.51.100.10:40000', 63, 'start'],
      [1, 0, '198.51.100.10:40000>10.244.1.5:8080', 63, 'fingerprint'],
      [1, 1, '10.244.1.5:8080>198.51.100.10:40000', 64, 'fingerprint'],
    ]);
    expect(c.stats.linksByFingerprint).toBe(1);
  });

  it('counts a retransmission (same seq, new IP ID and TS) at a point without adding a hop', () => {
    const { flows, c } = collect((c) => {
      c.observe(obs({ point: 0, t: 1, ...C, ttl: 64, seq: 100, flags: SYN, tsval: 1 }));
      c.observe(obs({ point: 0, t: 1.1, ...C, ttl: 64, seq: 101, ack: 5, flags: ACK | PSH, len: 80, hash: 42, ipId: 2, tsval: 2 }));
      c.observe(obs({ point: 0, t: 1.3, ...C, ttl: 64, seq: 101, ack: 5, flags: ACK | PSH, len: 80, hash: 42, ipId: 3, tsval: 9 }));
      c.observe(obs({ point: 1, t: 1.301, ...P, ttl: 63, seq: 101, ack: 5, flags: ACK | PSH, len: 80, hash: 42, ipId: 3, tsval: 9 }));
    });
    expect(flows).toHaveLength(1);
    expect(flows[0]!.hops.filter((h) => h.dir === 0).map((h) => [h.point, h.retransmissions])).toEqual([[0, 1], [1, 0]]);
    expect(c.stats.retransmissions).toBe(1);
  });

  it('counts an identical copy at the same point within a millisecond as a duplicate, not a retransmission', () => {
    const { flows, c } = collect((c) => {
      c.observe(obs({ point: 0, t: 1, ...C, ttl: 64, seq: 100, flags: SYN, tsval: 1 }));
      c.observe(obs({ point: 0, t: 1.1, ...C, ttl: 64, seq: 101, flags: ACK | PSH, len: 10, hash: 5, tsval: 2 }));
      c.observe(obs({ point: 0, t: 1.1002, ...C, ttl: 64, seq: 101, flags: ACK | PSH, len: 10, hash: 5, tsval: 2 }));
    });
    expect(flows[0]!.hops[0]!.duplicates).toBe(1);
    expect(c.stats).toMatchObject({ duplicates: 1, retransmissions: 0 });
  });

  it('matches a GRO/TSO super-frame at one point with the first MSS segment at another, and the rest by the link', () => {
    const { flows } = collect((c) => {
      c.observe(obs({ point: 1, t: 1, ...P, ttl: 63, seq: 100, flags: SYN, tsval: 1 }));
      c.observe(obs({ point: 0, t: 1.0001, ...C, ttl: 64, seq: 100, flags: SYN, tsval: 1 }));
      c.observe(obs({ point: 1, t: 2, ...P, ttl: 63, seq: 101, flags: ACK | PSH, len: 7240, hash: 77, tsval: 3, ipId: 50 }));
      for (let i = 0; i < 5; i++) {
        c.observe(obs({ point: 0, t: 2.001 + i * 1e-5, ...C, ttl: 64, seq: 101 + i * 1448, flags: ACK | (i === 4 ? PSH : 0), len: 1448, hash: i === 0 ? 77 : 100 + i, tsval: 3, ipId: 50 + i }));
      }
    });
    expect(flows).toHaveLength(1);
    const orig = flows[0]!.hops.filter((h) => h.dir === 0);
    expect(orig.map((h) => [h.point, h.packets, h.superframes, h.retransmissions])).toEqual([[1, 2, 1, 0], [0, 6, 0, 0]]);
  });

  it('starts a new connection when a fresh SYN reuses a tuple (port reuse), but not for a SYN retransmission', () => {
    const { flows } = collect((c) => {
      c.observe(obs({ point: 0, t: 1, ...C, ttl: 64, seq: 100, flags: SYN, tsval: 1 }));
      c.observe(obs({ point: 0, t: 2, ...C, ttl: 64, seq: 100, flags: SYN, tsval: 1000 }));
      c.observe(obs({ point: 0, t: 3, ...C, ttl: 64, seq: 5000, flags: SYN, tsval: 2000 }));
    });
    expect(flows.map((f) => [f.synSeq, f.packets])).toEqual([[100, 2], [5000, 1]]);
  });

  it('joins a proxy hop to its client connection by the PROXY v2 header, even among identical requests', () => {
    const { flows } = collect((c) => {
      for (let k = 0; k < 3; k++) {
        const t = k * 0.01;
        const cli = { src: '198.51.100.10', sport: 41000 + k, dst: '203.0.113.10', dport: 80 };
        const up = { src: '172.18.1.10', sport: 50000 + k, dst: '10.244.1.5', dport: 8080 };
        c.observe(obs({ point: 0, t: 1 + t, ...cli, ttl: 64, seq: 10 + k, flags: SYN, tsval: 1 + k }));
        c.observe(obs({ point: 0, t: 1.001 + t, ...up, ttl: 64, seq: 70 + k, flags: SYN, tsval: 11 + k }));
        c.observe(obs({ point: 0, t: 1.002 + t, ...cli, ttl: 64, seq: 11 + k, flags: ACK | PSH, len: 80, hash: 999, tsval: 21 + k }));
        c.observe(obs({ point: 0, t: 1.003 + t, ...up, ttl: 64, seq: 71 + k, flags: ACK | PSH, len: 108, hash: 999, tsval: 31 + k,
          ppv2: { src: '198.51.100.10', sport: 41000 + k, dst: '203.0.113.10', dport: 80 } }));
      }
    }, { pointHost: ['nlb'] });
    const byPort = new Map(flows.map((f) => [f.hops[0]!.sport, f]));
    for (let k = 0; k < 3; k++) {
      const up = byPort.get(50000 + k)!;
      expect(up.upstream).toBe(byPort.get(41000 + k)!.id);
      expect(up.upstreamBy).toBe('ppv2');
    }
  });

  it('without a PROXY header, joins a proxied connection by its first application bytes where the upstream ended', () => {
    const { flows } = collect((c) => {
      const cli = { src: '198.51.100.10', sport: 41000, dst: '10.244.3.3', dport: 80 };
      const up = { src: '10.244.3.3', sport: 52000, dst: '10.244.1.5', dport: 8080 };
      c.observe(obs({ point: 0, t: 1, ...cli, ttl: 62, seq: 10, flags: SYN, tsval: 1 }));
      c.observe(obs({ point: 0, t: 1.01, ...cli, ttl: 62, seq: 11, flags: ACK | PSH, len: 80, hash: 4242, tsval: 2 }));
      c.observe(obs({ point: 1, t: 1.02, ...up, ttl: 64, seq: 70, flags: SYN, tsval: 3 }));
      c.observe(obs({ point: 1, t: 1.03, ...up, ttl: 64, seq: 71, flags: ACK | PSH, len: 120, hash: 4242, tsval: 4 }));
      // An unrelated connection with the same bytes from elsewhere must not be taken for a proxy hop.
      c.observe(obs({ point: 2, t: 1.04, src: '198.51.100.11', sport: 1234, dst: '10.244.9.9', dport: 80, ttl: 64, seq: 5, flags: SYN, tsval: 5 }));
      c.observe(obs({ point: 2, t: 1.05, src: '198.51.100.11', sport: 1234, dst: '10.244.9.9', dport: 80, ttl: 64, seq: 6, flags: ACK | PSH, len: 80, hash: 4242, tsval: 6 }));
    }, { pointHost: ['gateway', 'gateway', 'other'] });
    const [client, proxied, other] = [...flows].sort((a, b) => a.firstTime - b.firstTime);
    expect(proxied!.upstream).toBe(client!.id);
    expect(proxied!.upstreamBy).toBe('payload');
    expect(other!.upstream).toBe(-1);
  });

  it('keeps state only for connections in flight: finished connections are handed out and forgotten', () => {
    const emitted: number[] = [];
    const c = new Correlator({ onFlow: (f) => emitted.push(f.id), windowSec: 1, lingerSec: 1 });
    for (let k = 0; k < 200; k++) {
      const t = k * 0.5;
      const cli = { src: '198.51.100.10', sport: 30000 + k, dst: '203.0.113.10', dport: 80 };
      c.observe(obs({ point: 0, t, ...cli, ttl: 64, seq: k * 10, flags: SYN, tsval: k }));
      c.observe(obs({ point: 0, t: t + 0.01, ...cli, ttl: 64, seq: k * 10 + 1, flags: FIN | ACK, tsval: k + 1 }));
      c.observe(obs({ point: 0, t: t + 0.02, src: cli.dst, sport: 80, dst: cli.src, dport: cli.sport, ttl: 64, seq: 7, flags: FIN | ACK, tsval: k + 2 }));
      expect(c.connectionsInFlight).toBeLessThanOrEqual(6);
    }
    expect(emitted.length).toBeGreaterThan(190);
    c.finish();
    expect(emitted).toHaveLength(200);
    expect(c.stats.maxConnectionsInFlight).toBeLessThanOrEqual(6);
  });

  it('correlates IPv6 packets too, and prints their addresses in RFC 5952 form', () => {
    const v6 = (s: string) => {
      const o = obs({ point: 0, t: 1, ...C, ttl: 64, seq: 100, flags: SYN, tsval: 1 });
      o.l3 = 6;
      const set = (b: Uint8Array, last: number) => { b.fill(0); b[0] = 0x20; b[1] = 0x01; b[2] = 0x0d; b[3] = 0xb8; b[15] = last; };
      set(o.src6, 1);
      set(o.dst6, s === 'after' ? 3 : 2);
      o.point = s === 'after' ? 1 : 0;
      o.ttl = s === 'after' ? 63 : 64;
      return o;
    };
    const { flows } = collect((c) => { c.observe(v6('before')); c.observe(v6('after')); });
    expect(flows).toHaveLength(1);
    expect(flows[0]!.hops.filter((h) => h.dir === 0).map((h) => `${h.src} > ${h.dst}`)).toEqual(['2001:db8::1 > 2001:db8::2', '2001:db8::1 > 2001:db8::3']);
  });

  it('ignores what it cannot correlate (not TCP) and says so in its counts', () => {
    const { flows, c } = collect((c) => {
      const o = obs({ point: 0, t: 1, ...C, ttl: 64, seq: 0, flags: 0 });
      o.proto = 17;
      c.observe(o);
    });
    expect(flows).toHaveLength(0);
    expect(c.stats).toMatchObject({ packets: 1, ignored: 1, tcpPackets: 0 });
  });
});
