/**
 * The NLB emulator in API mode, with real packets: a netns lab (this test's own name, time scale
 * 20) runs the workloads and kube-proxy; the fake API server holds the same Nodes, Pods, Services
 * (handed to the NLB) and EndpointSlices, converted from the lab's state; the emulator
 * (dist/cluster/nlb/api/main.js) runs in a namespace of its own attached to the lab's fabric with
 * its own zone addresses, reaching the fake API through a relay. What it writes into the API and
 * what the lab's client gets through it are both checked. Everything is removed in afterAll.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, spawn } from '../../../../cluster/exec/exec.js';
import { KubeClient } from '../../../../cluster/kube/client.js';
import type { KindTypes } from '../../../../cluster/kube/kinds.js';
import { readState } from '../../../../cluster/lab/state.js';
import type { ServiceReport } from '../../../../cluster/nlb/api/plan.js';
import { DRAIN_FINALIZER } from '../../../../cluster/nlb/plan/build.js';
import { emulatorReturnNode } from '../../../../cluster/nlb/api/return-routing.js';
import { ensureNodeReturnRouting } from '../../../../cluster/nlb/dataplane/apply.js';
import { planLoadBalancer, readinessGateType } from '../../../../cluster/nlb/plan/build.js';
import { FakeKubeApi } from '../../../support/fake-kube-api.js';
import { labObjects } from '../../../support/lab-to-api.js';
import { startRelay, type Relay } from '../../../support/netns-relay.js';
import { waitUntil } from '../../../helpers/wait.js';

const CLI = path.resolve('dist/cli/main.js');
const MAIN = path.resolve('dist/cluster/nlb/api/main.js');
const LAB = `t${randomBytes(2).toString('hex')}`;
const CLIENT = `${LAB}-client`;
const EMU = `${LAB}-nlbapi`;
const EMU_MAC = '02:4e:4c:42:00:63';
const ZONE_A = '172.18.2.2';
const ZONE_B = '172.18.2.3';
const TIME_SCALE = 20;
const A = 'service.beta.kubernetes.io/';
const dir = mkdtempSync(path.join(tmpdir(), 'netlab-nlbapi-'));

let api: FakeKubeApi;
let kube: KubeClient;
let relay: Relay | null = null;
let emulator: ReturnType<typeof spawn> | null = null;
let emulatorLog = '';
let emuCreated = false;

async function netlab(...args: string[]): Promise<string> {
  return (await run(process.execPath, [CLI, ...args, '--name', LAB], { timeoutMs: 120_000 })).stdout;
}

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 30_000): Promise<T> => waitUntil(what, fn, { timeoutMs, intervalMs: 100, retryErrors: true, detail: () => `emulator log:\n${emulatorLog.slice(-3000)}` });

const deployment = (name: string, replicas: number, image = 'k8s.gcr.io/echoserver:1.5', port = 8080) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: web, image: ${image}, ports: [{containerPort: ${port}}]}]}
---
`;
// A class no lab controller owns: the lab programs kube-proxy (node ports, health-check node port), nothing else.
const service = (name: string, app: string, targetPort: number, local = false) => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  type: LoadBalancer
  loadBalancerClass: netlab.dev/not-in-the-lab
${local ? '  externalTrafficPolicy: Local\n' : ''}  selector: {app: ${app}}
  ports: [{port: 80, targetPort: ${targetPort}, protocol: TCP}]
---
`;

const ANNOTATIONS: Record<string, Record<string, string>> = {
  'inst-cluster': { [`${A}aws-load-balancer-type`]: 'external' },
  'inst-local': { [`${A}aws-load-balancer-type`]: 'external' },
  'ip-mode': {
    [`${A}aws-load-balancer-nlb-target-type`]: 'ip',
    [`${A}aws-load-balancer-target-group-attributes`]: 'deregistration_delay.timeout_seconds=60',
    [`${A}aws-load-balancer-attributes`]: 'load_balancing.cross_zone.enabled=true',
  },
  'ip-ppv2': { [`${A}aws-load-balancer-nlb-target-type`]: 'ip', [`${A}aws-load-balancer-proxy-protocol`]: '*', [`${A}aws-load-balancer-attributes`]: 'load_balancing.cross_zone.enabled=true' },
};

/** The lab's Service, handed to the NLB emulator as an AWS user would write it. */
function toNlb(s: KindTypes['Service']): KindTypes['Service'] {
  const name = s.metadata?.name ?? '';
  s.metadata = { ...s.metadata, uid: undefined, annotations: { [`${A}aws-load-balancer-scheme`]: 'internet-facing', ...ANNOTATIONS[name] } };
  s.spec = { ...s.spec, loadBalancerClass: 'service.k8s.aws/nlb' };
  s.status = {};
  return s;
}

