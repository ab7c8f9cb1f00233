/**
 * Runs a kind capture plan (cluster/kind/capture-plan.ts): one helper container per point, its
 * pcap stream written to a file in the run dir, ready when tcpdump says "listening on", stopped
 * with `docker kill --signal SIGINT` so tcpdump flushes its last packets and prints its counts.
 */
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { formatCommand, run, spawn } from '../exec/exec.js';
import type { DockerClient } from '../docker/client.js';
import { captureReady, tcpdumpCapturedFile } from '../capture/tcpdump.js';
import { parseIfindexNames } from '../capture/ifindex.js';
import type { CapturedFile } from '../capture/points.js';
import type { KindCaptureCommand } from './capture-plan.js';

export interface RunningKindCapture {
  stop(): Promise<CapturedFile[]>;
}

async function linkMap(docker: DockerClient, cmd: KindCaptureCommand): Promise<Record<string, string>> {
  const r = await run('docker', docker.argv(cmd.links), { timeoutMs: 60_000 });
  return parseIfindexNames(r.stdout);
}

export async function startKindCapture(docker: DockerClient, plan: readonly KindCaptureCommand[], outDir: string, readyTimeoutMs = 60_000): Promise<RunningKindCapture> {
  const procs = plan.map((cmd) => {
    const file = path.join(outDir, cmd.file);
    const argv = docker.argv(cmd.capture);
    const child = spawn('docker', argv, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: false, encoding: 'buffer' });
    const out = createWriteStream(file);
    (child.stdout as Readable).pipe(out);
    const { ready, stderrText } = captureReady(child, { what: `capture at ${cmd.target.name}`, timeoutMs: readyTimeoutMs, where: formatCommand('docker', argv) });
    return { cmd, file, child, out, ready, stderrText };
  });
  const kill = async () => {
    await Promise.all(procs.map((p) => run('docker', docker.argv(['kill', '--signal', 'SIGINT', p.cmd.helper]), { allowFailure: true })));
    await Promise.allSettled(procs.map((p) => p.child));
  };
  try {
    await Promise.all(procs.map((p) => p.ready));
  } catch (err) {
    await kill();
    throw err;
  }
  const maps = await Promise.all(plan.map((cmd) => linkMap(docker, cmd)));
  return {
    async stop() {
      await kill();
      await Promise.all(procs.map((p) => finished(p.out)));
      return procs.map((p, i) => tcpdumpCapturedFile(p.cmd.target, p.file, maps[i]!, p.stderrText()));
    },
  };
}
