/**
 * Throwaway network namespaces for one test file: every name carries a random prefix, and
 * `cleanup()` removes exactly the namespaces and processes this helper made.
 */
import { randomBytes } from 'node:crypto';
import type { ResultPromise } from 'execa';
import { run, spawn } from '../../cluster/exec/exec.js';

export class TestNetns {
  readonly prefix = `t${randomBytes(2).toString('hex')}-`;
  private readonly made: string[] = [];
  private readonly procs: ResultPromise[] = [];

  name(short: string): string {
    return `${this.prefix}${short}`;
  }

  async add(short: string): Promise<string> {
    const ns = this.name(short);
    await run('ip', ['netns', 'add', ns]);
    this.made.push(ns);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A veth pair between two of this helper's namespaces, with addresses, brought up. */
  async link(a: string, aIf: string, aAddr: string, b: string, bIf: string, bAddr: string): Promise<void> {
    await run('ip', ['-n', a, 'link', 'add', aIf, 'type', 'veth', 'peer', 'name', bIf, 'netns', b]);
    await run('ip', ['-n', a, 'addr', 'add', aAddr, 'dev', aIf]);
    await run('ip', ['-n', b, 'addr', 'add', bAddr, 'dev', bIf]);
    await run('ip', ['-n', a, 'link', 'set', aIf, 'up']);
    await run('ip', ['-n', b, 'link', 'set', bIf, 'up']);
  }

  /** Starts a long-running process in a namespace; it is killed by `cleanup()` if still running. */
  start(ns: string, file: string, args: string[]): ResultPromise {
    const p = spawn(file, args, { netns: ns, stdin: 'ignore', buffer: true });
    this.procs.push(p);
    return p;
  }

  async cleanup(): Promise<void> {
    for (const p of this.procs) {
      if (p.exitCode === null && p.pid !== undefined) p.kill('SIGKILL');
      await p.catch(() => undefined);
    }
    for (const ns of this.made.reverse()) {
      // Anything still inside (a server that ignored the kill) would keep the namespace alive.
      const pids = await run('ip', ['netns', 'pids', ns], { allowFailure: true });
      for (const pid of pids.stdout.split('\n').filter(Boolean)) await run('kill', ['-9', pid], { allowFailure: true });
      await run('ip', ['netns', 'delete', ns], { allowFailure: true });
    }
  }
}

/** Resolves once `text` appears on the process's stderr (tcpdump's "listening on", dumpcap's "Capturing on"). */
export function waitForStderr(p: ResultPromise, text: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${text}" (stderr so far: ${seen.trim()})`)), timeoutMs);
    p.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
