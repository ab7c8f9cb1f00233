/**
 * Throwaway networks for tests that need real packets without a whole lab.
 * `makePair()`: `<p>-a` (10.77.0.1) ↔ veth ↔ `<p>-b` (10.77.0.2).
 * `makeChain()`: the pair plus `<p>-c` (10.78.0.2) behind b (10.78.0.1), b forwarding between
 * them — client, node, pod. Removed by `destroy()`, processes inside included.
 */
import { randomBytes } from 'node:crypto';
import { run } from '../../cluster/exec/exec.js';

export interface Pair {
  a: string;
  b: string;
  destroy(): Promise<void>;
}

export interface Chain extends Pair {
  c: string;
}

async function link(x: string, xIp: string, y: string, yIp: string, ifx: string, ify: string): Promise<void> {
  await run('ip', ['-n', x, 'link', 'add', ifx, 'type', 'veth', 'peer', 'name', ify, 'netns', y]);
  await run('ip', ['-n', x, 'addr', 'add', xIp, 'dev', ifx]);
  await run('ip', ['-n', y, 'addr', 'add', yIp, 'dev', ify]);
  await run('ip', ['-n', x, 'link', 'set', ifx, 'up']);
  await run('ip', ['-n', y, 'link', 'set', ify, 'up']);
}

async function make(names: string[], build: (ns: string[]) => Promise<void>): Promise<string[]> {
  const p = `t${randomBytes(2).toString('hex')}`;
  const ns = names.map((n) => `${p}-${n}`);
  const destroy = async () => {
    for (const n of ns) {
      const pids = await run('ip', ['netns', 'pids', n], { allowFailure: true });
      for (const pid of pids.stdout.split('\n').filter(Boolean)) await run('kill', ['-9', pid], { allowFailure: true });
      await run('ip', ['netns', 'del', n], { allowFailure: true });
    }
  };
  try {
    for (const n of ns) {
      await run('ip', ['netns', 'add', n]);
      await run('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
    }
    await build(ns);
  } catch (err) {
    await destroy();
    throw err;
  }
  destroyers.set(ns[0]!, destroy);
  return ns;
}

const destroyers = new Map<string, () => Promise<void>>();

export async function makePair(): Promise<Pair> {
  const [a, b] = await make(['a', 'b'], async ([x, y]) => link(x!, '10.77.0.1/24', y!, '10.77.0.2/24', 'eth0', 'eth0'));
  return { a: a!, b: b!, destroy: destroyers.get(a!)! };
}

export async function makeChain(): Promise<Chain> {
  const [a, b, c] = await make(['a', 'b', 'c'], async ([x, y, z]) => {
    await link(x!, '10.77.0.1/24', y!, '10.77.0.2/24', 'eth0', 'eth0');
    await link(y!, '10.78.0.1/24', z!, '10.78.0.2/24', 'vethpod', 'eth0');
    await run('ip', ['-n', x!, 'route', 'add', 'default', 'via', '10.77.0.2']);
    await run('ip', ['-n', z!, 'route', 'add', 'default', 'via', '10.78.0.1']);
    await run('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'], { netns: y! });
  });
  return { a: a!, b: b!, c: c!, destroy: destroyers.get(a!)! };
}
