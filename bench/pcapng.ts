/**
 * `npm run bench:pcapng`: the annotated-pcapng writer against mergecap (Wireshark's k-way merge),
 * on the same synthetic per-point captures, at two sizes. Each run is a child process, so its peak
 * RSS is its own: the writer's memory should not grow with the number of packets.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAnnotatedPcapng, type PacketAnnotation } from '../analyzer/report/pcapng/index.js';

const POINTS = 4;
const COMMENTS = 2000;
const CACHE = path.resolve('bench/.cache/pcapng');

/** An Ethernet/IPv4/TCP frame with a 40-byte payload; addresses from the lab's documentation ranges. */
function frame(point: number, i: number): Buffer {
  const b = Buffer.alloc(14 + 20 + 20 + 40);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(80, 16);
  b.writeUInt16BE(i & 0xffff, 18);
  b[22] = 64 - point;
  b[23] = 6;
  b.writeUInt32BE(0xc6336400 + 10, 26); // 198.51.100.10
  b.writeUInt32BE(0xcb007100 + 10, 30); // 203.0.113.10
  b.writeUInt16BE(40000 + (i % 20000), 34);
  b.writeUInt16BE(80, 36);
  b.writeUInt32BE(i, 38);
  b[46] = 0x50;
  b[47] = 0x18;
  return b;
}

/** One point's pcap (microseconds): packet i at 1 ms * i + point µs, so the points interleave. */
function writeInput(file: string, point: number, packets: number): void {
  const fd = openSync(file, 'w');
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  writeSync(fd, header);
  const batch: Buffer[] = [];
  for (let i = 0; i < packets; i++) {
    const data = frame(point, i);
    const rec = Buffer.alloc(16);
    const us = 1_700_000_000_000_000 + i * 1000 + point;
    rec.writeUInt32LE(Math.floor(us / 1e6), 0);
    rec.writeUInt32LE(us % 1e6, 4);
    rec.writeUInt32LE(data.length, 8);
    rec.writeUInt32LE(data.length, 12);
    batch.push(rec, data);
    if (batch.length >= 8192) writeSync(fd, Buffer.concat(batch.splice(0)));
  }
  if (batch.length > 0) writeSync(fd, Buffer.concat(batch));
  closeSync(fd);
}

function inputs(packetsPerPoint: number): string[] {
  mkdirSync(CACHE, { recursive: true });
  return Array.from({ length: POINTS }, (_, p) => {
    const file = path.join(CACHE, `p${p}-${packetsPerPoint}.pcap`);
    if (!existsSync(file)) writeInput(file, p, packetsPerPoint);
    return file;
  });
}

async function child(out: string, files: string[]): Promise<void> {
  const per = Math.floor(COMMENTS / files.length);
  const annotations: PacketAnnotation[] = files.flatMap((_, p) =>
    Array.from({ length: per }, (__, k) => ({ point: `p${p}`, n: 1 + k * 97, comment: `f${k} hop ${p + 1}: DNAT 203.0.113.10:80 → 172.18.0.3:31234 by nlb` })),
  );
  const t0 = process.hrtime.bigint();
  const r = await writeAnnotatedPcapng(out, files.map((file, p) => ({ name: `p${p}`, file, role: 'node' })), annotations);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ packets: r.packets, commented: r.commented, seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

function timed(file: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  execFileSync(file, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3]!, process.argv.slice(4));
  const self = fileURLToPath(import.meta.url);
  const rows: string[] = [];
  for (const perPoint of [250_000, 1_000_000]) {
    const files = inputs(perPoint);
    const out = path.join(CACHE, 'out.pcapng');
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const c = spawnSync(process.execPath, [self, '--child', out, ...files], { encoding: 'utf8' });
      if (c.status !== 0) throw new Error(`child failed: ${c.stderr}`);
      runs.push(JSON.parse(c.stdout) as { packets: number; commented: number; seconds: number; maxRssMiB: number });
    }
    const mine = runs.sort((a, b) => a.seconds - b.seconds)[1]!;
    const outBytes = statSync(out).size;
    const peer = [0, 1, 2].map(() => timed('mergecap', ['-F', 'pcapng', '-w', path.join(CACHE, 'peer.pcapng'), ...files])).sort((a, b) => a - b)[1]!;
    rows.push(
      `${String(mine.packets).padStart(9)} packets (${POINTS} points, ${mine.commented} commented): netlab ${mine.seconds.toFixed(2)} s = ${(mine.packets / mine.seconds / 1e6).toFixed(2)} M packets/s, ` +
        `peak RSS ${mine.maxRssMiB.toFixed(0)} MiB, out ${(outBytes / 2 ** 20).toFixed(0)} MiB; mergecap ${peer.toFixed(2)} s; netlab/mergecap time ${(mine.seconds / peer).toFixed(2)}x`,
    );
    rmSync(out, { force: true });
    rmSync(path.join(CACHE, 'peer.pcapng'), { force: true });
  }
  process.stdout.write(`annotated pcapng merge (medians of 3)\n${rows.join('\n')}\n`);
}

await main();
