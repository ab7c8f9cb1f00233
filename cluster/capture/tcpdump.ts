/**
 * tcpdump capturer: one `tcpdump -i any` per namespace (LINUX_SLL2: every interface of that
 * namespace in one file, with the interface index and direction of each packet), kernel
 * timestamps in nanoseconds, and the kernel's drop counter read from tcpdump's exit report.
 */
import path from 'node:path';
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

/**
 * `-B 65536`: libpcap's TPACKET_V3 ring is made of 256 KiB blocks, and in immediate mode the
 * kernel hands a block over after 1 ms even if it holds one packet, so the ring is as many
 * milliseconds of traffic as it has blocks before tcpdump must read. The default 2 MiB (8 blocks)
 * dropped 1–2 of 200 packets of a plain HTTP exchange here; 16 MiB (64 blocks) dropped none on a
 * quiet machine but 4–12 packets in about half the e2e runs while other labs loaded it (load
 * average 12 on 2 cores), even at nice −10; 64 MiB (256 blocks) is a quarter second. Without
 * immediate mode the ring's blocks were never handed over before SIGINT and nothing was written.
 */
export function tcpdumpArgs(file: string, filter: string): string[] {
  return ['-i', 'any', '-B', '65536', '-y', 'LINUX_SLL2', '-nn', '-U', '--immediate-mode', '-s', '0', '--time-stamp-precision', 'nano', '-w', file, filter];
}

function startOne(target: CaptureTarget, outDir: string, filter: string, readyTimeoutMs: number) {
  const file = path.join(outDir, `${target.name.replaceAll('/', '_')}.pcap`);
  const child = spawn('tcpdump', tcpdumpArgs(file, filter), { netns: target.netns, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', buffer: false });
  // `ip netns exec` execs tcpdump in place, so this pid is tcpdump's.
  prioritizeCapture(child.pid);
  let stderr = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new NetlabError(`tcpdump in ${target.netns} did not start within ${readyTimeoutMs} ms: ${stderr.trim()}`)), readyTimeoutMs);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/listening on/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void child.then((r) => {
      clearTimeout(timer);
      reject(new NetlabError(`tcpdump in ${target.netns} exited before capturing: ${String(r.stderr ?? stderr).trim() || `exit ${r.exitCode}`}`));
    });
  });
  return { target, file, child, ready, stderrText: () => stderr };
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
      return running.map(({ proc, map }) => {
        const stats = parseTcpdumpStats(proc.stderrText());
        return {
          target: proc.target,
          file: proc.file,
          linktype: 276,
          ifindexMap: map,
          interface: null,
          packets: Number.isNaN(stats.captured) ? 0 : stats.captured,
          dropped: Number.isNaN(stats.dropped) ? null : stats.dropped,
          timestampSource: 'kernel' as const,
        };
      });
    },
  };
}