async function curl(host: string, timeoutS = 3): Promise<{ hostname: string; client: string; body: string } | null> {
  const r = await run('curl', ['-s', '-m', String(timeoutS), `http://${host}/`], { netns: CLIENT, allowFailure: true });
  if (r.exitCode !== 0) return null;
  return { hostname: /Hostname: (\S+)/.exec(r.stdout)?.[1] ?? '', client: /client_address=(\S+)/.exec(r.stdout)?.[1] ?? '', body: r.stdout };
}

function report(svc: string): ServiceReport | undefined {
  const text = api.object('ConfigMap', 'netlab-nlb-status', 'kube-system')?.data?.[`default.${svc}`];
  return text ? (JSON.parse(text) as ServiceReport) : undefined;
}
const states = (svc: string) => (report(svc)?.targetGroups[0]?.TargetHealthDescriptions ?? []).map((d) => d.TargetHealth.State).sort();
const ingressOf = (svc: string) => api.object('Service', svc, 'default')?.status?.loadBalancer?.ingress ?? [];

beforeAll(async () => {
  for (const f of [CLI, MAIN]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first`);
  await netlab('up', '--time-scale', String(TIME_SCALE));
  const manifest = path.join(dir, 'lab.yaml');
  writeFileSync(
    manifest,
    deployment('web', 1) + deployment('ipweb', 2) + deployment('ppweb', 1, 'gasida/httpd:pp', 80) +
      service('inst-cluster', 'web', 8080) + service('inst-local', 'web', 8080, true) + service('ip-mode', 'ipweb', 8080) + service('ip-ppv2', 'ppweb', 80),
  );
  await netlab('apply', '-f', manifest);
  await waitFor('4 lab pods ready', async () => {
    const s = await readState(LAB);
    return s && s.pods.length === 4 && s.pods.every((p) => p.object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) && s.endpoints.length >= 4;
  }, 60_000);
  const state = (await readState(LAB))!;

  api = await FakeKubeApi.start();
  await api.listenUnix(path.join(dir, 'api.sock'));
  kube = KubeClient.fromOptions({ kubeconfig: api.kubeconfigPath });
  const objects = labObjects(state, toNlb);
  // Services first: their uids name the target groups, whose readiness gates the ip-mode pods carry (the LBC's webhook would add them).
  for (const o of objects.filter((x) => x.kind === 'Service' || x.kind === 'Node')) api.seed(o);
  const ipSvc = api.object('Service', 'ip-mode', 'default')!;
  const ipPlan = planLoadBalancer({ clusterName: LAB, region: 'lab-1', timeScale: TIME_SCALE, service: ipSvc, nodes: api.objects('Node'), pods: [] });
  if (!ipPlan.handled || !ipPlan.plan) throw new Error(`ip-mode did not plan: ${JSON.stringify(ipPlan)}`);
  const gate = readinessGateType(ipPlan.plan.targetGroups[0]!.name);
  for (const o of objects.filter((x) => x.kind !== 'Service' && x.kind !== 'Node')) {
    const pod = o as KindTypes['Pod'];
    if (o.kind === 'Pod' && pod.metadata?.labels?.app === 'ipweb') {
      pod.spec!.readinessGates = [{ conditionType: gate }];
      // As the kubelet reports a pod whose gate is not True yet.
      pod.status!.conditions = (pod.status!.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: 'False', reason: 'ReadinessGatesNotReady' } : c));
    }
    api.seed(o);
  }

  await run('ip', ['netns', 'add', EMU]);
  emuCreated = true;
  await run('ip', ['-n', `${LAB}-fabric`, '-batch', '-'], { input: `link add ${LAB}nlbapi type veth peer name eth0 netns ${EMU}\nlink set ${LAB}nlbapi master br0\nlink set ${LAB}nlbapi up\n` });
  await run('ip', ['-n', EMU, '-batch', '-'], { input: `link set lo up\nlink set eth0 address ${EMU_MAC}\naddr add ${ZONE_A}/16 dev eth0\nlink set eth0 up\nroute add default via 172.18.0.1\n` });
  for (const n of state.nodes) await ensureNodeReturnRouting(n.netns, [emulatorReturnNode(EMU_MAC, ZONE_A)]);
  relay = await startRelay(EMU, path.join(dir, 'api.sock'), dir);
  const kubeconfig = path.join(dir, 'emulator.kubeconfig');
  writeFileSync(kubeconfig, api.kubeconfig('fake', `http://127.0.0.1:${relay.port}`));
  emulator = spawn(process.execPath, [MAIN, '--kubeconfig', kubeconfig, '--zones', `a=${ZONE_A},b=${ZONE_B}`, '--interface', 'eth0', '--pool', '172.18.2.10-172.18.2.250', '--cluster-name', LAB, '--time-scale', String(TIME_SCALE)], {
    netns: EMU,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
  });
  emulator.catch(() => undefined);
  emulator.stdout!.on('data', (c: Buffer) => (emulatorLog += c.toString()));
  emulator.stderr!.on('data', (c: Buffer) => (emulatorLog += c.toString()));
  await waitFor('the emulator ready', () => emulatorLog.includes(' ready\n'), 30_000);
}, 240_000);

afterAll(async () => {
  if (emulator) {
    emulator.kill('SIGTERM');
    await emulator;
  }
  relay?.stop();
  await api?.close();
  if (emuCreated) await run('ip', ['netns', 'del', EMU], { allowFailure: true });
  await run(process.execPath, [CLI, 'down', '--name', LAB], { allowFailure: true, timeoutMs: 120_000 });
  rmSync(dir, { recursive: true, force: true });
  const left = (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${LAB}-`));
  expect(left).toEqual([]);
}, 180_000);

describe('NLB emulator in API mode (fake API server + netns lab, real packets)', () => {
  it('writes each Service\'s ingress: the NLB DNS name and one address per zone, from its pool', async () => {
    for (const svc of Object.keys(ANNOTATIONS)) {
      const ingress = await waitFor(`${svc} ingress`, () => (ingressOf(svc).length === 3 ? ingressOf(svc) : null));
      expect(ingress[0]!.hostname).toMatch(new RegExp(`^k8s-default-${svc.replace('-', '').slice(0, 8)}-[0-9a-f]{10}-[0-9a-f]{16}\\.elb\\.lab-1\\.amazonaws\\.com$`));
      expect(ingress.slice(1).map((i) => `${i.ip} ${i.ipMode}`).every((l) => /^172\.18\.2\.\d+ Proxy$/.test(l))).toBe(true);
    }
    const all = Object.keys(ANNOTATIONS).flatMap((s) => ingressOf(s).slice(1).map((i) => i.ip));
    expect(new Set(all).size).toBe(8);
    // Written through the status subresource, and announced with an Event.
    expect(api.requests.some((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/default/services/inst-cluster/status')).toBe(true);
    expect(api.objects('Event', 'default').filter((e) => e.reason === 'SuccessfullyReconciled').map((e) => e.involvedObject?.name).sort()).toEqual(Object.keys(ANNOTATIONS).sort());
  });

  it('publishes target health: eTP=Local fails /healthz (503) on the node without the pod', async () => {
    await waitFor('inst-cluster both healthy', () => states('inst-cluster').join() === 'healthy,healthy');
    await waitFor('inst-local healthy + unhealthy', () => states('inst-local').join() === 'healthy,unhealthy');
    const sick = report('inst-local')!.targetGroups[0]!.TargetHealthDescriptions.find((d) => d.TargetHealth.State === 'unhealthy')!;
    expect(sick.TargetHealth).toEqual({ State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch', Description: 'Health checks failed with these codes: [503]' });
    expect(sick.HealthCheckPort).toBe(String(api.object('Service', 'inst-local', 'default')!.spec!.healthCheckNodePort));
    // DNS failover: only the zone with a healthy target.
    expect(report('inst-local')!.dnsAddresses).toHaveLength(1);
  });

  it('instance + Cluster: real requests through either zone reach the pod via NodePort; the pod never sees the client', async () => {
    const seen = new Set<string>();
    for (const i of ingressOf('inst-cluster').slice(1)) {
      const r = await waitFor(`a response via ${i.ip}`, () => curl(i.ip!));
      expect(r.hostname).toMatch(/^web-/);
      seen.add(r.client);
    }
    expect([...seen].every((c) => c !== '198.51.100.10' && (/^172\.18\.0\.\d+$/.test(c) || /^10\.244\.\d+\.1$/.test(c)))).toBe(true);
  });

  it('instance + Local: through the healthy zone the pod sees the client IP (reply returns through the emulator)', async () => {
    const ip = report('inst-local')!.dnsAddresses[0]!;
    const r = await waitFor('a response via the healthy zone', () => curl(ip));
    expect(r.client).toBe('198.51.100.10');
  });

  it('ip targets: kernel NAT straight to the pods, which see the emulator\'s load balancer address', async () => {
    await waitFor('ip-mode targets healthy', () => states('ip-mode').join() === 'healthy,healthy');
    const lbIps = ingressOf('ip-mode').slice(1).map((i) => i.ip!);
    const hosts = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const r = (await curl(lbIps[i % 2]!))!;
      expect(lbIps).toContain(r.client);
      hosts.set(r.hostname, (hosts.get(r.hostname) ?? 0) + 1);
    }
    // Cross-zone on: new flows hash over both pods (all 20 on one would be a 2-in-a-million chance).
    expect([...hosts.keys()].sort()).toEqual(api.objects('Pod', 'default').filter((p) => p.metadata?.labels?.app === 'ipweb').map((p) => p.metadata!.name).sort());
  });

  it('ip + PPv2: the PPv2-aware app reports the client from the PROXY header; its TCP peer is the emulator', async () => {
    await waitFor('ip-ppv2 target healthy', () => states('ip-ppv2').join() === 'healthy');
    const ip = ingressOf('ip-ppv2')[1]!.ip!;
    const r = await waitFor('a PPv2 response', () => curl(ip));
    expect(r.body).toMatch(/proxy_protocol_client=198\.51\.100\.10:\d+/);
    expect(r.client).toBe(ip);
  });

  it('readiness gate: each ip target\'s pod condition goes False (registration, initial checks) then True', async () => {
    const pods = api.objects('Pod', 'default').filter((p) => p.metadata?.labels?.app === 'ipweb');
    const gate = pods[0]!.spec!.readinessGates![0]!.conditionType;
    for (const p of pods) {
      await waitFor(`${p.metadata!.name} gate True`, () => api.object('Pod', p.metadata!.name!, 'default')!.status!.conditions!.find((c) => c.type === gate)?.status === 'True');
      const trail = api.history
        .filter((e) => e.info.kind === 'Pod' && e.object.metadata?.name === p.metadata!.name)
        .map((e) => (e.object as KindTypes['Pod']).status?.conditions?.find((c) => c.type === gate))
        .filter((c) => c !== undefined)
        .map((c) => `${c.status}${c.reason ? `/${c.reason}` : ''}`);
      const distinct = trail.filter((t, i) => t !== trail[i - 1]);
      expect(distinct[0]).toMatch(/^False\/Elb\.(RegistrationInProgress|InitialHealthChecking)$/);
      expect(distinct.at(-1)).toBe('True');
    }
  });

  it('draining: a deleted target pod keeps the finalizer while its target drains, gets no new flows, then is released', async () => {
    const pods = api.objects('Pod', 'default').filter((p) => p.metadata?.labels?.app === 'ipweb');
    for (const p of pods) await waitFor('the drain finalizer on ip targets', () => api.object('Pod', p.metadata!.name!, 'default')!.metadata!.finalizers?.includes(DRAIN_FINALIZER));
    const [victim, survivor] = pods as [KindTypes['Pod'], KindTypes['Pod']];
    // Ten keep-alive connections ask every 200 ms and note which pod answered on which socket; the
    // script says "answered" once every socket has had an answer, and goes on for 3.5 s more.
    const lbIp = ingressOf('ip-mode')[1]!.ip!;
    const script = `const http=require('node:http');const seen=[];let errors=0;let told=false;
const agents=Array.from({length:10},()=>new http.Agent({keepAlive:true,maxSockets:1}));
const iv=setInterval(()=>agents.forEach((agent,i)=>http.get({host:'${lbIp}',path:'/',agent},(res)=>{const port=res.socket.localPort;let b='';res.on('data',d=>b+=d);res.on('end',()=>{seen.push([Date.now(),i,port,(/Hostname: (\\S+)/.exec(b)||[])[1]]);
if(!told&&new Set(seen.map(x=>x[1])).size===10){told=true;process.stdout.write('answered\\n');
setTimeout(()=>{clearInterval(iv);process.stdout.write(JSON.stringify({seen,errors})+'\\n');process.exit(0)},3500)}})}).on('error',()=>errors++)),200);`;
    const long = spawn(process.execPath, ['-e', script], { netns: CLIENT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: false });
    let out = '';
    long.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    long.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor('every keep-alive socket answered once', () => out.includes('answered\n'), 15_000);
    const deletedAt = Date.now();
    expect(await kube.delete('Pod', victim.metadata!.name!, 'default')).toBe(true);
    const terminating = api.object('Pod', victim.metadata!.name!, 'default');
    expect(terminating?.metadata?.deletionTimestamp).toBeTruthy();
    await waitFor('the target draining', () => report('ip-mode')!.targetGroups[0]!.TargetHealthDescriptions.some((d) => d.Target.Id === victim.status!.podIP && d.TargetHealth.State === 'draining'));
    const lbIps = ingressOf('ip-mode').slice(1).map((i) => i.ip!);
    for (let i = 0; i < 6; i++) expect((await curl(lbIps[i % 2]!))!.hostname).toBe(survivor.metadata!.name);
    // 60 s / time scale 20 = 3 s of draining, then the finalizer goes and the API deletes the pod.
    await waitFor('the pod gone from the API', () => !api.object('Pod', victim.metadata!.name!, 'default'));
    expect(Date.now() - deletedAt).toBeGreaterThan(2500);
    // Connections the victim had before its deletion kept being answered by it through the drain.
    await long;
    const { seen, errors } = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as { seen: Array<[number, number, number, string]>; errors: number };
    expect(errors).toBe(0);
    const onVictim = new Set(seen.filter(([t, , , h]) => t < deletedAt && h === victim.metadata!.name).map(([, , port]) => port));
    expect(onVictim.size, `victim ${victim.metadata!.name}, deleted at ${deletedAt}; seen ${JSON.stringify(seen.slice(0, 40))}`).toBeGreaterThan(0);
    const later = seen.filter(([t, , port]) => t > deletedAt && onVictim.has(port));
    expect(later.every(([, , , h]) => h === victim.metadata!.name)).toBe(true);
    expect(Math.max(...later.map(([t]) => t)) - deletedAt).toBeGreaterThan(2000);
    expect(api.object('Pod', survivor.metadata!.name!, 'default')!.metadata!.finalizers).toContain(DRAIN_FINALIZER);
    await waitFor('only the survivor reported', () => report('ip-mode')!.targetGroups[0]!.TargetHealthDescriptions.map((d) => d.Target.Id).join() === survivor.status!.podIP);
  });

  it('a Service created later with a bad annotation: a Warning event from the watch, no ingress, the others keep working', async () => {
    await kube.applyDocuments(`apiVersion: v1
kind: Service
metadata:
  name: bad
  annotations: {${A}aws-load-balancer-nlb-target-type: pods}
spec:
  type: LoadBalancer
  loadBalancerClass: service.k8s.aws/nlb
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`, 'bad.yaml');
    const event = await waitFor('a FailedBuildModel event', () => api.objects('Event', 'default').find((e) => e.involvedObject?.name === 'bad' && e.reason === 'FailedBuildModel'));
    expect(event.type).toBe('Warning');
    expect(event.message).toBe('Failed build model due to annotation service.beta.kubernetes.io/aws-load-balancer-nlb-target-type="pods": unsupported target type (use "instance" or "ip")');
    expect(ingressOf('bad')).toEqual([]);
    // Events are written before the report in a pass: wait for the report too.
    expect((await waitFor('the report on bad', () => report('bad'))).loadBalancer).toBeNull();
    expect((await curl(ingressOf('inst-cluster')[1]!.ip!))!.hostname).toMatch(/^web-/);
  });

  it('stops cleanly: addresses, routes and its own chains leave the emulator\'s namespace', async () => {
    emulator!.kill('SIGTERM');
    await emulator;
    emulator = null;
    expect(emulatorLog).toContain('stopped; addresses, routes and rules removed');
    const addrs = (await run('ip', ['-n', EMU, '-4', '-br', 'addr', 'show', 'dev', 'eth0'])).stdout;
    expect(addrs.trim().split(/\s+/).slice(2)).toEqual([`${ZONE_A}/16`]);
    expect((await run('ip', ['-n', EMU, 'route'])).stdout).not.toMatch(/10\.244\./);
    const rules = (await run('iptables-save', [], { netns: EMU })).stdout;
    expect(rules).not.toMatch(/NLBAPI-|NLB-/);
  });
});
