/**
 * A throwaway two-namespace network for tests that need real packets without a whole lab:
 * `<p>-a` (10.77.0.1) ↔ veth ↔ `<p>-b` (10.77.0.2). Removed by `destroy()`.
 */
import { randomBytes } from 'node:crypto';
import { run } from '../../cluster/exec/exec.js';

export interface Pair {
  a: string;
  b: string;
  destroy(): Promise<void>;
}

export async function makePair(): Promise<Pair> {
  const p = `t${randomBytes(2).toString('hex')}`;
  const a = `${p}-a`;
  const b = `${p}-b`;
  const destroy = async () => {
    for (const ns of [a, b]) {
      const pids = await run('ip', ['netns', 'pids', ns], { allowFailure: true });
      for (const pid of pids.stdout.split('\n').filter(Boolean)) await run('kill', ['-9', pid], { allowFailure: true });
      await run('ip', ['netns', 'del', ns], { allowFailure: true });
    }
  };
  try {
    await run('ip', ['netns', 'add', a]);
    await run('ip', ['netns', 'add', b]);
    await run('ip', ['-n', a, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b]);
    await run('ip', ['-n', a, 'addr', 'add', '10.77.0.1/24', 'dev', 'eth0']);
    await run('ip', ['-n', b, 'addr', 'add', '10.77.0.2/24', 'dev', 'eth0']);
    for (const ns of [a, b]) {
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return { a, b, destroy };
}
