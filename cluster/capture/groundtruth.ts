/**
 * The kernel's own account of a run, kept beside the pcaps: `iptables-save` and `conntrack -L`
 * of every NAT-ing namespace before and after, and `conntrack -E` events during the run — the
 * analyzer compares its inferred NAT steps with these tuples.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run, spawn } from '../exec/exec.js';

export interface GroundTruthFiles {
  netns: string;
  /** Point-name prefix of the namespace (node name, nlb-a, …). */
  name: string;
  events: string;
  snapshots: string[];
}

async function snapshot(netns: string, name: string, outDir: string, when: 'before' | 'after'): Promise<string[]> {
  const files: string[] = [];
  const ipt = await run('iptables-save', [], { netns, allowFailure: true });
  const f1 = path.join(outDir, `${name}.iptables-${when}.txt`);
  await writeFile(f1, ipt.exitCode === 0 ? ipt.stdout + '\n' : `# iptables-save failed: ${ipt.stderr}\n`);
  files.push(f1);
  const ct = await run('conntrack', ['-L', '-o', 'extended'], { netns, allowFailure: true });
  const f2 = path.join(outDir, `${name}.conntrack-${when}.txt`);
  // conntrack -L prints its summary line on stderr; an empty table exits 0 with no rows.
  await writeFile(f2, ct.stdout ? ct.stdout + '\n' : '');
  files.push(f2);
  return files;
}

export interface RunningGroundTruth {
  stop(): Promise<GroundTruthFiles[]>;
}

export async function startGroundTruth(namespaces: Array<{ netns: string; name: string }>, outDir: string): Promise<RunningGroundTruth> {
  const before = await Promise.all(namespaces.map((n) => snapshot(n.netns, n.name, outDir, 'before')));
  const watchers = namespaces.map((n) => {
    const file = path.join(outDir, `${n.name}.conntrack-events.txt`);
    const child = spawn('conntrack', ['-E', '-o', 'extended,timestamp'], { netns: n.netns, stdin: 'ignore', stdout: { file }, stderr: 'ignore' });
    return { ...n, file, child };
  });
  // conntrack -E subscribes to netlink at start-up; give it a moment so the first flows are seen.
  await new Promise((r) => setTimeout(r, 150));
  return {
    async stop() {
      // Let the last DESTROY/UPDATE events arrive before the watchers stop.
      await new Promise((r) => setTimeout(r, 200));
      for (const w of watchers) w.child.kill('SIGTERM');
      await Promise.allSettled(watchers.map((w) => w.child));
      const after = await Promise.all(namespaces.map((n) => snapshot(n.netns, n.name, outDir, 'after')));
      return watchers.map((w, i) => ({ netns: w.netns, name: w.name, events: w.file, snapshots: [...before[i]!, ...after[i]!] }));
    },
  };
}
