/**
 * bench:decode's ceiling for any Node decoder on this machine: the same 64 KiB synchronous reads
 * as netlab's fast path, walking little-endian pcap records or pcapng blocks and folding a few
 * IPv4/TCP fields (what LAB-NOTES' hand-written reader did), nothing else. Not a decoder: it
 * assumes the synthetic captures (little-endian, Ethernet or SLL2, well-formed).
 */
import { openSync, readSync } from 'node:fs';

const READ = 64 * 1024;
const fd = openSync(process.argv[2], 'r');
const buf = new Uint8Array(READ + 512 * 1024);
const head = readSync(fd, buf, 0, 4, null);
const pcapng = head === 4 && buf[0] === 0x0a && buf[1] === 0x0d;
let carry = pcapng ? 4 : 0;
let first = true;
let packets = 0;
let acc = 0;
const u32 = (p: number) => (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0;
for (let n = readSync(fd, buf, carry, READ, null); n > 0; n = readSync(fd, buf, carry, READ, null)) {
  const len = carry + n;
  let p = 0;
  if (first && !pcapng) { p = 20; first = false; } // the pcap file header (4 bytes already read)
  while (len - p >= 16) {
    const unit = pcapng ? u32(p + 4) : 16 + u32(p + 8);
    if (len - p < unit) break;
    if (!pcapng || u32(p) === 6) {
      const l2 = pcapng ? p + 28 : p + 16;
      const ip = l2 + (buf[l2 + 12] === 0x08 || buf[l2 + 12] === 0x86 ? 14 : 20);
      acc ^= u32(ip + 12) ^ u32(ip + 16) ^ ((buf[ip + 4] << 8) | buf[ip + 5]) ^ u32(ip + 24) ^ buf[ip + 33];
      packets++;
    }
    p += unit;
  }
  buf.copyWithin(0, p, len);
  carry = len - p;
}
process.stdout.write(`packets: ${packets}\n(fold ${acc})\n`);
