/**
 * Runs the probe and turns its output into capture points: one point per (namespace, device),
 * named `<namespace>:<device>` as the analyzer names the per-interface points of a `-i any`
 * capture, each with the analyzer's packet records and (with `outDir`) its own pcapng file, so
 * `netlab analyze DIR` needs nothing eBPF-specific (manifest.ts writes the manifest entries).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureTracefs } from './tracefs.js';
import { NetlabError, UsageError } from '../../../analyzer/errors.js';
import { spawn, which } from '../../exec/exec.js';
import { EventLineParser, type EbpfEvent } from './events.js';
import type { TracedNamespace } from './netns.js';
import { PcapngWriter } from './pcapng.js';
import { detectPageAddressing } from './pages.js';
import { buildProbeProgram, tracepointCount, type PageAddressing } from './program.js';
import { waitForAttach } from './attach.js';
import { EbpfRecordFiller, type EbpfPacketRecord } from './record.js';
import { ReorderBuffer } from './reorder.js';
import { prioritizeCapture } from '../priority.js';

/**
 * How long events wait to be put back in time order (reorder.ts). Longer than bpftrace's batches
 * get on a loaded machine; the analyzer matches copies of a packet within 2 s anyway.
 */
export const REORDER_LAG_NS = 2e9;

export interface EbpfPoint {
  /** Position in the point list (records carry it as `point`). */
  index: number;
  /** `<namespace>:<device>`. */
  name: string;
  /** The traced namespace's label, or its `ip netns` name when the probe learned it while running. */
  namespace: string;
  netnsInode: number;
  interface: string;
  ifindex: number;
  /** The point's pcapng file inside outDir (relative), or null without outDir. */
  file: string | null;
  /** Packets seen at this point (receive + transmit). */
  packets: number;
}

export interface EbpfCaptureOptions {
  namespaces: readonly TracedNamespace[];
  /** Ports of the scenario's traffic (service, node, target, health-check ports); empty = all TCP/UDP. */
  ports?: readonly number[];
  /** Payload bytes kept per packet in 8-byte words (default 4; up to 8). */
  payloadWords?: number;
  /** Called for every packet with a reused record: copy what you keep. */
  onRecord?: (record: EbpfPacketRecord, point: EbpfPoint) => void;
  /** Write `probe.bt`, one pcapng per point, `ebpf.pcapng` (every point) and `ebpf.json` here. */
  outDir?: string;
  /** Per-CPU perf ring buffer size in pages (bpftrace's BPFTRACE_PERF_RB_PAGES; default 1024). */
  perfBufferPages?: number;
  /** How long to wait for the probe to compile and attach (default 60 s; about 5 s on an idle machine). */
  readyTimeoutMs?: number;
  /** Override page addressing for payload in page fragments (default: detected). */
  pages?: PageAddressing | null;
  /**
   * Also trace namespaces whose `ip netns` name starts with this (e.g. `lab-`) from the moment
   * they are created (pods born mid-run); their points are named by that `ip netns` name.
   */
  learnNetnsPrefix?: string;
  /** IPv4 networks (`a.b.c.d/len`) a packet's source or destination must be in; default: any. */
  addresses?: readonly string[];
  /** HTTP request head bytes kept past `payloadWords` (multiple of 64, up to 512; default 0). */
  requestHeadBytes?: number;
}

export interface EbpfCaptureSummary {
  /** Events parsed (one per packet per device). */
  events: number;
  /** Events the kernel dropped because bpftrace did not keep up (its "Lost N events" lines). */
  lost: number;
  /** Lines that looked like events but did not parse. */
  malformed: number;
  /** Events that came more than REORDER_LAG_NS late and are out of time order in the files. */
  lateEvents: number;
  /** The furthest an event arrived behind a newer one (ms): how out of order bpftrace printed. */
  maxBehindMs: number;
  points: EbpfPoint[];
  /** bpftrace's pid, for CPU accounting by benchmarks. */
  pid: number | undefined;
  /** Non-event output of bpftrace other than its known harmless warnings. */
  messages: string[];
  /** Namespaces created while the probe ran and traced from then on: inode → `ip netns` name. */
  learned: Array<{ inode: number; netns: string }>;
}

export interface EbpfCapture {
  /** Resolves once every tracepoint is attached (the kernel holds them; see attach.ts). */
  ready: Promise<void>;
  /** bpftrace's pid. */
  pid: number | undefined;
  /** Points seen so far. */
  points(): readonly EbpfPoint[];
  /** Stop the probe, drain its output, close the files. */
  stop(): Promise<EbpfCaptureSummary>;
}

