/**
 * The benchmark's synthetic capture: a deterministic mix of traffic shaped like the lab's
 * (mostly IPv4 TCP of varied sizes, UDP, IPv6, HTTP, and connections that start with PROXY v2),
 * written as pcap (ETHERNET, µs), pcapng (ETHERNET, ns EPBs) and pcap LINUX_SLL2.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  awsVpceTlv, concat, ethernet, FLAGS, httpRequest, httpResponse, echoBody, ip, ppv2, tcp, tcpOptions, udp, u16, u32,
} from '../fixtures/generate/packets.js';

export type Form = 'pcap' | 'pcapng' | 'sll2';

/** Distinct network packets (no link header) the capture cycles through. */
function templates(): Uint8Array[] {
  const out: Uint8Array[] = [];
  let seed = 12345;
  const rand = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  const client = (i: number) => `198.51.100.${10 + (i % 200)}`;
  for (let i = 0; i < 4096; i++) {
    const kind = rand(100);
    const sport = 30000 + rand(30000);
    const seq = rand(0x7fffffff);
    if (kind < 55) {
      const size = [0, 0, 64, 200, 512, 1200, 1448][rand(7)];
      const payload = new Uint8Array(size).map((_, j) => (j * 31 + i) & 0xff);
      out.push(ip(client(i), '10.244.1.5', 6, tcp({ src: client(i), dst: '10.244.1.5', sport, dport: 8080, seq, ack: seq ^ 0x5555, flags: size ? FLAGS.PSH | FLAGS.ACK : FLAGS.ACK, options: tcpOptions.ts(seq, seq >>> 3), payload }), { id: rand(65536), ttl: 62 }));
    } else if (kind < 70) {
      const payload = new Uint8Array(40 + rand(400));
      out.push(ip('172.18.0.3', '172.18.0.4', 17, udp('172.18.0.3', '172.18.0.4', sport, 53, payload), { id: rand(65536) }));
    } else if (kind < 85) {
      const payload = new Uint8Array(rand(2) ? 0 : 300 + rand(900));
      out.push(ip('2001:db8:100::10', '2001:db8:200::80', 6, tcp({ src: '2001:db8:100::10', dst: '2001:db8:200::80', sport, dport: 443, seq, ack: 1, flags: FLAGS.ACK, payload }), { ttl: 60 }));
    } else if (kind < 92) {
      const req = httpRequest('/', [['Host', 'echo.example'], ['User-Agent', 'curl/7.88.1'], ['X-Forwarded-For', client(i)]]);
      out.push(ip(client(i), '203.0.113.10', 6, tcp({ src: client(i), dst: '203.0.113.10', sport, dport: 80, seq, ack: 7, flags: FLAGS.PSH | FLAGS.ACK, payload: req }), { id: rand(65536) }));
    } else if (kind < 96) {
      const resp = httpResponse(200, echoBody('172.18.0.3', 'echo.example'));
      out.push(ip('203.0.113.10', client(i), 6, tcp({ src: '203.0.113.10', dst: client(i), sport: 80, dport: sport, seq, ack: 7, flags: FLAGS.PSH | FLAGS.ACK, payload: resp }), { id: rand(65536) }));
    } else {
      const hdr = ppv2({ command: 'PROXY', family: 'inet', src: client(i), dst: '203.0.113.10', sport, dport: 80, tlvs: [awsVpceTlv('vpce-0123456789abcdef0')], crc: 'good' });
      const req = httpRequest('/', [['Host', 'echo.example']]);
      out.push(ip('172.18.1.10', '10.244.1.5', 6, tcp({ src: '172.18.1.10', dst: '10.244.1.5', sport, dport: 8080, seq, ack: 1, flags: FLAGS.PSH | FLAGS.ACK, payload: concat(hdr, req) }), { id: rand(65536) }));
    }
  }
  return out;
}

function linkFrame(form: Form, packet: Uint8Array, i: number): Uint8Array {
  const type = (packet[0] >> 4) === 6 ? 0x86dd : 0x0800;
  if (form !== 'sll2') return ethernet(packet, type);
  return concat(u16(type), u16(0), u32(2 + (i % 3)), u16(1), Uint8Array.of(i % 5 === 0 ? 4 : 0, 6), new Uint8Array(8), packet);
}

/** Write `count` packets of `form` to `file`; returns the number of bytes written. */
export function writeSynthetic(file: string, form: Form, count: number): number {
  const frames = templates().map((p, i) => linkFrame(form, p, i));
  const fd = openSync(file, 'w');
  const buf = Buffer.alloc(8 * 1024 * 1024);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let used = 0;
  let total = 0;
  const flush = () => { writeSync(fd, buf, 0, used); total += used; used = 0; };
  if (form === 'pcapng') {
    const shb = Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex');
    shb.copy(buf, 0); used = shb.length;
    // IDB: ETHERNET, snaplen 262144, if_tsresol = 9 (nanoseconds).
    const idb = Buffer.from('010000001c000000010000000000040009000100090000001c000000', 'hex');
    idb.copy(buf, used); used += idb.length;
  } else {
    dv.setUint32(0, 0xa1b2c3d4, true); dv.setUint16(4, 2, true); dv.setUint16(6, 4, true);
    dv.setUint32(8, 0, true); dv.setUint32(12, 0, true); dv.setUint32(16, 262144, true); dv.setUint32(20, form === 'sll2' ? 276 : 1, true);
    used = 24;
  }
  const t0 = 1_700_000_000;
  for (let i = 0; i < count; i++) {
    const f = frames[i % frames.length];
    const padded = (f.length + 3) & ~3;
    if (used + f.length + 64 > buf.length) flush();
    const usec = i * 7;
    if (form === 'pcapng') {
      const blockLen = 32 + padded;
      const ns = BigInt(t0) * 1_000_000_000n + BigInt(usec) * 1000n;
      dv.setUint32(used, 6, true); dv.setUint32(used + 4, blockLen, true); dv.setUint32(used + 8, 0, true);
      dv.setUint32(used + 12, Number(ns >> 32n), true); dv.setUint32(used + 16, Number(ns & 0xffffffffn), true);
      dv.setUint32(used + 20, f.length, true); dv.setUint32(used + 24, f.length, true);
      buf.set(f, used + 28);
      buf.fill(0, used + 28 + f.length, used + 28 + padded);
      dv.setUint32(used + 28 + padded, blockLen, true);
      used += blockLen;
    } else {
      dv.setUint32(used, t0 + Math.floor(usec / 1e6), true); dv.setUint32(used + 4, usec % 1e6, true);
      dv.setUint32(used + 8, f.length, true); dv.setUint32(used + 12, f.length, true);
      buf.set(f, used + 16);
      used += 16 + f.length;
    }
  }
  flush();
  closeSync(fd);
  return total;
}
