/**
 * npm run bench:correlate — the correlator's throughput and memory on synthesised packet records
 * (no decoding: records are fed straight in). Each flow is a full HTTP exchange (handshake, request,
 * bulk reply, close) seen at 6 points of an instance-mode path, with DNAT at the load balancer and
 * DNAT+SNAT at the node, so every point holds a different tuple for the same packet.
 *
 * Each run is a separate child process so its peak RSS is its own. The peer, measured in the same
 * run, is the straightforward design: a Map from a string fingerprint per packet, never pruned.
 * The claim: the correlator's memory follows the connections in flight, not the packets seen.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Correlator } from '../analyzer/correlate/correlator.js';
import { Observation } from '../analyzer/correlate/observation.js';
import { TCP_FLAG } from '../analyzer/decode/record.js';

const { SYN, ACK, PSH, FIN } = TCP_FLAG;
const POINTS = 6;
const VIP = (203 << 24 | 0 << 16 | 113 << 8 | 10) >>> 0;
const NODE = (172 << 24 | 18 << 16 | 0 << 8 | 3) >>> 0;
const POD = (10 << 24 | 244 << 16 | 1 << 8 | 5) >>> 0;
const CLIENT_NET = (198 << 24 | 51 << 16 | 100 << 8) >>> 0;

/** Per-flow packets (direction, flags, payload length) of one HTTP exchange with a 10-segment reply. */
const SCRIPT: Array<[number, number, number]> = [
  [0, SYN, 0], [1, SYN | ACK, 0], [0, ACK, 0], [0, ACK | PSH, 120],
  ...Array.from({ length: 10 }, (_, i): [number, number, number] => [1, ACK | (i === 9 ? PSH : 0), 1448]),
  [0, ACK, 0], [0, FIN | ACK, 0], [1, FIN | ACK, 0], [0, ACK, 0],
];

interface FlowGen { id: number; step: number; cseq: number; sseq: number; ipId: number }

/**
 * Emit `records` observations (packets × 6 points) with `inFlight` flows interleaved, into `sink`.
 * One Observation object is refilled for every record, as the decoder path does.
 */
function generate(records: number, inFlight: number, sink: (o: Observation) => void): void {
  const o = new Observation();
  o.l3 = 4;
  o.proto = 6;
  const flows: FlowGen[] = [];
  let nextId = 0;
  const fresh = (): FlowGen => {
    const id = nextId++;
    return { id, step: 0, cseq: Math.imul(id, 2654435761) >>> 0, sseq: Math.imul(id ^ 0x5bd1e995, 40503) >>> 0, ipId: (id * 13) & 0xffff };
  };
  for (let i = 0; i < inFlight; i++) flows.push(fresh());
  let emitted = 0;
  let time = 1_700_000_000;
  let slot = 0;
  while (emitted < records) {
    const f = flows[slot]!;
    const [dir, flags, len] = SCRIPT[f.step]!;
    const client = (CLIENT_NET | (f.id & 0xff)) >>> 0;
    const cport = 1024 + ((f.id >>> 8) % 60000);
    const snatPort = 20000 + (f.id % 40000);
    o.seq = dir === 0 ? f.cseq : f.sseq;
    o.ack = flags & ACK ? (dir === 0 ? f.sseq : f.cseq) : 0;
    o.tcpFlags = flags;
    o.payloadLen = len;
    o.appLen = len;
    o.payloadHash = len ? (o.seq ^ 0x9e3779b9) >>> 0 : 0;
    o.appHash = o.payloadHash;
    o.tsval = (f.id * 1000 + f.step) >>> 0;
    o.ipId = (f.ipId + f.step) & 0xffff || 1;
    for (let step = 0; step < POINTS; step++) {
      // Requests walk the path from the client (point 0), replies from the pod (point 5).
      const p = dir === 0 ? step : POINTS - 1 - step;
      // The orig tuple at each point: client → VIP, after the NLB's DNAT → node:NodePort, after kube-proxy → pod.
      let s = client, sp = cport, d = VIP, dp = 80;
      if (p >= 2) { d = NODE; dp = 31234; }
      if (p >= 4) { s = NODE; sp = snatPort; d = POD; dp = 8080; }
      o.point = p;
      o.n = emitted + 1;
      o.time = time + step * 1e-6;
      o.ttl = 64 - (step >> 1);
      if (dir === 0) { o.src4 = s; o.sport = sp; o.dst4 = d; o.dport = dp; } else { o.src4 = d; o.sport = dp; o.dst4 = s; o.dport = sp; }
      sink(o);
      if (++emitted === records) break;
    }
    if (dir === 0) f.cseq = (f.cseq + len + (flags & (SYN | FIN) ? 1 : 0)) >>> 0;
    else f.sseq = (f.sseq + len + (flags & (SYN | FIN) ? 1 : 0)) >>> 0;
    time += 100e-6;
    if (++f.step === SCRIPT.length) flows[slot] = fresh();
    slot = (slot + 1) % inFlight;
  }
}

