/**
 * The netns lab end to end, as root, through the built CLI: real namespaces, real iptables, real
 * processes, real packets between the lab's own namespaces. Labs are named t<hex>a/b/c so other
 * helpers' labs on the machine are never touched.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../cluster/exec/exec.js';

const prefix = `t${randomBytes(2).toString('hex')}`;
const A = `${prefix}a`;
const B = `${prefix}b`;
const C = `${prefix}c`;
const BIN = 'dist/cli/main.js';

// Everything runs asynchronously so the test worker stays responsive while the lab works.
async function netlabIn(input: string | undefined, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await run('node', [BIN, ...args], { allowFailure: true, timeoutMs: 90_000, input });
  return { code: r.exitCode, out: r.stdout, err: r.stderr };
}
const netlab = (...args: string[]) => netlabIn(undefined, ...args);

async function sh(cmd: string, args: string[]): Promise<string> {
  return (await run(cmd, args, { allowFailure: true })).stdout;
}

function curl(lab: string, url: string): Promise<string> {
  return sh('ip', ['netns', 'exec', `${lab}-client`, 'curl', '-s', '-m', '3', url]);
}

const field = (out: string, name: string): string | undefined => out.match(new RegExp(`^\\s*${name}[=:] ?(\\S+)`, 'm'))?.[1];

/** What the host's own namespace looks like: nothing the lab does may change it. */
async function hostSnapshot() {
  const strip = (s: string) => s.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')).join('\n');
  return {
    addr: await sh('ip', ['addr']),
    route: await sh('ip', ['route']),
    iptables: strip(await sh('iptables-save', [])),
    ours: (await sh('ip', ['netns', 'list'])).split('\n').filter((l) => l.startsWith(prefix)),
  };
}

const MANIFEST = readFileSync('fixtures/manifests/echo-metallb.yaml', 'utf8');

interface Svc { metadata: { name: string }; spec: { healthCheckNodePort?: number; ports: { nodePort: number }[] }; status: { loadBalancer: { ingress?: { ip: string }[] } } }
async function services(lab: string): Promise<Record<string, Svc>> {
  const list = JSON.parse((await netlab('get', 'svc', '-o', 'json', '--name', lab)).out) as { items: Svc[] };
  return Object.fromEntries(list.items.map((s) => [s.metadata.name, s]));
}

let before: Awaited<ReturnType<typeof hostSnapshot>>;
let upSeconds = 0;

