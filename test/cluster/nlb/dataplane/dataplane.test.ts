/**
 * The NLB data plane with real packets, in namespaces this test makes (a minimal copy of the lab's
 * topology): zone agents running in their own namespaces, kernel NAT vs the PPv2 proxy, client IP
 * preservation with return routing, cross-zone off, real health checks and draining.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from '../../../../cluster/exec/exec.js';
import { readJson, writeJsonAtomic, type ZoneConfig, type ZoneStatus } from '../../../../cluster/nlb/agent/files.js';
import { ensureNodeReturnRouting, ensureZoneNode, setLoadBalancerAddresses } from '../../../../cluster/nlb/dataplane/apply.js';
import { allocateAddresses, zoneNodes, type ZoneNode } from '../../../../cluster/nlb/dataplane/topology.js';
import { planLoadBalancer } from '../../../../cluster/nlb/plan/build.js';
import type { LoadBalancerPlan, Node, Pod, Service } from '../../../../cluster/nlb/plan/types.js';
import { MiniLab, clientRequest, longConnection, type MiniPod } from '../minilab.js';
import { waitUntil } from '../../../helpers/wait.js';

const AGENT = path.resolve('dist/cluster/nlb/agent/main.js');
const A = 'service.beta.kubernetes.io/';
const TIME_SCALE = 20;
const PPV2_SIG = '0d0a0d0a000d0a515549540a';

const lab = new MiniLab();
let zns: ZoneNode[] = [];
const statusOf = (zn: ZoneNode) => path.join(lab.dir, `${zn.short}.status.json`);
const configOf = (zn: ZoneNode) => path.join(lab.dir, `${zn.short}.config.json`);

function nodesAsK8s(): Node[] {
  return lab.nodes.map((n) => ({ metadata: { name: n.name, labels: { 'topology.kubernetes.io/zone': n.zone } }, status: { addresses: [{ type: 'InternalIP', address: n.ip }] } }));
}
function podsAsK8s(pods: MiniPod[]): Pod[] {
  return pods.map((p) => ({
    metadata: { name: p.name, namespace: 'default', labels: { app: 'echo' } },
    spec: { nodeName: p.node.name, containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: p.ip, conditions: [{ type: 'ContainersReady', status: 'True' }, { type: 'Ready', status: 'True' }] },
  }));
}
function svc(name: string, port: number, annotations: Record<string, string>): Service {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, annotations: { [`${A}aws-load-balancer-type`]: 'external', [`${A}aws-load-balancer-nlb-target-type`]: 'ip', ...annotations } },
    spec: { type: 'LoadBalancer', selector: { app: 'echo' }, ports: [{ port, targetPort: 8080, protocol: 'TCP', nodePort: 30000 + port }] },
  };
}
function plan(service: Service, pods: MiniPod[]): LoadBalancerPlan {
  const r = planLoadBalancer({ clusterName: lab.prefix, region: 'lab-1', timeScale: TIME_SCALE, service, nodes: nodesAsK8s(), pods: podsAsK8s(pods) });
  if (!r.handled || !r.plan) throw new Error(JSON.stringify(r));
  return r.plan;
}

let book: ReturnType<typeof allocateAddresses> = {};
async function publish(plans: LoadBalancerPlan[]): Promise<void> {
  const previous = book;
  book = allocateAddresses(book, plans.map((p) => ({ name: p.name, zones: p.zones })));
  for (const zn of zns) {
    for (const p of plans) {
      const a = book[p.name]![zn.zone]!;
      if (previous[p.name]?.[zn.zone]?.privateIp !== a.privateIp) await setLoadBalancerAddresses(zn, lab.router, a, 'add');
    }
    const config: ZoneConfig = { zone: zn.zone, netns: zn.netns, loadBalancers: plans.map((p) => ({ plan: p, ...book[p.name]![zn.zone]! })) };
    await writeJsonAtomic(configOf(zn), config);
  }
}

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> => waitUntil(what, fn, { timeoutMs, intervalMs: 100 });

async function targetStates(zn: ZoneNode, lbName: string): Promise<Record<string, string>> {
  const s = await readJson<ZoneStatus>(statusOf(zn));
  const out: Record<string, string> = {};
  for (const t of s?.targets ?? []) if (t.loadBalancer === lbName) out[t.ip] = t.state;
  return out;
}

let podA: MiniPod;
let podB: MiniPod;

beforeAll(async () => {
  if (!existsSync(AGENT)) throw new Error(`${AGENT} is missing: run npm run build first`);
  await lab.create();
  podA = await lab.addPod('a', lab.nodes[0]!, 2);
  podB = await lab.addPod('b', lab.nodes[1]!, 2);
  zns = zoneNodes(lab.prefix, 'lab-1', ['lab-1a', 'lab-1b']);
  const routes = lab.nodes.map((n) => ({ name: n.name, ip: n.ip, podCIDR: n.podCIDR }));
  for (const zn of zns) {
    lab.track(undefined, zn.netns);
    await ensureZoneNode(lab.fabric, zn, routes);
  }
  for (const n of lab.nodes) await ensureNodeReturnRouting(n.netns, zns);
  for (const zn of zns) startAgent(zn);
});

const agents = new Map<string, number>();
function startAgent(zn: ZoneNode): void {
  const child = spawn(process.execPath, [AGENT, '--config', configOf(zn), '--status', statusOf(zn)], {
    netns: zn.netns, detached: true, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', cleanup: false,
  });
  child.catch(() => undefined);
  child.unref();
  lab.track(child.pid);
  if (child.pid) agents.set(zn.zone, child.pid);
}

afterAll(async () => {
  await lab.destroy();
});

describe('NLB data plane (real namespaces, real packets)', () => {
  let ipMode: LoadBalancerPlan;
  let preserve: LoadBalancerPlan;
  let ppv2: LoadBalancerPlan;

  it('health checks from each zone node turn the targets of its own zone healthy (cross-zone off)', async () => {
    ipMode = plan(svc('ipmode', 80, {}), [podA, podB]);
    preserve = plan(svc('preserve', 81, { [`${A}aws-load-balancer-target-group-attributes`]: 'preserve_client_ip.enabled=true' }), [podA, podB]);
    ppv2 = plan(svc('ppv2', 82, { [`${A}aws-load-balancer-proxy-protocol`]: '*', [`${A}aws-load-balancer-attributes`]: 'load_balancing.cross_zone.enabled=true' }), [podA, podB]);
    await publish([ipMode, preserve, ppv2]);
    const [za, zb] = zns as [ZoneNode, ZoneNode];
    expect(await targetStates(za, ipMode.name).catch(() => ({}))).not.toHaveProperty(podB.ip);
    await waitFor('zone a: pod a healthy', async () => (await targetStates(za, ipMode.name))[podA.ip] === 'healthy');
    await waitFor('zone b: pod b healthy', async () => (await targetStates(zb, ipMode.name))[podB.ip] === 'healthy');
    // Cross-zone off: zone a's node tracks only zone a's pod.
    expect(Object.keys(await targetStates(za, ipMode.name))).toEqual([podA.ip]);
    expect(Object.keys(await targetStates(zb, ipMode.name))).toEqual([podB.ip]);
    // Cross-zone on: each zone node tracks both.
    await waitFor('ppv2 targets healthy in zone a', async () => Object.values(await targetStates(za, ppv2.name)).filter((s) => s === 'healthy').length === 2);
  });

  it('ip targets without PPv2: kernel NAT, the pod sees the NLB private IP; zone a only reaches zone a', async () => {
    const a = book[ipMode.name]!['lab-1a']!;
    const answers = await Promise.all(Array.from({ length: 6 }, () => clientRequest(lab.client, a.publicIp, 80)));
    for (const line of answers) expect(line).toMatch(new RegExp(`^peer=${a.privateIp.replaceAll('.', '\\.')}:\\d+ first=68656c6c6f0a pod=a$`));
    // Every flow went to the zone's only pod: the server saw no PPv2 header (first bytes "hello\n").
    const b = book[ipMode.name]!['lab-1b']!;
    expect(await clientRequest(lab.client, b.publicIp, 80)).toMatch(new RegExp(`^peer=${b.privateIp.replaceAll('.', '\\.')}:`));
  });

  it('preserve_client_ip on: the pod sees the client IP and the reply returns through the NLB node', async () => {
    await waitFor('preserve targets healthy', async () => (await targetStates(zns[0]!, preserve.name))[podA.ip] === 'healthy');
    const a = book[preserve.name]!['lab-1a']!;
    expect(await clientRequest(lab.client, a.publicIp, 81)).toMatch(/^peer=198\.51\.100\.10:\d+ first=68656c6c6f0a/);
  });

  it('PPv2: the pod\'s first bytes are a PPv2 PROXY header carrying the client address; cross-zone spreads over both pods', async () => {
    const a = book[ppv2.name]!['lab-1a']!;
    const seen = new Set<string>();
    for (let i = 0; i < 16; i++) {
      const line = await clientRequest(lab.client, a.publicIp, 82);
      const m = /^peer=([\d.]+):\d+ first=([0-9a-f]+)/.exec(line);
      expect(m, line).not.toBeNull();
      expect(m![1]).toBe(a.privateIp);
      const hex = m![2]!;
      expect(hex.slice(0, 24)).toBe(PPV2_SIG);
      expect(hex.slice(24, 28)).toBe('2111'); // v2 PROXY, TCP over IPv4
      expect(hex.slice(32, 40)).toBe('c633640a'); // 198.51.100.10
      expect(hex.slice(40, 48)).toBe(Buffer.from(a.publicIp.split('.').map(Number)).toString('hex'));
      expect(parseInt(hex.slice(52, 56), 16)).toBe(82);
      expect(hex.slice(56, 68)).toBe('68656c6c6f0a'); // then the client's own bytes
      seen.add(/ pod=(\w+)$/.exec(line)![1]!);
    }
    // The flow hash spreads 16 connections over both pods (each is 1/2: missing one is 2^-15).
    expect([...seen].sort()).toEqual(['a', 'b']);
    const status = await readJson<ZoneStatus>(statusOf(zns[0]!));
    expect(status!.listeners.find((l) => l.loadBalancer === ppv2.name)!.mode).toBe('proxy');
  });

  it('draining: a removed target keeps its open connection for the deregistration delay, gets no new flow, then is reset', async () => {
    const attrs = { [`${A}aws-load-balancer-target-group-attributes`]: 'deregistration_delay.timeout_seconds=60,deregistration_delay.connection_termination.enabled=true', [`${A}aws-load-balancer-attributes`]: 'load_balancing.cross_zone.enabled=true' };
    const onlyA = plan(svc('drain', 83, attrs), [podA]);
    await publish([ipMode, preserve, ppv2, onlyA]);
    const za = zns[0]!;
    await waitFor('pod a healthy', async () => (await targetStates(za, onlyA.name))[podA.ip] === 'healthy');
    const a = book[onlyA.name]!['lab-1a']!;
    // 60 s / time scale 20 = 3 s of draining; the connection pings every 200 ms for 5 s.
    const long = longConnection(lab.client, a.publicIp, 83, 5000);
    expect(await long.first).toMatch(/ pod=a$/);
    await publish([ipMode, preserve, ppv2, plan(svc('drain', 83, attrs), [podB])]);
    await waitFor('pod a draining', async () => (await targetStates(za, onlyA.name))[podA.ip] === 'draining');
    const status = await readJson<ZoneStatus>(statusOf(za));
    expect(status!.targets.find((t) => t.loadBalancer === onlyA.name && t.ip === podA.ip)).toMatchObject({
      state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress',
    });
    // New flows go to pod b only (pod b is still in initial: with no healthy target, NLB fails open to it).
    const fresh = await Promise.all(Array.from({ length: 6 }, () => clientRequest(lab.client, a.publicIp, 83)));
    for (const line of fresh) expect(line).toMatch(/ pod=b$/);
    const result = await long.done;
    // About 3 s of pings answered while draining, then connection termination reset it.
    expect(result.answers).toBeGreaterThanOrEqual(10);
    expect(result.end).toBe('error ECONNRESET');
    await waitFor('pod a gone after the delay', async () => !(podA.ip in (await targetStates(za, onlyA.name))));
  });

  it('a restarted agent keeps the health its predecessor reported instead of re-registering every target', async () => {
    const za = zns[0]!;
    expect((await targetStates(za, ipMode.name))[podA.ip]).toBe('healthy');
    const old = agents.get(za.zone)!;
    process.kill(old, 'SIGKILL');
    startAgent(za);
    const fresh = await waitFor('the new agent\'s first status', async () => {
      const st = await readJson<ZoneStatus>(statusOf(za));
      return st && st.pid !== old ? st : null;
    });
    expect(fresh.targets.find((t) => t.loadBalancer === ipMode.name && t.ip === podA.ip)?.state).toBe('healthy');
    expect(await clientRequest(lab.client, book[ipMode.name]!['lab-1a']!.publicIp, 80)).toMatch(/ pod=a$/);
  });
});
