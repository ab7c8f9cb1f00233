/** The `cap` capturer: one agent process per namespace, one pcap per interface. */
import { NetlabError } from '../../analyzer/errors.js';
import { spawn } from '../exec/exec.js';
import { builtScript } from '../exec/paths.js';
import { allReady, type CaptureTarget } from './points.js';
import type { RunningCapture } from './tcpdump.js';

/** True when the binding loads in this process (it then loads in the agents too). */
export async function capAvailable(): Promise<boolean> {
  try {
    const mod = await import('cap');
    return typeof mod.default?.Cap === 'function';
  } catch {
    return false;
  }
}

export async function startCap(targets: CaptureTarget[], outDir: string, filter: string, readyTimeoutMs = 10_000): Promise<RunningCapture> {
  const agent = builtScript('cluster/capture/cap-agent.js');
  const epochBaseNs = String(BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint());
  const procs = targets.map((target) => {
    const args = [agent, '--epoch-base-ns', epochBaseNs, '--out', outDir, '--prefix', target.name.replaceAll('/', '_'), '--filter', filter, ...target.interfaces.flatMap((i) => ['--if', i])];
    const child = spawn(process.execPath, args, { netns: target.netns, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: false });
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new NetlabError(`capture agent in ${target.netns} not ready within ${readyTimeoutMs} ms: ${stderr.trim()}`)), readyTimeoutMs);
      child.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('READY\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void child.then(() => {
        clearTimeout(timer);
        reject(new NetlabError(`capture agent in ${target.netns} exited: ${stderr.trim() || 'no output'}`));
      });
    });
    return { target, child, ready, out: () => stdout };
  });
  await allReady(procs);
  return {
    async stop() {
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.child));
      return procs.flatMap((p) => {
        const line = p.out().split('\n').find((l) => l.startsWith('STATS '));
        if (!line) throw new NetlabError(`capture agent in ${p.target.netns} ended without its statistics`);
        const stats = JSON.parse(line.slice(6)) as Array<{ interface: string; file: string; linktype: number; packets: number }>;
        return stats.map((s) => ({
          target: p.target,
          file: s.file,
          linktype: s.linktype,
          ifindexMap: null,
          interface: s.interface,
          packets: s.packets,
          dropped: null,
          timestampSource: 'userspace' as const,
        }));
      });
    },
  };
}