describe('netns lab (root)', () => {
  beforeAll(async () => {
    before = await hostSnapshot();
    const t0 = Date.now();
    const up = await netlab('up', '--name', A);
    expect(up.code, up.err).toBe(0);
    const applied = await netlab('apply', '-f', 'fixtures/manifests/echo-metallb.yaml', '--name', A);
    expect(applied.code, applied.err).toBe(0);
    upSeconds = (Date.now() - t0) / 1000;
  });

  afterAll(async () => {
    for (const lab of [A, B, C]) await netlab('down', '--name', lab);
  });

  it('runs the pods on the workers with IPs from their node CIDRs and shows them like kubectl', async () => {
    const wide = (await netlab('get', 'pods', '-o', 'wide', '--name', A)).out;
    expect(wide.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
    const rows = wide.trim().split('\n').slice(1);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/^deploy-echo-\w+-\w{5}\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.[12]\.\d+\s+worker2?\s+<none>\s+<none>$/);
    const nodes = JSON.parse((await netlab('get', 'nodes', '-o', 'json', '--name', A)).out) as { kind: string; items: { status: { addresses: { type: string; address: string }[] } }[] };
    expect(nodes.kind).toBe('List');
    expect(nodes.items.map((n) => n.status.addresses[0]!.address)).toEqual(['172.18.0.2', '172.18.0.3', '172.18.0.4']);
  });

  it('NodePort with eTP=Cluster: the pod sees a node address, never the client', async () => {
    const port = (await services(A))['svc-lb-cluster']!.spec.ports[0]!.nodePort;
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const out = await curl(A, `http://172.18.0.2:${port}/`);
      expect(field(out, 'Hostname')).toMatch(/^deploy-echo-/);
      seen.add(field(out, 'client_address')!);
    }
    for (const ip of seen) expect(ip).toMatch(/^(172\.18\.0\.2|10\.244\.\d+\.1)$/);
    expect(seen.has('198.51.100.10')).toBe(false);
  });

  it('MetalLB VIPs: Cluster hides the client, Local keeps it; 100 requests spread 35-65% over two pods', async () => {
    const svcs = await services(A);
    const clusterVip = svcs['svc-lb-cluster']!.status.loadBalancer.ingress![0]!.ip;
    const localVip = svcs['svc-lb-local']!.status.loadBalancer.ingress![0]!.ip;
    expect(clusterVip).toMatch(/^172\.18\.255\.2\d\d$/);
    const hosts = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const out = await curl(A, `http://${clusterVip}/`);
      expect(field(out, 'client_address')).not.toBe('198.51.100.10');
      const h = field(out, 'Hostname')!;
      hosts.set(h, (hosts.get(h) ?? 0) + 1);
    }
    expect(hosts.size).toBe(2);
    for (const n of hosts.values()) {
      expect(n).toBeGreaterThanOrEqual(35);
      expect(n).toBeLessThanOrEqual(65);
    }
    for (let i = 0; i < 5; i++) expect(field(await curl(A, `http://${localVip}/`), 'client_address')).toBe('198.51.100.10');
  });

  it('healthCheckNodePort: 503 on a node without a local endpoint, 200 with one, kube-proxy JSON', async () => {
    const hc = (await services(A))['svc-lb-local']!.spec.healthCheckNodePort!;
    const probe = async (ip: string) => {
      const out = (await sh('ip', ['netns', 'exec', `${A}-client`, 'curl', '-s', '-m', '3', '-w', '\n%{http_code}', `http://${ip}:${hc}/healthz`])).split('\n');
      return { code: out.at(-1), body: JSON.parse(out.slice(0, -1).join('\n')) as { service: { name: string }; localEndpoints: number } };
    };
    const cp = await probe('172.18.0.2');
    expect(cp.code).toBe('503');
    expect(cp.body).toEqual({ service: { namespace: 'default', name: 'svc-lb-local' }, localEndpoints: 0, serviceProxyHealthy: true });
    const w = await probe('172.18.0.3');
    expect(w.code).toBe('200');
    expect(w.body.localEndpoints).toBe(1);
  });

  it('up is idempotent: same lab, same controller, nothing recreated', async () => {
    const state = () => JSON.parse(readFileSync(`/run/netlab/${A}/state.json`, 'utf8')) as { createdAt: string; controller: { pid: number }; resources: { namespaces: string[] } };
    const s1 = state();
    const again = await netlab('up', '--name', A);
    expect(again.code).toBe(0);
    expect(again.out).toContain('already up');
    const s2 = state();
    expect(s2.createdAt).toBe(s1.createdAt);
    expect(s2.controller.pid).toBe(s1.controller.pid);
    expect(s2.resources.namespaces).toEqual(s1.resources.namespaces);
  });

  it('a killed workload is restarted (RESTARTS 1), a killed controller is restarted by up', async () => {
    const file = `/run/netlab/${A}/state.json`;
    const read = () => JSON.parse(readFileSync(file, 'utf8')) as { controller: { pid: number }; pods: { pid: number; object: { metadata: { name: string } } }[] };
    const victim = read().pods[0]!;
    process.kill(victim.pid, 'SIGKILL');
    let restarted = false;
    for (let i = 0; i < 100 && !restarted; i++) {
      await new Promise((res) => setTimeout(res, 100));
      restarted = new RegExp(`^${victim.object.metadata.name}\\s+1/1\\s+Running\\s+1\\s`, 'm').test((await netlab('get', 'pods', '--name', A)).out);
    }
    expect(restarted).toBe(true);
    const controller = read().controller.pid;
    process.kill(controller, 'SIGKILL');
    await new Promise((res) => setTimeout(res, 200));
    expect((await netlab('up', '--name', A)).code).toBe(0);
    const now = read().controller.pid;
    expect(now).not.toBe(controller);
    expect(() => process.kill(now, 0)).not.toThrow();
  });

  it('endpoint changes update the rules: scaling to 1 leaves one KUBE-SEP per Service', async () => {
    const one = MANIFEST.replace('replicas: 2', 'replicas: 1');
    const r = await netlabIn(one, 'apply', '-f', '-', '--name', A);
    expect(r.code, r.err).toBe(0);
    let seps = 0;
    for (let i = 0; i < 50; i++) {
      const saved = await sh('ip', ['netns', 'exec', `${A}-control-plane`, 'iptables-save', '-t', 'nat']);
      seps = saved.split('\n').filter((l) => /^-A KUBE-SEP-\S+ .*default\/svc-lb-cluster.*DNAT/.test(l)).length;
      if (seps === 1) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(seps).toBe(1);
    const back = await netlab('apply', '-f', 'fixtures/manifests/echo-metallb.yaml', '--name', A);
    expect(back.code).toBe(0);
  });

  it('MetalLB fails over when the leader node stops: new leader, gratuitous ARP, traffic flows', async () => {
    const vip = (await services(A))['svc-lb-cluster']!.status.loadBalancer.ingress![0]!.ip;
    await curl(A, `http://${vip}/`);
    const leaderOf = async () => (JSON.parse((await netlab('status', '--json', '--name', A)).out) as { metallb: { leaders: Record<string, string> } }).metallb.leaders[vip]!;
    const old = await leaderOf();
    const stop = await netlab('node', 'stop', old, '--name', A);
    expect(stop.code, stop.err).toBe(0);
    const next = await leaderOf();
    expect(next).not.toBe(old);
    const mac = (await sh('ip', ['netns', 'exec', `${A}-${next}`, 'cat', '/sys/class/net/eth0/address'])).trim();
    // The router learnt the new leader's MAC from the gratuitous ARP, before any new request.
    expect(await sh('ip', ['-n', `${A}-router`, 'neigh', 'show', vip])).toContain(mac);
    expect(field(await curl(A, `http://${vip}/`), 'Hostname')).toMatch(/^deploy-echo-/);
    expect((await netlab('get', 'nodes', '--name', A)).out).toMatch(new RegExp(`^${old}\\s+NotReady`, 'm'));
    expect((await netlab('node', 'start', old, '--name', A)).code).toBe(0);
  });

  it('exec runs in the target namespace and passes the exit code through', async () => {
    const r = await netlab('exec', 'client', '--name', A, '--', 'sh', '-c', 'ip -4 -o addr show eth0; exit 7');
    expect(r.code).toBe(7);
    expect(r.out).toContain('198.51.100.10/24');
    expect((await netlab('exec', 'nope', '--name', A, '--', 'true')).code).toBe(1);
  });

  it('a second lab coexists with the first', async () => {
    expect((await netlab('up', '--name', B, '--nodes', '2')).code).toBe(0);
    expect((await netlab('apply', '-f', 'fixtures/manifests/echo-metallb.yaml', '--name', B)).code).toBe(0);
    const vipB = (await services(B))['svc-lb-local']!.status.loadBalancer.ingress![0]!.ip;
    expect(field(await curl(B, `http://${vipB}/`), 'client_address')).toBe('198.51.100.10');
    const vipA = (await services(A))['svc-lb-local']!.status.loadBalancer.ingress![0]!.ip;
    expect(field(await curl(A, `http://${vipA}/`), 'client_address')).toBe('198.51.100.10');
    expect((await netlab('down', '--name', B)).code).toBe(0);
    expect(field(await curl(A, `http://${vipA}/`), 'client_address')).toBe('198.51.100.10');
  });

  it('down after kill -9 of up leaves nothing behind', async () => {
    for (const delay of [150, 400]) {
      const child = spawn('node', [BIN, 'up', '--name', C], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const down = await netlab('down', '--name', C);
      expect(down.code, down.err).toBe(0);
      expect((await sh('ip', ['netns', 'list'])).split('\n').filter((l) => l.startsWith(`${C}-`))).toEqual([]);
      expect(existsSync(`/run/netlab/${C}`)).toBe(false);
      expect(existsSync(`/etc/netns/${C}-client`)).toBe(false);
      expect((await sh('pgrep', ['-f', `--lab-dir /run/netlab/${C}( |$)`])).trim()).toBe('');
    }
  });

  it('down removes everything; the host is as it was before', async () => {
    // Reported, not asserted: speed claims belong in benchmarks.
    process.stdout.write(`netlab up + apply (3 nodes, 2 pods): ${upSeconds.toFixed(2)} s\n`);
    expect((await netlab('down', '--name', A)).code).toBe(0);
    expect((await netlab('down', '--name', A)).out).toContain('nothing to remove');
    expect((await sh('pgrep', ['-f', `--lab-dir /run/netlab/${A}( |$)`])).trim()).toBe('');
    expect(await hostSnapshot()).toEqual(before);
  });
});