type Mode = 'generate' | 'correlator' | 'naive';

/**
 * Memory still reachable at the end of the input (after a full GC): JS heap plus typed-array
 * buffers (the correlator's tables live there). What the design keeps, not what V8 has yet to collect.
 */
function liveHeapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
}

function child(mode: Mode, records: number, inFlight: number): void {
  let liveMb = 0;
  let connections = 0;
  let maxInFlight = 0;
  let sink: (o: Observation) => void;
  let done: () => void = () => undefined;
  if (mode === 'generate') {
    let x = 0;
    sink = (o) => { x ^= o.seq; };
    done = () => { connections = x & 1; };
  } else if (mode === 'correlator') {
    const c = new Correlator({ onFlow: () => { connections++; } });
    sink = (o) => c.observe(o);
    done = () => { maxInFlight = c.stats.maxConnectionsInFlight; liveMb = liveHeapMb(); c.finish(); };
  } else {
    // The peer: remember every packet's fingerprint (as a string key) and the flow it belongs to.
    const seen = new Map<string, number>();
    sink = (o) => {
      const key = `${o.seq}/${o.ack}/${o.tcpFlags}/${o.tsval}/${o.ipId}/${o.payloadHash}`;
      const f = seen.get(key);
      if (f === undefined) seen.set(key, o.n);
    };
    done = () => { connections = seen.size; liveMb = liveHeapMb(); };
  }
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  generate(records, inFlight, sink);
  done();
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  process.send!({ mode, records, inFlight, liveMb, sec, cpuSec: (cpu.user + cpu.system) / 1e6, maxRssMb: process.resourceUsage().maxRSS / 1024, connections, maxInFlight });
}

interface Row { liveMb: number; mode: Mode; records: number; inFlight: number; sec: number; cpuSec: number; maxRssMb: number; connections: number; maxInFlight: number }

function measure(mode: Mode, records: number, inFlight: number): Promise<Row> {
  return new Promise((resolve, reject) => {
    const p = fork(fileURLToPath(import.meta.url), ['--child', mode, String(records), String(inFlight)], { execArgv: ['--max-old-space-size=8192', '--expose-gc'] });
    p.on('message', (m) => resolve(m as Row));
    p.on('exit', (code) => { if (code !== 0) reject(new Error(`${mode} ${records} exited ${code}`)); });
  });
}

async function main(): Promise<void> {
  const big = Number(process.env.BENCH_RECORDS ?? 12_000_000);
  const runs: Array<[number, number]> = [[big / 6, 1000], [big / 2, 1000], [big, 1000], [big, 10_000]];
  // The naive peer only where it is comparable (same flows in flight); it is slow and memory-hungry.
  process.stdout.write(`correlator: ${POINTS} points, ${SCRIPT.length} packets per flow; each line a fresh process\n\n`);
  // CPU seconds, not wall time: this machine is shared, and CPU time is what the correlator costs.
  process.stdout.write('records      in flight | correlator: records/CPU-s  live mem   peak RSS  max conns in flight | naive peer: records/CPU-s  live mem   peak RSS\n');
  for (const [records0, inFlight] of runs) {
    const records = Math.round(records0);
    const gen = await measure('generate', records, inFlight);
    const cor = await measure('correlator', records, inFlight);
    const naive = inFlight === 1000 ? await measure('naive', records, inFlight) : null;
    const rate = records / Math.max(1e-9, cor.cpuSec - gen.cpuSec);
    const naiveCell = naive
      ? `${(records / Math.max(1e-9, naive.cpuSec - gen.cpuSec) / 1e6).toFixed(2).padStart(6)}M     ${naive.liveMb.toFixed(0).padStart(5)} MB  ${naive.maxRssMb.toFixed(0).padStart(5)} MB`
      : '-';
    process.stdout.write(`${String(records).padEnd(12)} ${String(inFlight).padEnd(9)} | ${(rate / 1e6).toFixed(2).padStart(6)}M                ${cor.liveMb.toFixed(0).padStart(5)} MB  ${cor.maxRssMb.toFixed(0).padStart(5)} MB  ${String(cor.maxInFlight).padStart(8)}            | ${naiveCell}\n`);
  }
  process.stdout.write('\nrecords/CPU-s exclude the generator (measured alone in its own process). Live memory (JS heap + typed arrays after a full GC) should stay flat as records\ngrow at a fixed number of flows in flight (rows 1-3) and grow with flows in flight (row 4); the naive peer grows with every packet.\n');
}

if (process.argv[2] === '--child') child(process.argv[3] as Mode, Number(process.argv[4]), Number(process.argv[5]));
else await main();
