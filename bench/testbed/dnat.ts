/**
 * A throwaway three-namespace path for the eBPF source's lab test and benchmark:
 *
 *   client (198.51.100.10) ── router (DNAT 203.0.113.10:80 → 172.18.0.2:8080) ── server (172.18.0.2)
 *
 * plus a separate pair `outside-a` ↔ `outside-b` (10.244.250.0/24) that carries the same ports
 * but is never traced. Every name starts with the caller's unique prefix; `destroy` removes
 * exactly those namespaces. The plan is data (snapshot-tested); `createDnatTestbed` applies it.
 */
import { run } from '../../cluster/exec/exec.js';

export const FRONTEND = { ip: '203.0.113.10', port: 80 };
export const BACKEND = { ip: '172.18.0.2', port: 8080 };
export const CLIENT_IP = '198.51.100.10';
export const ROUTER_CLIENT_SIDE = '198.51.100.1';
export const ROUTER_SERVER_SIDE = '172.18.0.1';
export const OUTSIDE = { a: '10.244.250.1', b: '10.244.250.2' };

export interface TestbedCommand {
  netns?: string;
  file: string;
  args: string[];
}

export interface TestbedPlan {
  namespaces: { client: string; router: string; server: string; outsideA: string; outsideB: string };
  commands: TestbedCommand[];
}

export function dnatTestbedPlan(prefix: string): TestbedPlan {
  const ns = {
    client: `${prefix}client`,
    router: `${prefix}router`,
    server: `${prefix}server`,
    outsideA: `${prefix}outside-a`,
    outsideB: `${prefix}outside-b`,
  };
  const ip = (...args: string[]): TestbedCommand => ({ file: 'ip', args });
  const commands: TestbedCommand[] = [
    ...Object.values(ns).map((n) => ip('netns', 'add', n)),
    ...Object.values(ns).map((n) => ip('-n', n, 'link', 'set', 'lo', 'up')),
    ip('-n', ns.client, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns.router),
    ip('-n', ns.server, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.router),
    ip('-n', ns.outsideA, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.outsideB),
    ip('-n', ns.client, 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'eth0'),
    ip('-n', ns.router, 'addr', 'add', `${ROUTER_CLIENT_SIDE}/24`, 'dev', 'eth1'),
    ip('-n', ns.router, 'addr', 'add', `${ROUTER_SERVER_SIDE}/16`, 'dev', 'eth0'),
    ip('-n', ns.server, 'addr', 'add', `${BACKEND.ip}/16`, 'dev', 'eth0'),
    ip('-n', ns.outsideA, 'addr', 'add', `${OUTSIDE.a}/24`, 'dev', 'eth0'),
    ip('-n', ns.outsideB, 'addr', 'add', `${OUTSIDE.b}/24`, 'dev', 'eth0'),
    ip('-n', ns.client, 'link', 'set', 'eth0', 'up'),
    ip('-n', ns.router, 'link', 'set', 'eth0', 'up'),
    ip('-n', ns.router, 'link', 'set', 'eth1', 'up'),
    ip('-n', ns.server, 'link', 'set', 'eth0', 'up'),
    ip('-n', ns.outsideA, 'link', 'set', 'eth0', 'up'),
    ip('-n', ns.outsideB, 'link', 'set', 'eth0', 'up'),
    ip('-n', ns.client, 'route', 'add', 'default', 'via', ROUTER_CLIENT_SIDE),
    ip('-n', ns.server, 'route', 'add', 'default', 'via', ROUTER_SERVER_SIDE),
    { netns: ns.router, file: 'sysctl', args: ['-qw', 'net.ipv4.ip_forward=1'] },
    // The NLB-like hop: rewrite the frontend to the backend, TCP and UDP (the benchmark floods UDP).
    ...['tcp', 'udp'].map((proto): TestbedCommand => ({
      netns: ns.router,
      file: 'iptables',
      args: ['-t', 'nat', '-A', 'PREROUTING', '-d', FRONTEND.ip, '-p', proto, '--dport', String(FRONTEND.port), '-j', 'DNAT', '--to-destination', `${BACKEND.ip}:${BACKEND.port}`],
    })),
  ];
  return { namespaces: ns, commands };
}

export interface Testbed {
  plan: TestbedPlan;
  destroy(): Promise<void>;
}

/** Kill what runs in our namespaces, then delete them. Safe to call twice. */
async function destroyNamespaces(names: readonly string[]): Promise<void> {
  for (const n of names) {
    const pids = await run('ip', ['netns', 'pids', n], { allowFailure: true });
    for (const pid of pids.stdout.split('\n').map(Number).filter((p) => p > 0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'del', n], { allowFailure: true });
  }
}

export async function createDnatTestbed(prefix: string): Promise<Testbed> {
  const plan = dnatTestbedPlan(prefix);
  const names = Object.values(plan.namespaces);
  try {
    for (const c of plan.commands) await run(c.file, c.args, { netns: c.netns });
  } catch (err) {
    await destroyNamespaces(names);
    throw err;
  }
  return { plan, destroy: () => destroyNamespaces(names) };
}

/** A short random prefix like `t3fa9-`, unique per run. */
export function uniquePrefix(): string {
  return `t${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')}-`;
}