/** bpftrace prints these on every start on this kind of machine; they change nothing. */
const HARMLESS = [/RLIMIT_MEMLOCK/, /Addrspace is not set/, /^Attaching \d+ probes?/];

function fileNameFor(pointName: string): string {
  return `ebpf-${pointName.replace(/[^A-Za-z0-9_.-]+/g, '_')}.pcapng`;
}

/** Wall clock minus CLOCK_MONOTONIC (the probe's `nsecs`), as seconds + nanoseconds. */
function wallOffset(): { sec: number; nsec: number } {
  const mono = process.hrtime.bigint();
  const wall = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  const off = wall - mono;
  return { sec: Number(off / 1_000_000_000n), nsec: Number(off % 1_000_000_000n) };
}

export async function startEbpfCapture(opts: EbpfCaptureOptions): Promise<EbpfCapture> {
  const bpftrace = await which('bpftrace');
  if (!bpftrace) {
    throw new NetlabError('bpftrace is not installed', { hint: 'apt-get install -y bpftrace (see netlab doctor)' });
  }
  if ((await ensureTracefs()) === 'missing') {
    throw new NetlabError('tracefs is not mounted, so the net tracepoints cannot be attached', { hint: 'run as root, or mount -t tracefs nodev /sys/kernel/tracing' });
  }
  const names = new Set(opts.namespaces.map((n) => n.name));
  if (names.size !== opts.namespaces.length) {
    throw new UsageError('two traced namespaces share a name, so their points would too', 'give each namespace its own name');
  }
  const payloadWords = opts.payloadWords ?? 4;
  const pages = opts.pages === undefined ? await detectPageAddressing() : opts.pages;
  const requestHeadBytes = opts.requestHeadBytes ?? 0;
  const programOptions = {
    inodes: opts.namespaces.map((n) => n.inode),
    ports: opts.ports ?? [],
    payloadWords,
    pages,
    learnNetnsPrefix: opts.learnNetnsPrefix ? `/run/netns/${opts.learnNetnsPrefix}` : null,
    addresses: opts.addresses ?? [],
    requestHeadBytes,
  };
  const program = buildProbeProgram(programOptions);
  const nameOf = new Map(opts.namespaces.map((n) => [n.inode, n.name]));

  let programArgs: string[] = ['-e', program];
  let merged: PcapngWriter | null = null;
  if (opts.outDir) {
    await mkdir(opts.outDir, { recursive: true });
    const probeFile = path.join(opts.outDir, 'probe.bt');
    await writeFile(probeFile, program);
    programArgs = [probeFile];
    merged = new PcapngWriter(path.join(opts.outDir, 'ebpf.pcapng'));
  }

  const points: EbpfPoint[] = [];
  const writers: Array<PcapngWriter | null> = [];
  const mergedIds: number[] = [];
  // (inode, ifindex) → point index; ifindex is below 2^20 on any real system.
  const pointIndex = new Map<number, number>();
  const filler = new EbpfRecordFiller();
  const clock = wallOffset();

  const pointFor = (ev: EbpfEvent): number => {
    const key = ev.netnsInode * 1048576 + ev.ifindex;
    let idx = pointIndex.get(key);
    if (idx === undefined) {
      idx = points.length;
      const namespace = nameOf.get(ev.netnsInode) ?? parser.learned.get(ev.netnsInode) ?? `netns-${ev.netnsInode}`;
      const name = `${namespace}:${ev.dev}`;
      const file = opts.outDir ? fileNameFor(name) : null;
      points.push({ index: idx, name, namespace, netnsInode: ev.netnsInode, interface: ev.dev, ifindex: ev.ifindex, file, packets: 0 });
      if (opts.outDir && file) {
        const w = new PcapngWriter(path.join(opts.outDir, file));
        w.addInterface(name, `eBPF ${ev.dev} (ifindex ${ev.ifindex}) in netns inode ${ev.netnsInode}`);
        writers.push(w);
      } else {
        writers.push(null);
      }
      mergedIds.push(merged ? merged.addInterface(name, `eBPF ${ev.dev} (ifindex ${ev.ifindex}) in netns inode ${ev.netnsInode}`) : -1);
      pointIndex.set(key, idx);
    }
    return idx;
  };

  const onEvent = (ev: EbpfEvent): void => {
    const idx = pointFor(ev);
    const point = points[idx];
    const record = filler.fill(ev, clock.sec, clock.nsec);
    point.packets++;
    record.n = point.packets;
    record.point = idx;
    const w = writers[idx];
    if (w) w.packet(0, record.tsSec, record.tsNsec, record.bytes, record.caplen, record.origLen, ev.dir, ev.skb);
    if (merged) merged.packet(mergedIds[idx], record.tsSec, record.tsNsec, record.bytes, record.caplen, record.origLen, ev.dir, ev.skb);
    opts.onRecord?.(record, point);
  };

  const parser = new EventLineParser(payloadWords, requestHeadBytes);
  const reorder = new ReorderBuffer(REORDER_LAG_NS, payloadWords + requestHeadBytes / 8, onEvent);
  const hold = (ev: EbpfEvent): void => reorder.push(ev);
  const stderrParser = new EventLineParser(0);
  const proc = spawn(bpftrace, ['-B', 'full', ...programArgs], {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    // STRLEN: room for the longest /run/netns/<lab>-pod-<namespace>-<pod> path in `N` lines.
    env: { BPFTRACE_PERF_RB_PAGES: String(opts.perfBufferPages ?? 1024), BPFTRACE_STRLEN: '128' },
  });

  prioritizeCapture(proc.pid);

  let readyResolve!: () => void;
  let readyReject!: (err: Error) => void;
  let isReady = false;
  let attaching = false;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  // A caller that only awaits stop() must not see an unhandled rejection.
  ready.catch(() => undefined);

  let ended = false;
  proc.stdout?.on('data', (chunk: Buffer) => {
    parser.push(chunk, hold);
    if (!attaching && parser.readyMonoNs !== null && proc.pid !== undefined) {
      attaching = true;
      waitForAttach(proc.pid, tracepointCount(programOptions), () => !ended).then(
        () => {
          isReady = true;
          readyResolve();
        },
        // the exit handler reports why
        () => undefined,
      );
    }
  });
  const ignoreEvent = () => undefined;
  proc.stderr?.on('data', (chunk: Buffer) => stderrParser.push(chunk, ignoreEvent));

  const messages = (): string[] =>
    [...parser.otherLines, ...stderrParser.otherLines].filter((l) => !HARMLESS.some((re) => re.test(l)));

  const done = proc.then((result) => {
    ended = true;
    if (!isReady) {
      const why = messages().slice(-3).join(' | ') || `exit ${result.exitCode ?? result.signal}`;
      readyReject(new NetlabError(`the eBPF probe did not start: ${why}`, {
        where: `bpftrace ${programArgs[0] === '-e' ? '-e <program>' : programArgs[0]}`,
        hint: 'run netlab doctor (bpftrace, BTF, tracefs) and check that you are root',
      }));
    }
    return result;
  });

  const timeout = setTimeout(() => {
    if (!isReady) {
      readyReject(new NetlabError(`the eBPF probe did not attach within ${opts.readyTimeoutMs ?? 60000} ms`, { hint: 'run netlab doctor' }));
      proc.kill('SIGKILL');
    }
  }, opts.readyTimeoutMs ?? 60000);
  void ready.finally(() => clearTimeout(timeout)).catch(() => undefined);

  const stop = async (): Promise<EbpfCaptureSummary> => {
    clearTimeout(timeout);
    if (!ended) proc.kill('SIGINT');
    await done;
    parser.finish(hold);
    reorder.flush();
    stderrParser.finish(ignoreEvent);
    for (const w of writers) w?.close();
    merged?.close();
    // A namespace's first packet can be printed before its N line (they come through different
    // CPUs' buffers): name such points now.
    for (const p of points) {
      const netns = nameOf.has(p.netnsInode) ? undefined : parser.learned.get(p.netnsInode);
      if (netns !== undefined) {
        p.namespace = netns;
        p.name = `${netns}:${p.interface}`;
      }
    }
    const summary: EbpfCaptureSummary = {
      events: parser.events,
      lost: parser.lost + stderrParser.lost,
      malformed: parser.malformed,
      lateEvents: reorder.lateEvents,
      maxBehindMs: Math.round(reorder.maxBehindNs / 1e4) / 100,
      points: points.map((p) => ({ ...p })),
      pid: proc.pid,
      messages: messages(),
      learned: [...parser.learned].map(([inode, netns]) => ({ inode, netns })),
    };
    if (opts.outDir) {
      await writeFile(
        path.join(opts.outDir, 'ebpf.json'),
        `${JSON.stringify({ source: 'ebpf', probe: 'probe.bt', merged: 'ebpf.pcapng', namespaces: opts.namespaces, ports: opts.ports ?? [], addresses: opts.addresses ?? [], requestHeadBytes, ...summary, pid: undefined }, null, 2)}\n`,
      );
    }
    if (!isReady) await ready;
    return summary;
  };

  return { ready, pid: proc.pid, points: () => points, stop };
}
