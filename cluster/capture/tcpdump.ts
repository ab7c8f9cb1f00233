/**
 * tcpdump capturer: one `tcpdump -i any` per namespace (LINUX_SLL2: every interface of that
 * namespace in one file, with the interface index and direction of each packet), kernel
 * timestamps in nanoseconds, and the kernel's drop counter read from tcpdump's exit report.
 */
import path from 'node:path';
import type { ResultPromise } from 'execa';
import { NetlabError } from '../../analyzer/errors.js';
import { spawn } from '../exec/exec.js';
import { ifindexMap } from './ifindex.js';
import { prioritizeCapture } from './priority.js';
import { allReady, type CaptureTarget, type CapturedFile } from './points.js';

export interface RunningCapture {
  /**
   * Start capturing in one more namespace while running (a pod born mid-run); resolves once
   * capturing there. Capturers that cannot add points lack it.
   */
  add?(target: CaptureTarget): Promise<void>;
  /** Stop every capture, wait for files to be flushed, and return what each saw. */
  stop(): Promise<CapturedFile[]>;
}

/** Parse tcpdump's exit report ("N packets captured", "N packets dropped by kernel"). */
export function parseTcpdumpStats(stderr: string): { captured: number; dropped: number } {
  const num = (re: RegExp) => Number(stderr.match(re)?.[1] ?? NaN);
  return { captured: num(/(\d+) packets? captured/), dropped: num(/(\d+) packets? dropped by kernel/) };
}

/** What a `tcpdumpArgs` capture (`-i any`, SLL2) left, from its file and its exit statistics. */
export function tcpdumpCapturedFile(target: CaptureTarget, file: string, ifindexMap: Record<string, string>, stderr: string): CapturedFile {
  const stats = parseTcpdumpStats(stderr);
  return {
    target,
    file,
    linktype: 276,
    ifindexMap,
    interface: null,
    packets: Number.isNaN(stats.captured) ? 0 : stats.captured,
    dropped: Number.isNaN(stats.dropped) ? null : stats.dropped,
    timestampSource: 'kernel',
  };
}

/**
 * `-s 4096 -B 16384`: in immediate mode libpcap uses a TPACKET_V2 ring of fixed slots sized by the
 * snap length, so with `-s 0` (256 KiB slots) a 16 MiB ring holds only 64 packets, and a tcpdump
 * that stalls for a moment under load drops the rest (seen in e2e runs at load average 12; also
 * with 64 MiB = 256 slots). Measured here with tcpdump stopped while 2000 packets arrived:
 * `-s 0` kept 64 (16 MiB) / 256 (64 MiB); `-s 4096` kept 2000 of 2000 in 16 MiB (~3900 slots).
 * 4 KiB holds every header and the payload bytes the analyzer reads (PROXY headers, HTTP heads);
 * longer segments are kept truncated with their real length. Without immediate mode nothing was
 * handed over before SIGINT.
 */
export function tcpdumpArgs(file: string, filter: string): string[] {
  return ['-i', 'any', '-B', '16384', '-y', 'LINUX_SLL2', '-nn', '-U', '--immediate-mode', '-s', '4096', '--time-stamp-precision', 'nano', '-w', file, filter];
}

/**
 * Resolves once a tcpdump (run directly, in a container or in a pod) says "listening on"; rejects
 * when it ends first or stays silent for `timeoutMs`. Keeps its stderr for the exit statistics.
 */
export function captureReady(child: ResultPromise, opts: { what: string; timeoutMs: number; where?: string }): { ready: Promise<void>; stderrText: () => string } {
  let stderr = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new NetlabError(`${opts.what} did not start within ${opts.timeoutMs / 1000} s: ${stderr.trim() || 'no output'}`, { where: opts.where })), opts.timeoutMs);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/listening on/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void child.then((r) => {
      clearTimeout(timer);
      reject(new NetlabError(`${opts.what} ended before capturing: ${stderr.trim() || `exit ${r.exitCode}`}`, { where: opts.where }));
    });
  });
  return { ready, stderrText: () => stderr };
}

function startOne(target: CaptureTarget, outDir: string, filter: string, readyTimeoutMs: number) {
  const file = path.join(outDir, `${target.name.replaceAll('/', '_')}.pcap`);
  const child = spawn('tcpdump', tcpdumpArgs(file, filter), { netns: target.netns, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', buffer: false });
  // `ip netns exec` execs tcpdump in place, so this pid is tcpdump's.
  prioritizeCapture(child.pid);
  const { ready, stderrText } = captureReady(child, { what: `tcpdump in ${target.netns}`, timeoutMs: readyTimeoutMs });
  return { target, file, child, ready, stderrText };
}

export async function startTcpdump(targets: CaptureTarget[], outDir: string, filter: string, readyTimeoutMs = 10_000): Promise<RunningCapture> {
  const procs = targets.map((target) => startOne(target, outDir, filter, readyTimeoutMs));
  await allReady(procs);
  // Resolve names now, in each capture's own namespace: reading them later elsewhere is wrong.
  const running = await Promise.all(procs.map(async (proc) => ({ proc, map: await ifindexMap(proc.target.netns) })));
  /**
   * Devices come and go while capturing (a pod born mid-run adds a veth to its node): look again
   * in every namespace that still exists, keeping the names of devices since removed.
   */
  const refresh = () =>
    Promise.all(running.map(async (r) => {
      r.map = { ...r.map, ...(await ifindexMap(r.proc.target.netns).catch(() => ({}))) };
    }));
  return {
    async add(target) {
      const proc = startOne(target, outDir, filter, readyTimeoutMs);
      await allReady([proc]);
      running.push({ proc, map: {} });
      await refresh();
    },
    async stop() {
      await refresh();
      for (const { proc } of running) proc.child.kill('SIGINT');
      await Promise.all(running.map(({ proc }) => proc.child));
      return running.map(({ proc, map }) => tcpdumpCapturedFile(proc.target, proc.file, map, proc.stderrText()));
    },
  };
}
