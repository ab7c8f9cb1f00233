/**
 * `npm run bench:ebpf` (root): the eBPF source against the pcap source on the same traffic.
 *
 * A UDP flood from the client through the router's DNAT to the server (dropped there by
 * iptables, so no replies or ICMP), at several packet rates. Each packet is one event on each of
 * the four traced devices. For each rate, three runs: no capture (baseline), the eBPF probe
 * (bpftrace + netlab's parser, writing pcapng like a capture run does), and tcpdump -w (one per
 * namespace, `-i any`, the same filter). Printed per run: packets offered, events/packets
 * recorded, lost, and CPU per 1000 recorded packets — the consumers' own CPU time from
 * /proc/<pid>/stat, and the whole machine's extra busy time over the baseline from /proc/stat
 * (which includes the kernel side: the BPF program, or libpcap's ring copies).
 *
 * Options: --rates 5000,10000,0 (packets/s, 0 = as fast as the sender can) --seconds 3
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEbpfCapture } from '../cluster/capture/ebpf/capture.js';
import { GATEWAY_REQUEST_HEAD_BYTES, LAB_RANGES } from '../cluster/capture/run.js';
import { EventLineParser } from '../cluster/capture/ebpf/events.js';
import { EbpfRecordFiller } from '../cluster/capture/ebpf/record.js';
import { resolveNamespaces } from '../cluster/capture/ebpf/netns.js';
import { run, spawn } from '../cluster/exec/exec.js';
import { BACKEND, FRONTEND, createDnatTestbed, uniquePrefix, type Testbed } from './testbed/dnat.js';
import { udpFlood } from './testbed/udp.js';

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** utime + stime of a process, in ms. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** irq_work interrupts (IWI) on all CPUs: the kernel raises one to wake a perf-buffer reader. */
function irqWorkInterrupts(): number {
  const line = readFileSync('/proc/interrupts', 'utf8').split('\n').find((l) => l.trim().startsWith('IWI:'));
  if (!line) return 0;
  return line.trim().split(/\s+/).slice(1).filter((f) => /^\d+$/.test(f)).reduce((a, f) => a + Number(f), 0);
}

/** Busy time of the whole machine (all CPUs), in ms. */
function machineBusyMs(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - cpu[3] - cpu[4]) * TICK_MS;
}

interface Row {
  rate: string;
  source: string;
  sent: number;
  recorded: number;
  lost: number;
  eventsPerSec: number;
  consumerMsPer1k: number;
  /** For ebpf: bpftrace's share of consumerMsPer1k (the rest is netlab's parser and pcapng writer). */
  probeMsPer1k: number;
  machineMs: number;
  irqWork: number;
  /** Packets the sender got through, against the run without capture at the same rate. */
  kept: number;
}

async function baseline(bed: Testbed, rate: number, seconds: number): Promise<Row> {
  const m0 = machineBusyMs();
  const i0 = irqWorkInterrupts();
  const flood = await udpFlood(bed.plan.namespaces.client, FRONTEND.ip, FRONTEND.port, rate, seconds * 1000);
  const m1 = machineBusyMs();
  return {
    rate: String(rate || 'max'), source: 'none', sent: flood.sent, recorded: 0, lost: 0, eventsPerSec: 0, consumerMsPer1k: 0, probeMsPer1k: 0,
    machineMs: m1 - m0, irqWork: irqWorkInterrupts() - i0, kept: 1,
  };
}

async function ebpfRun(bed: Testbed, rate: number, seconds: number, outDir: string): Promise<Row> {
  const ns = bed.plan.namespaces;
  const traced = await resolveNamespaces([ns.client, ns.router, ns.server], (n) => n.split('-').slice(1).join('-'));
  // The probe as `netlab capture` runs it: namespaces learned at creation, the lab's address
  // ranges, request heads kept (the flood's UDP payload is no request, so no H lines).
  const capture = await startEbpfCapture({
    namespaces: traced,
    ports: [FRONTEND.port, BACKEND.port],
    outDir,
    learnNetnsPrefix: `${ns.client.split('-')[0]}-`,
    addresses: LAB_RANGES,
    requestHeadBytes: GATEWAY_REQUEST_HEAD_BYTES,
  });
  await capture.ready;
  const pid = capture.pid!;
  const b0 = processCpuMs(pid);
  const s0 = processCpuMs(process.pid);
  const m0 = machineBusyMs();
  const i0 = irqWorkInterrupts();
  const flood = await udpFlood(ns.client, FRONTEND.ip, FRONTEND.port, rate, seconds * 1000);
  // Let the probe drain what is still buffered before reading its CPU.
  await new Promise((r) => setTimeout(r, 500));
  const m1 = machineBusyMs();
  const i1 = irqWorkInterrupts();
  const b1 = processCpuMs(pid);
  const s1 = processCpuMs(process.pid);
  const summary = await capture.stop();
  const events = Math.max(summary.events, 1);
  return {
    rate: String(rate || 'max'), source: 'ebpf', sent: flood.sent, recorded: summary.events, lost: summary.lost,
    eventsPerSec: summary.events / (flood.ms / 1000), consumerMsPer1k: ((b1 - b0 + (s1 - s0)) / events) * 1000,
    probeMsPer1k: ((b1 - b0) / events) * 1000, machineMs: m1 - m0, irqWork: i1 - i0, kept: 1,
  };
}

