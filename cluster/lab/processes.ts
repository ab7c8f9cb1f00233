/**
 * The lab's long-running processes (controller, node agents, pod workloads). Every one is a Node
 * script started detached with `--lab-dir <dir>` among its arguments: that marker lets `down` find
 * it by scanning /proc even if the pid was never written (a crash between spawn and save), and lets
 * `down` check a recorded pid still belongs to the lab before signalling it.
 */
import { builtScript } from '../exec/paths.js';
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnDetached } from '../exec/exec.js';
import { labDir } from './names.js';

export { builtScript };

export interface StartOptions {
  lab: string;
  /** Run inside this network namespace, or null for the root namespace. */
  netns: string | null;
  /** Script path relative to dist/, e.g. cluster/workloads/echo.js. */
  script: string;
  args: string[];
  logFile: string;
}

/** Start a detached lab process whose stdout and stderr append to `logFile`; returns its pid. */
export function startProcess(opts: StartOptions): number {
  mkdirSync(path.dirname(opts.logFile), { recursive: true });
  return spawnDetached(process.execPath, [builtScript(opts.script), ...opts.args, '--lab-dir', labDir(opts.lab)], {
    netns: opts.netns ?? undefined,
    logFile: opts.logFile,
  });
}

/** True when the module at `moduleUrl` is the script node was started with (not imported by a test). */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(moduleUrl);
  } catch {
    return false;
  }
}

/** Running, and not a zombie (an orphan whose parent, e.g. a container's init, never reaps it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) S ..." — the state letter follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function cmdline(pid: number): Promise<string[] | null> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  } catch {
    return null;
  }
}

/** True when `pid` is running and carries this lab's marker (so a reused pid is never signalled). */
export async function isLabProcess(lab: string, pid: number): Promise<boolean> {
  const args = await cmdline(pid);
  if (!args) return false;
  const i = args.indexOf('--lab-dir');
  return i >= 0 && args[i + 1] === labDir(lab);
}

/** Every running process carrying this lab's marker. */
export async function findLabProcesses(lab: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid !== process.pid && (await isLabProcess(lab, pid))) found.push(pid);
  }
  return found;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL whatever is still running after `graceMs`. */
export async function stopProcesses(pids: number[], graceMs = 1000): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(20);
  for (const pid of pids.filter(isAlive)) signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (pids.some(isAlive) && Date.now() < killDeadline) await sleep(20);
}
