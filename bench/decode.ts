/**
 * `npm run bench:decode`: netlab's full decode against `tcpdump -r F -w /dev/null` and npm
 * pcap-parser on a synthetic capture of ≥ 2M packets in pcap, pcapng and LINUX_SLL2 forms, plus
 * the same decode fed through a stdin pipe. Every contender runs as its own single-threaded
 * process under /usr/bin/time (wall time, peak RSS), netlab and tcpdump in alternating pairs.
 * A framing-only Node loop (bench/framing-floor.ts) shows the ceiling any Node decoder has here;
 * `node -e 0` and a loop of 64 KiB reads alone (bench/read-floor.ts) show what of it is fixed cost.
 * When the environment sets NODE_EXTRA_CA_CERTS (every Node process then parses those certificates
 * at start, before any of netlab's code runs), netlab is also timed without it, reported apart.
 * Bars (issue 2): netlab ≥ 2x tcpdump for every form, peak RSS < 200 MB, pipe ≤ 2x slower than file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSynthetic, type Form } from './synthetic.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheDir = path.join(root, 'bench', '.cache');
const PACKETS = Number(process.env.BENCH_PACKETS ?? 2_200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLI = path.join(root, 'dist', 'cli', 'main.js');
const PCAP_PARSER = path.join(root, 'dist', 'bench', 'pcap-parser-frames.js');
const FLOOR = path.join(root, 'dist', 'bench', 'framing-floor.js');
const READ_FLOOR = path.join(root, 'dist', 'bench', 'read-floor.js');
const EXTRA_CA = process.env.NODE_EXTRA_CA_CERTS !== undefined;

interface Run { seconds: number; cpu: number; maxRssMb: number; stdout: string }

function timed(cmd: string, args: string[], stdinFrom?: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    let feeder: ChildProcess | undefined;
    if (stdinFrom !== undefined) feeder = spawn('cat', [stdinFrom], { stdio: ['ignore', 'pipe', 'inherit'] });
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], { stdio: [feeder?.stdout ?? 'ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = err.trim().split('\n').at(-1) ?? '';
      const [sec, user, sys, kb] = last.split(' ').map(Number);
      if (code !== 0 || !Number.isFinite(sec)) { reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.trim()}`)); return; }
      resolve({ seconds: sec, cpu: user + sys, maxRssMb: kb / 1024, stdout: out });
    });
  });
}

const withoutExtraCa = (): NodeJS.ProcessEnv => { const env = { ...process.env }; delete env.NODE_EXTRA_CA_CERTS; return env; };
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (n: number, d = 2) => n.toFixed(d);

function ensureCapture(form: Form): string {
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `synthetic-${PACKETS}.${form === 'pcapng' ? 'pcapng' : form === 'sll2' ? 'sll2.pcap' : 'pcap'}`);
  if (!existsSync(file)) {
    process.stdout.write(`writing ${path.relative(root, file)} (${PACKETS} packets)… `);
    const bytes = writeSynthetic(`${file}.tmp`, form, PACKETS);
    // Rename only when complete so an interrupted run is not reused.
    renameSync(`${file}.tmp`, file);
    process.stdout.write(`${fmt(bytes / 1e6, 0)} MB\n`);
  }
  return file;
}

function packetsSeen(summaryText: string): number {
  const m = /^packets:\s+(\d+)$/m.exec(summaryText);
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  if (!existsSync('/usr/bin/time')) throw new Error('bench:decode needs /usr/bin/time (apt-get install time)');
  process.stdout.write(`bench:decode — ${PACKETS} packets per form, ${ROUNDS} alternating rounds, one process per run\n`);
  const rows: string[][] = [['form', 'contender', 'wall s', 'packets/s', 'MB/s', 'CPU s', 'packets/CPU-s', 'peak RSS MB', 'vs tcpdump (wall)', 'vs tcpdump (CPU)']];
  const verdicts: string[] = [];
  for (const form of ['pcap', 'pcapng', 'sll2'] as Form[]) {
    const file = ensureCapture(form);
    const size = statSync(file).size;
    const netlab: Run[] = [];
    const tcpdump: Run[] = [];
    const pipe: Run[] = [];
    const parser: Run[] = [];
    const floor: Run[] = [];
    const nodeStart: Run[] = [];
    const readOnly: Run[] = [];
    const noCa: Run[] = [];
    const pairRatios: number[] = [];
    const pairCpuRatios: number[] = [];
    const noCaPairRatios: number[] = [];
    const noCaPairCpuRatios: number[] = [];
    // Warm the page cache so the first contender is not penalised.
    await timed('dd', [`if=${file}`, 'of=/dev/null', 'bs=4M']);
    for (let r = 0; r < ROUNDS; r++) {
      const runNetlab = () => timed('node', [CLI, 'decode', file, '--format', 'summary']);
      const runTcpdump = () => timed('tcpdump', ['-r', file, '-w', '/dev/null']);
      let a: Run, b: Run;
      if (r % 2 === 0) { a = await runNetlab(); b = await runTcpdump(); } else { b = await runTcpdump(); a = await runNetlab(); }
      if (packetsSeen(a.stdout) !== PACKETS) throw new Error(`netlab decoded ${packetsSeen(a.stdout)} packets, expected ${PACKETS}`);
      netlab.push(a);
      tcpdump.push(b);
      pairRatios.push(b.seconds / a.seconds);
      pairCpuRatios.push(b.cpu / a.cpu);
      if (EXTRA_CA) {
        const c = await timed('node', [CLI, 'decode', file, '--format', 'summary'], undefined, withoutExtraCa());
        if (packetsSeen(c.stdout) !== PACKETS) throw new Error(`netlab decoded ${packetsSeen(c.stdout)} packets, expected ${PACKETS}`);
        noCa.push(c);
        noCaPairRatios.push(b.seconds / c.seconds);
        noCaPairCpuRatios.push(b.cpu / c.cpu);
      }
      pipe.push(await timed('node', [CLI, 'decode', '-', '--format', 'summary'], file));
      if (form === 'pcap') parser.push(await timed('node', [PCAP_PARSER, file]));
      const f = await timed('node', [FLOOR, file]);
      if (packetsSeen(f.stdout) !== PACKETS) throw new Error(`framing floor saw ${packetsSeen(f.stdout)} packets, expected ${PACKETS}`);
      floor.push(f);
      nodeStart.push(await timed('node', ['-e', '0']));
      readOnly.push(await timed('node', [READ_FLOOR, file]));
    }
    const tcpWall = median(tcpdump.map((x) => x.seconds));
    const tcpCpu = median(tcpdump.map((x) => x.cpu));
    // `perPacket` false: a fixed cost (Node's start) that reads no packets, so no rates or ratios.
    const row = (name: string, runs: Run[], perPacket = true) => {
      const s = median(runs.map((x) => x.seconds));
      const c = median(runs.map((x) => x.cpu));
      const rate = (v: string) => (perPacket ? v : '-');
      rows.push([form, name, fmt(s), rate(`${fmt(PACKETS / s / 1e6)}M`), rate(fmt(size / s / 1e6, 0)), fmt(c), rate(`${fmt(PACKETS / c / 1e6)}M`),
        fmt(Math.max(...runs.map((x) => x.maxRssMb)), 0), rate(`${fmt(tcpWall / s)}x`), rate(`${fmt(tcpCpu / c)}x`)]);
      return s;
    };
    const sNet = row('netlab decode (file)', netlab);
    if (noCa.length > 0) row('netlab decode (file), NODE_EXTRA_CA_CERTS unset', noCa);
    const sPipe = row('netlab decode (stdin pipe)', pipe);
    row('tcpdump -r F -w /dev/null', tcpdump);
    if (parser.length > 0) row('npm pcap-parser (frames only)', parser);
    row('Node framing floor (64 KiB reads, no decode)', floor);
    row('Node 64 KiB reads only', readOnly);
    row('Node start (node -e 0)', nodeStart, false);
    const pairs = median(pairRatios);
    const cpuPairs = median(pairCpuRatios);
    const rss = Math.max(...netlab.map((x) => x.maxRssMb), ...pipe.map((x) => x.maxRssMb));
    verdicts.push(`${form}: netlab vs tcpdump, paired medians: ${fmt(pairs)}x by wall time, ${fmt(cpuPairs)}x by CPU time (bar ≥ 2x: ${pairs >= 2 ? 'met' : 'NOT met'}); pipe/file ${fmt(sPipe / sNet)}x slower (bar ≤ 2x: ${sPipe / sNet <= 2 ? 'met' : 'NOT met'}); peak RSS ${fmt(rss, 0)} MB (bar < 200: ${rss < 200 ? 'met' : 'NOT met'})`);
    if (noCa.length > 0) verdicts.push(`${form}: the same without NODE_EXTRA_CA_CERTS (not the bar's setting): ${fmt(median(noCaPairRatios))}x by wall time, ${fmt(median(noCaPairCpuRatios))}x by CPU time`);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}\n`);
  process.stdout.write(`\n${verdicts.join('\n')}\n(on a shared machine wall times mostly measure the scheduler: CPU-time ratios from alternating pairs are the numbers to trust)\n`);
}

await main();
