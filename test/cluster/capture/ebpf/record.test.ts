import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { L3 } from '../../../../analyzer/decode/record.js';
import { EventLineParser } from '../../../../cluster/capture/ebpf/events.js';
import { EbpfRecordFiller } from '../../../../cluster/capture/ebpf/record.js';

const v4 = readFileSync('fixtures/ebpf/probe-output.txt');
const ip4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const text = (b: Uint8Array, off: number, len: number) => Buffer.from(b.subarray(off, off + len)).toString('latin1');

interface Kept {
  dir: number; skb: number; tsSec: number; tsNsec: number; l3: number; src: string; dst: string; sport: number; dport: number;
  ipId: number; seq: number; flags: number; tsval: number; mss: number; payloadLen: number; payloadHash: number;
  caplen: number; origLen: number; pktType: number;
  ppv2: null | { command: number; family: string; src: string; dst: string; sport: number; dport: number; headerLen: number };
  http: null | { request: boolean; method: string; path: string; status: number };
}

function records(wallSec: number, wallNsec: number): Kept[] {
  const filler = new EbpfRecordFiller();
  const out: Kept[] = [];
  new EventLineParser(4).push(v4, (ev) => {
    const rec = filler.fill(ev, wallSec, wallNsec);
    out.push({
      dir: rec.dir, skb: rec.skb, tsSec: rec.tsSec, tsNsec: rec.tsNsec, l3: rec.l3, src: ip4(rec.src4), dst: ip4(rec.dst4),
      sport: rec.sport, dport: rec.dport, ipId: rec.ipId, seq: rec.seq, flags: rec.tcpFlags, tsval: rec.tsval, mss: rec.mss,
      payloadLen: rec.payloadLen, payloadHash: rec.payloadHash, caplen: rec.caplen, origLen: rec.origLen, pktType: rec.pktType,
      ppv2: rec.ppv2.present
        ? { command: rec.ppv2.command, family: rec.ppv2.family, src: ip4(rec.ppv2.src4), dst: ip4(rec.ppv2.dst4), sport: rec.ppv2.sport, dport: rec.ppv2.dport, headerLen: rec.ppv2.headerLen }
        : null,
      http: rec.http.present
        ? {
            request: rec.http.isRequest,
            method: rec.http.isRequest ? text(rec.bytes, rec.http.methodOff, rec.http.methodLen) : '',
            path: rec.http.isRequest ? text(rec.bytes, rec.http.pathOff, rec.http.pathLen) : '',
            status: rec.http.status,
          }
        : null,
    });
  });
  return out;
}

describe('EbpfRecordFiller', () => {
  const all = records(1_700_000_000, 999_999_999);

  it('fills the analyzer fields of the first SYN', () => {
    expect(all[0]).toMatchObject({
      l3: L3.IPV4, src: '198.51.100.10', dst: '198.51.100.1', sport: 44682, dport: 8080, ipId: 0x8eb9,
      seq: 0xc87f63da, flags: 0x02, tsval: 0x2b176334, mss: 1460, payloadLen: 0, pktType: 4, dir: 1,
      // Ethernet 14 + IPv4 20 + TCP 40, nothing truncated
      caplen: 74, origLen: 74,
    });
  });

  it('adds the wall-clock offset to the monotonic time with a carry', () => {
    // 0x122833f1544 ns = 1247.742465348 s monotonic
    expect(all[0].tsSec).toBe(1_700_000_000 + 1247 + 1);
    expect(all[0].tsNsec).toBe(742_465_348 + 999_999_999 - 1e9);
  });

  it('marks segments without a timestamp option with -1, and keeps it when present', () => {
    expect(all.every((r) => r.tsval > 0)).toBe(true);
    const filler = new EbpfRecordFiller();
    const ev = new EventLineParser(4);
    ev.push(Buffer.from(`4 1 7 2 eth0 t 1 a6433c6 16433c6 6 8aae 901f 1 40 2800 14 1 0 4 14 0 0 0 0 ff 0 0 0 0 0\n`), (e) => filler.fill(e, 0, 0));
    const rec = filler.record;
    expect(rec.tsval).toBe(-1);
    expect(rec.tcpFlags).toBe(0x04);
  });

  it('finds the HTTP request line, the status line and the PROXY v2 header', () => {
    const http = all.filter((r) => r.http).map((r) => r.http);
    expect(http).toContainEqual({ request: true, method: 'GET', path: '/', status: -1 });
    expect(http).toContainEqual({ request: true, method: 'POST', path: '/x', status: -1 });
    expect(http).toContainEqual({ request: false, method: '', path: '', status: 200 });
    const ppv2 = all.filter((r) => r.ppv2);
    expect(ppv2).toHaveLength(2);
    expect(ppv2[0].ppv2).toEqual({ command: 1, family: 'inet', src: '203.0.113.7', dst: '198.51.100.1', sport: 41234, dport: 8080, headerLen: 28 });
    // Only "GET " of the request after the header fits in 32 bytes: too little to call it HTTP.
    expect(ppv2[0].http).toBeNull();
    // truncated after 32 payload bytes: Ethernet + IPv4 + TCP(32) + 32
    expect(ppv2[0].caplen).toBe(14 + 20 + 32 + 32);
    expect(ppv2[0].origLen).toBe(14 + 20 + 32 + 59);
  });

  it('gives both observations of a packet the same skb, IP ID, sequence and payload hash', () => {
    for (let i = 0; i < all.length; i += 2) {
      const [tx, rx] = [all[i], all[i + 1]];
      expect(tx.dir).toBe(1);
      expect(rx.dir).toBe(0);
      expect({ skb: rx.skb, ipId: rx.ipId, seq: rx.seq, hash: rx.payloadHash }).toEqual({ skb: tx.skb, ipId: tx.ipId, seq: tx.seq, hash: tx.payloadHash });
    }
    expect(new Set(all.filter((r) => r.payloadLen > 0).map((r) => r.payloadHash)).size).toBeGreaterThan(3);
  });
});
