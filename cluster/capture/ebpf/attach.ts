/**
 * When are the tracepoints live? bpftrace runs BEGIN *before* it attaches the other probes, so
 * the ready line only says "attaching now". Each attached tracepoint is one perf_event file
 * descriptor of the bpftrace process, next to one per online CPU for the output buffers; the
 * probe is live once that many exist.
 */
import { readdir, readlink, readFile } from 'node:fs/promises';

/** Number of CPUs in a kernel CPU list like "0-3,6,8-9". Pure. */
export function countCpuList(list: string): number {
  let n = 0;
  for (const part of list.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    n += b === undefined ? 1 : b - a + 1;
  }
  return n;
}

export async function onlineCpus(): Promise<number> {
  try {
    return countCpuList(await readFile('/sys/devices/system/cpu/online', 'utf8'));
  } catch {
    return 1;
  }
}

/** perf_event descriptors `pid` holds now. */
export async function perfEventFds(pid: number): Promise<number> {
  let n = 0;
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return 0;
  }
  for (const fd of fds) {
    try {
      if ((await readlink(`/proc/${pid}/fd/${fd}`)) === 'anon_inode:[perf_event]') n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/**
 * Resolves once `pid` holds `tracepoints` + one-per-CPU perf_event descriptors, then a short
 * margin for the enable that follows each attach. Rejects when `alive()` turns false.
 */
export async function waitForAttach(pid: number, tracepoints: number, alive: () => boolean, pollMs = 20): Promise<void> {
  const want = tracepoints + (await onlineCpus());
  while ((await perfEventFds(pid)) < want) {
    if (!alive()) throw new Error('bpftrace exited while attaching');
    await new Promise((r) => setTimeout(r, pollMs));
  }
  await new Promise((r) => setTimeout(r, 50));
}
