#!/usr/bin/env node
/**
 * Sends gratuitous ARP (an ARP request for the VIP from the VIP, to broadcast) from a node's eth0,
 * as MetalLB's speaker does when it takes over an address, so the router's ARP cache moves to the
 * new leader at once. Debian's minimal install has no arping, so the frame is written with the
 * `cap` libpcap binding (pcap_sendpacket); when cap cannot load, `arping -U` is used if present.
 *
 * Usage (inside the node's namespace): garp.js --dev eth0 --ip VIP [--count 2] --lab-dir DIR
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { isMain } from '../lab/processes.js';

export function garpFrame(mac: string, ip: string): Buffer {
  const macBytes = Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
  const ipBytes = Buffer.from(ip.split('.').map(Number));
  const f = Buffer.alloc(42);
  f.fill(0xff, 0, 6);
  macBytes.copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14); // Ethernet
  f.writeUInt16BE(0x0800, 16); // IPv4
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(1, 20); // request: the form Linux and MetalLB send
  macBytes.copy(f, 22);
  ipBytes.copy(f, 28);
  // target hardware address stays zero; target protocol address = sender's
  ipBytes.copy(f, 38);
  return f;
}

function main(): number {
  const { values } = parseArgs({ options: { dev: { type: 'string', default: 'eth0' }, ip: { type: 'string' }, count: { type: 'string', default: '2' }, 'lab-dir': { type: 'string' } } });
  const dev = values.dev!;
  const ip = values.ip!;
  const mac = readFileSync(`/sys/class/net/${dev}/address`, 'utf8').trim();
  const frame = garpFrame(mac, ip);
  try {
    const { Cap } = createRequire(import.meta.url)('cap') as { Cap: new () => { open(d: string, f: string, n: number, b: Buffer): string; send(b: Buffer, n: number): void; close(): void } };
    const cap = new Cap();
    cap.open(dev, 'arp', 65536, Buffer.alloc(65536));
    for (let i = 0; i < Number(values.count); i++) cap.send(frame, frame.length);
    cap.close();
    process.stdout.write(`gratuitous ARP for ${ip} from ${mac} on ${dev} (cap)\n`);
    return 0;
  } catch (err) {
    const r = spawnSync('arping', ['-U', '-c', values.count!, '-I', dev, ip], { encoding: 'utf8' });
    if (r.status === 0) {
      process.stdout.write(`gratuitous ARP for ${ip} on ${dev} (arping)\n`);
      return 0;
    }
    process.stderr.write(`no way to send gratuitous ARP: cap failed (${String(err)}), arping ${r.error ? 'missing' : `exit ${r.status}`}\n`);
    return 2;
  }
}

if (isMain(import.meta.url)) process.exitCode = main();
