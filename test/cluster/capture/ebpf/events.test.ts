import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EventLineParser, type EbpfEvent } from '../../../../cluster/capture/ebpf/events.js';
import { EbpfRecordFiller } from '../../../../cluster/capture/ebpf/record.js';

const v4 = readFileSync('fixtures/ebpf/probe-output.txt');
const v6 = readFileSync('fixtures/ebpf/probe-output-ipv6.txt');
const CLIENT = 4026532177;
const SERVER = 4026532246;

/** The numbers of an event, as one string, so runs can be compared. */
function digest(ev: EbpfEvent): string {
  return [
    ev.family, ev.monoSec, ev.monoNsec, ev.netnsInode, ev.ifindex, ev.dev, ev.dir, ev.skb, ev.src4, ev.dst4,
    Buffer.from(ev.src6).toString('hex'), Buffer.from(ev.dst6).toString('hex'), ev.proto, ev.sport, ev.dport, ev.ipId,
    ev.ttl, ev.ipLen, ev.ipHeaderLen, ev.seq, ev.ack, ev.tcpFlags, ev.l4HeaderLen, ev.window, ev.tsval, ev.tsecr,
    ev.mss, ev.wscale, ev.payloadLen, ev.capLen, Buffer.from(ev.payload.subarray(0, ev.capLen)).toString('hex'),
  ].join(',');
}

function parseAll(data: Buffer, chunk = data.length): { parser: EventLineParser; events: string[] } {
  const parser = new EventLineParser(4);
  const events: string[] = [];
  for (let i = 0; i < data.length; i += chunk) parser.push(data.subarray(i, i + chunk), (ev) => events.push(digest(ev)));
  parser.finish((ev) => events.push(digest(ev)));
  return { parser, events };
}

const ip4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

describe('EventLineParser on real probe output', () => {
  it('finds every event, the ready marker and bpftrace\'s own lines', () => {
    const { parser, events } = parseAll(v4);
    expect(events).toHaveLength(64);
    expect(parser.events).toBe(64);
    expect(parser.malformed).toBe(0);
    expect(parser.lost).toBe(0);
    expect(parser.readyMonoNs).toBe(0x1214f86c273n);
    expect(parser.otherLines).toEqual(['Attaching 3 probes...']);
  });

  it('gives the same events whatever the chunk boundaries', () => {
    const whole = parseAll(v4).events;
    for (const chunk of [1, 3, 7, 64, 4096]) expect(parseAll(v4, chunk).events).toEqual(whole);
  });

  it('decodes the first SYN exactly, and sees it on both ends of the veth with one skb', () => {
    const parser = new EventLineParser(4);
    const seen: EbpfEvent[] = [];
    parser.push(v4, (ev) => seen.push({ ...ev, payload: ev.payload.slice(), src6: ev.src6.slice(), dst6: ev.dst6.slice() }));
    const [tx, rx] = seen;
    expect(tx).toMatchObject({
      family: 4, netnsInode: CLIENT, ifindex: 2, dev: 'eth0', dir: 1, proto: 6,
      sport: 44682, dport: 8080, ipId: 0x8eb9, ttl: 64, ipLen: 60, ipHeaderLen: 20,
      seq: 0xc87f63da, ack: 0, tcpFlags: 0x02, l4HeaderLen: 40, window: 64240,
      tsval: 0x2b176334, tsecr: 0, mss: 1460, wscale: 10, payloadLen: 0, capLen: 0,
    });
    expect(ip4(tx.src4)).toBe('198.51.100.10');
    expect(ip4(tx.dst4)).toBe('198.51.100.1');
    expect(tx.skb).toBe(0x888102eee2e0);
    expect(BigInt(tx.monoSec) * 1_000_000_000n + BigInt(tx.monoNsec)).toBe(0x122833f1544n);
    expect(rx).toMatchObject({ netnsInode: SERVER, dir: 0, skb: tx.skb, seq: tx.seq, ipId: tx.ipId, ttl: 64 });
  });

  it('reads the HTTP request line and the PROXY v2 header out of page-fragment payload', () => {
    const payloads: string[] = [];
    const ppv2: Buffer[] = [];
    new EventLineParser(4).push(v4, (ev) => {
      if (ev.capLen === 0) return;
      const bytes = Buffer.from(ev.payload.subarray(0, ev.capLen));
      payloads.push(bytes.toString('latin1'));
      if (bytes.subarray(0, 12).equals(Buffer.from('0d0a0d0a000d0a515549540a', 'hex'))) {
        ppv2.push(bytes);
        expect(ev.payloadLen).toBe(59);
        expect(ev.capLen).toBe(32);
      }
    });
    expect(payloads.filter((p) => p.startsWith('GET / HTTP/1.1\r\n'))).toHaveLength(2);
    expect(payloads.filter((p) => p.startsWith('POST /x HTTP/1.1'))).toHaveLength(2);
    expect(payloads.filter((p) => p.startsWith('HTTP/1.0 200 OK'))).toHaveLength(2);
    expect(ppv2).toHaveLength(2);
    // version 2, PROXY; inet/stream; 12 address bytes; 203.0.113.7:41234 → 198.51.100.1:8080; "GET "
    expect(ppv2[0].subarray(12).toString('hex')).toBe('2111000ccb007107c6336401a1121f90' + '47455420');
  });

  it('decodes IPv6 addresses and the payload length', () => {
    const parser = new EventLineParser(4);
    const seen: Array<{ src: string; dst: string; ipLen: number; payloadLen: number; family: number }> = [];
    parser.push(v6, (ev) => seen.push({
      family: ev.family,
      src: Buffer.from(ev.src6).toString('hex'),
      dst: Buffer.from(ev.dst6).toString('hex'),
      ipLen: ev.ipLen,
      payloadLen: ev.payloadLen,
    }));
    expect(parser.malformed).toBe(0);
    const v6Events = seen.filter((e) => e.family === 6);
    expect(v6Events.length).toBeGreaterThan(10);
    expect(v6Events[0]).toEqual({ family: 6, src: '20010db8000000000000000000000010', dst: '20010db8000000000000000000000001', ipLen: 80, payloadLen: 0 });
    expect(v6Events.some((e) => e.payloadLen > 0)).toBe(true);
  });
});