async function pcapRun(bed: Testbed, rate: number, seconds: number, outDir: string): Promise<Row> {
  const ns = bed.plan.namespaces;
  const filter = ['udp', 'port', String(FRONTEND.port), 'or', 'udp', 'port', String(BACKEND.port), 'or', 'tcp', 'port', String(FRONTEND.port), 'or', 'tcp', 'port', String(BACKEND.port)];
  const procs = [ns.client, ns.router, ns.server].map((n) =>
    spawn('tcpdump', ['-i', 'any', '-n', '-s', '0', '-w', path.join(outDir, `${n}.pcap`), ...filter], { netns: n, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', buffer: false }),
  );
  const stderr = procs.map(() => '');
  await Promise.all(
    procs.map((p, i) => new Promise<void>((resolve) => {
      p.stderr?.on('data', (d: Buffer) => {
        stderr[i] += String(d);
        if (stderr[i].includes('listening on')) resolve();
      });
    })),
  );
  const pids = procs.map((p) => p.pid!);
  const c0 = pids.reduce((a, pid) => a + processCpuMs(pid), 0);
  const m0 = machineBusyMs();
  const i0 = irqWorkInterrupts();
  const flood = await udpFlood(ns.client, FRONTEND.ip, FRONTEND.port, rate, seconds * 1000);
  // libpcap hands over a TPACKET_V3 block when it fills or after its 1 s timeout; tcpdump drops
  // a block still open at exit, so wait for the last one to be retired.
  await new Promise((r) => setTimeout(r, 1200));
  const m1 = machineBusyMs();
  const i1 = irqWorkInterrupts();
  const c1 = pids.reduce((a, pid) => a + processCpuMs(pid), 0);
  for (const p of procs) p.kill('SIGINT');
  await Promise.all(procs);
  let captured = 0;
  let dropped = 0;
  for (const text of stderr) {
    captured += Number(/(\d+) packets? captured/.exec(text)?.[1] ?? 0);
    dropped += Number(/(\d+) packets? dropped by kernel/.exec(text)?.[1] ?? 0);
  }
  return {
    rate: String(rate || 'max'), source: 'pcap', sent: flood.sent, recorded: captured, lost: dropped,
    eventsPerSec: captured / (flood.ms / 1000), consumerMsPer1k: ((c1 - c0) / Math.max(captured, 1)) * 1000, probeMsPer1k: 0,
    machineMs: m1 - m0, irqWork: i1 - i0, kept: 1,
  };
}

/** Events/s of EventLineParser + EbpfRecordFiller on the committed real probe output, repeated. */
function parserThroughput(): number {
  const lines = readFileSync('fixtures/ebpf/probe-output.txt', 'latin1').split('\n').filter((l) => l.startsWith('4 ')).join('\n');
  const data = Buffer.from(`${lines}\n`.repeat(4000));
  const parser = new EventLineParser(4);
  const filler = new EbpfRecordFiller();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < data.length; i += 4096) parser.push(data.subarray(i, i + 4096), (ev) => filler.fill(ev, 0, 0));
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  return parser.events / sec;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench:ebpf needs root (namespaces, bpftrace, tcpdump)\n');
    process.exitCode = 2;
    return;
  }
  const rates = arg('rates', '5000,10000,20000,0').split(',').map(Number);
  const seconds = Number(arg('seconds', '3'));
  const bed = await createDnatTestbed(uniquePrefix());
  const outDir = mkdtempSync(path.join(tmpdir(), 'netlab-bench-ebpf-'));
  // An interrupted run must still remove its namespaces.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void bed.destroy().finally(() => {
        rmSync(outDir, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
  const rows: Row[] = [];
  try {
    // Drop the flood at the server so it makes no replies or ICMP errors.
    await run('iptables', ['-A', 'INPUT', '-p', 'udp', '--dport', String(BACKEND.port), '-j', 'DROP'], { netns: bed.plan.namespaces.server });
    process.stdout.write(`bench:ebpf — UDP flood client → router DNAT → server, 4 traced devices, ${seconds} s per run, ${(await run('nproc', [])).stdout.trim()} CPUs\n`);
    for (const rate of rates) {
      const base = await baseline(bed, rate, seconds);
      const ebpf = await ebpfRun(bed, rate, seconds, outDir);
      const pcap = await pcapRun(bed, rate, seconds, outDir);
      for (const r of [ebpf, pcap]) r.kept = r.sent / Math.max(base.sent, 1);
      for (const r of [base, ebpf, pcap]) rows.push(r);
      const extra = (r: Row) => (r.recorded > 0 ? ((r.machineMs - base.machineMs * (r.sent / Math.max(base.sent, 1))) / r.recorded) * 1000 : 0);
      for (const r of [base, ebpf, pcap]) {
        process.stdout.write(
          `rate ${r.rate.padStart(6)}  ${r.source.padEnd(5)} sent ${String(r.sent).padStart(7)} pkts  recorded ${String(r.recorded).padStart(7)}  lost ${String(r.lost).padStart(5)}  ` +
            `${Math.round(r.eventsPerSec).toString().padStart(7)} recorded/s  consumer CPU ${r.consumerMsPer1k.toFixed(2).padStart(6)} ms/1000` +
            `${r.source === 'ebpf' ? ` (bpftrace ${r.probeMsPer1k.toFixed(2)})` : ''}  machine +${extra(r).toFixed(2).padStart(6)} ms/1000  ` +
            `irq_work ${(r.irqWork / Math.max(r.recorded || r.sent, 1)).toFixed(2)}/${r.recorded ? 'recorded' : 'sent'}\n`,
        );
      }
      const ratio = pcap.consumerMsPer1k > 0 ? `${(ebpf.consumerMsPer1k / pcap.consumerMsPer1k).toFixed(1)}x` : 'n/a (tcpdump below the 10 ms clock tick)';
      const machineRatio = extra(pcap) > 0.5 ? `${(extra(ebpf) / extra(pcap)).toFixed(1)}x` : 'n/a (pcap within baseline noise)';
      process.stdout.write(
        `rate ${String(rate || 'max').padStart(6)}  ebpf/pcap per 1000 recorded packets: consumer CPU ${ratio}, machine CPU ${machineRatio}; ` +
          `traffic the sender got through: ebpf ${(ebpf.sent / Math.max(base.sent, 1)).toFixed(2)}x, pcap ${(pcap.sent / Math.max(base.sent, 1)).toFixed(2)}x of no capture\n`,
      );
    }
    const ebpfRows = rows.filter((r) => r.source === 'ebpf');
    const sustained = ebpfRows.filter((r) => r.lost === 0 && r.kept >= 0.95).sort((a, b) => b.eventsPerSec - a.eventsPerSec)[0];
    const firstLoss = ebpfRows.filter((r) => r.lost > 0).sort((a, b) => a.eventsPerSec - b.eventsPerSec)[0];
    const slowed = ebpfRows.filter((r) => r.kept < 0.95).sort((a, b) => a.eventsPerSec - b.eventsPerSec)[0];
    const probeCost = ebpfRows.reduce((a, r) => a + r.probeMsPer1k, 0) / Math.max(ebpfRows.length, 1);
    const consumerCost = ebpfRows.reduce((a, r) => a + r.consumerMsPer1k, 0) / Math.max(ebpfRows.length, 1);
    process.stdout.write(
      `ebpf: sustained without loss or slowing the traffic: ${sustained ? Math.round(sustained.eventsPerSec) : 'none'} events/s; ` +
        `first loss: ${firstLoss ? `${firstLoss.lost} events at ${Math.round(firstLoss.eventsPerSec)} events/s` : 'none'}; ` +
        `traffic slowed below 0.95x from: ${slowed ? `${Math.round(slowed.eventsPerSec)} events/s (kept ${slowed.kept.toFixed(2)}x)` : 'never'}\n` +
        `ebpf: user-space cost ${consumerCost.toFixed(2)} ms CPU per 1000 events (bpftrace ${probeCost.toFixed(2)}), so one core of consumers saturates near ${Math.round(1e6 / consumerCost)} events/s\n`,
    );
    const parser = parserThroughput();
    process.stdout.write(`parser alone (fixtures/ebpf/probe-output.txt, 4 KiB chunks, one core): ${Math.round(parser)} events/s\n`);
  } finally {
    await bed.destroy();
    rmSync(outDir, { recursive: true, force: true });
  }
}

await main();
