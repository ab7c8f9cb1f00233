/**
 * `netlab down` for the netns provider: stop every lab process (recorded pids, anything running in
 * a recorded namespace, anything carrying the lab's --lab-dir marker), delete the recorded
 * namespaces, files and folders, then the lab's own folder. Safe to run twice, or after `up` was
 * killed at any point: it works from what the state file recorded before each step.
 */
import { rm, rmdir } from 'node:fs/promises';
import { run } from '../exec/exec.js';
import { labDir } from '../lab/names.js';
import { findLabProcesses, isLabProcess, stopProcesses } from '../lab/processes.js';
import { teardownControllers } from '../lab/reconcile.js';
import { readState, withLock, writeState, type LabState } from '../lab/state.js';
import { deleteNamespaces, existingNamespaces } from './apply.js';
import { existsSync } from 'node:fs';

async function pidsInNamespaces(names: string[]): Promise<number[]> {
  const present = await existingNamespaces();
  const pids: number[] = [];
  for (const ns of names.filter((n) => present.has(n))) {
    const r = await run('ip', ['netns', 'pids', ns], { allowFailure: true });
    pids.push(...r.stdout.split('\n').filter(Boolean).map(Number));
  }
  return pids;
}

async function removeEverything(lab: string, state: LabState | null): Promise<void> {
  const log = (m: string) => process.stderr.write(process.env.NETLAB_VERBOSE ? `${m}\n` : '');
  if (state) await teardownControllers(state, log);
  const recorded: number[] = [];
  for (const p of state?.resources.processes ?? []) if (await isLabProcess(lab, p.pid)) recorded.push(p.pid);
  const namespaces = [...(state?.resources.namespaces ?? [])].reverse();
  const pids = new Set([...recorded, ...(await findLabProcesses(lab)), ...(await pidsInNamespaces(namespaces))]);
  pids.delete(process.pid);
  await stopProcesses([...pids]);
  await deleteNamespaces(namespaces);
  for (const f of state?.resources.files ?? []) await rm(f, { force: true });
  for (const d of [...(state?.resources.dirs ?? [])].reverse()) await rmdir(d).catch(() => undefined);
}

/** Returns whether there was anything to remove. */
export async function teardown(lab: string): Promise<boolean> {
  if (!existsSync(labDir(lab))) return false;
  await withLock(lab, async () => {
    const state = await readState(lab);
    if (state) {
      // The controller sees this and stops; nothing reconciles a lab that is going away.
      state.phase = 'deleting';
      await writeState(state);
    }
    await removeEverything(lab, state);
    const left = await existingNamespaces();
    const stuck = (state?.resources.namespaces ?? []).filter((n) => left.has(n));
    if (stuck.length) throw new Error(`namespaces still present after delete: ${stuck.join(', ')}`);
  }, { timeoutMs: 30_000 });
  await rm(labDir(lab), { recursive: true, force: true });
  return true;
}
