/**
 * The one way netlab runs external commands: argument arrays through execa, never shell strings.
 * Failures become a NetlabError whose text is a pasteable command plus what it printed.
 */
import { spawn as spawnChild } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { execa, type Options, type ResultPromise } from 'execa';
import { NetlabError } from '../../analyzer/errors.js';

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  /** Run inside this network namespace (`ip netns exec NS ...`). */
  netns?: string;
  input?: string;
  timeoutMs?: number;
  /** Do not throw on a non-zero exit; return the result. */
  allowFailure?: boolean;
  env?: Record<string, string>;
  cwd?: string;
}

/** Quote one argument the way a POSIX shell would read it back, for error messages only. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map(shellQuote).join(' ');
}

export function wrapInNetns(netns: string | undefined, file: string, args: readonly string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, file, ...args]] : [file, [...args]];
}

function tail(text: string, lines = 6): string {
  const all = text.trim().split('\n');
  return all.slice(-lines).join(' | ');
}

/** Run a command to completion and return its output. */
export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [f, a] = wrapInNetns(opts.netns, file, args);
  const execaOpts: Options = {
    reject: false,
    stripFinalNewline: true,
    timeout: opts.timeoutMs,
    input: opts.input,
    env: opts.env,
    cwd: opts.cwd,
    stdin: opts.input === undefined ? 'ignore' : undefined,
  };
  const r = await execa(f, a, execaOpts);
  const result: RunResult = {
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    exitCode: r.exitCode ?? -1,
  };
  if (r.failed && !opts.allowFailure) {
    const cmd = formatCommand(f, a);
    let why: string;
    if ((r as { code?: string }).code === 'ENOENT') why = `${f} is not installed (run: netlab doctor)`;
    else if (r.timedOut) why = `timed out after ${opts.timeoutMs} ms`;
    else why = `exit ${result.exitCode}${r.signal ? ` (${r.signal})` : ''}: ${tail(result.stderr || result.stdout) || 'no output'}`;
    throw new NetlabError(`command failed: ${cmd}: ${why}`);
  }
  return result;
}

/** Start a long-running command (capture agents, servers); the caller owns its lifetime. */
export function spawn(file: string, args: readonly string[], opts: RunOptions & Options = {}): ResultPromise {
  const { netns, allowFailure: _a, timeoutMs: _t, ...rest } = opts;
  const [f, a] = wrapInNetns(netns, file, args);
  return execa(f, a, { reject: false, ...rest });
}

/**
 * Start a daemon: detached, stdin closed, stdout and stderr appended to `logFile` by the kernel
 * (no pipe through this process, so the caller may exit at once). Returns its pid.
 */
export function spawnDetached(file: string, args: readonly string[], opts: { netns?: string; logFile: string }): number {
  const [f, a] = wrapInNetns(opts.netns, file, args);
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawnChild(f, a, { detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => undefined);
    child.unref();
    if (!child.pid) throw new NetlabError(`command failed to start: ${formatCommand(f, a)}`, { where: opts.logFile });
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** The path of `file` on PATH (plus the sbin folders root has), or null. */
export async function which(file: string): Promise<string | null> {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'].filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, file);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return null;
}