describe('EventLineParser on bpftrace\'s other output', () => {
  it('counts lost events', () => {
    const p = new EventLineParser(4);
    p.push(Buffer.from('Lost 12 events\nLost 3 events\n'), () => undefined);
    expect(p.lost).toBe(15);
    expect(p.events).toBe(0);
  });

  it('counts an event line that does not parse as malformed, and keeps going', () => {
    const p = new EventLineParser(4);
    const good = v4.toString('latin1').split('\n')[2];
    let n = 0;
    p.push(Buffer.from(`4 12zz f0000151 2 eth0 t\n${good.split(' ').slice(0, 10).join(' ')}\n${good}\n`), () => n++);
    expect(p.malformed).toBe(2);
    expect(n).toBe(1);
  });

  it('recognises the ready marker before its padded line ends', () => {
    const p = new EventLineParser(4);
    p.push(Buffer.from(`Attaching 3 probes...\nNETLAB-EBPF-READY 1f ${' '.repeat(100)}`), () => undefined);
    expect(p.readyMonoNs).toBe(0x1fn);
  });
});

describe('EventLineParser on request heads (H lines) and namespaces made mid-run (N lines)', () => {
  // The real client → server GET of the fixture: 81 payload bytes, the first 32 in the event line.
  const get = v4.toString('latin1').split('\n').find((l) => l.startsWith('4 1228351d14a '))!;
  const [, , ns, ifindex, , dir, skb] = get.split(' ');
  // What a gateway would have written after those 32 bytes ("GET / HTTP/1.1\r\nHost: 198.51.100").
  const rest = Buffer.alloc(64, 0x20);
  Buffer.from('.1\r\nX-Forwarded-For: 198.51.100.10\r\n\r\n').copy(rest);
  /** 64 bytes as the probe prints them: eight little-endian 64-bit loads in hex. */
  const words = (b: Buffer) => Array.from({ length: 8 }, (_, i) => b.readBigUInt64LE(i * 8).toString(16)).join(' ');
  const head = (key: string) => `H ${key} 20 ${words(rest)}\n`;

  it('joins the head printed before an event line to that event, up to the packet\'s payload', () => {
    const p = new EventLineParser(4, 128);
    const seen: Array<{ capLen: number; text: string }> = [];
    p.push(Buffer.from(head(`${ns} ${ifindex} ${dir} ${skb}`) + `${get}\n`), (ev) => seen.push({ capLen: ev.capLen, text: Buffer.from(ev.payload.subarray(0, ev.capLen)).toString('latin1') }));
    expect(p.malformed).toBe(0);
    expect(seen).toEqual([{ capLen: 81, text: `GET / HTTP/1.1\r\nHost: 198.51.100${rest.subarray(0, 49).toString('latin1')}` }]);
    // The same payload through the decoder's record filler finds the header.
    const filler = new EbpfRecordFiller();
    p.push(Buffer.from(head(`${ns} ${ifindex} ${dir} ${skb}`) + `${get}\n`), (ev) => {
      const rec = filler.fill(ev, 0, 0);
      expect(rec.http.present).toBe(true);
      expect(Buffer.from(rec.bytes.subarray(rec.http.xffOff, rec.http.xffOff + rec.http.xffLen)).toString()).toBe('198.51.100.10');
    });
  });

  it('gives a head only to its own packet (namespace, device, direction and skb)', () => {
    const p = new EventLineParser(4, 128);
    const caps: number[] = [];
    const otherDir = dir === 't' ? 'r' : 't';
    p.push(Buffer.from(head(`${ns} ${ifindex} ${otherDir} ${skb}`) + head(`${ns} 9 ${dir} ${skb}`) + `${get}\n`), (ev) => caps.push(ev.capLen));
    expect(caps).toEqual([32]);
    expect(p.malformed).toBe(0);
  });

  it('counts an H line past the head it was built for as malformed', () => {
    const p = new EventLineParser(4, 64);
    p.push(Buffer.from(`H ${ns} ${ifindex} ${dir} ${skb} 60 ${words(rest)}\nH 1 2 x 3 20 0\n`), () => undefined);
    expect(p.malformed).toBe(2);
  });

  it('learns the inode and name of a namespace the lab made while the probe ran', () => {
    const p = new EventLineParser(4);
    p.push(Buffer.from('N f00001a2 /run/netns/e2e12ab-pod-rg-deploy-echo-7f9c-x2x\n'), () => undefined);
    expect([...p.learned]).toEqual([[0xf00001a2, 'e2e12ab-pod-rg-deploy-echo-7f9c-x2x']]);
    expect(p.otherLines).toEqual([]);
  });
});
