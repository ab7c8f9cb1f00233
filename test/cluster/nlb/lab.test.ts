/**
 * The write-up's NLB lessons in a real netns lab (`netlab up` with this test's own lab name, time
 * scale 20): what the echo pod sees as its client in instance / ip / PPv2 modes, health checks of
 * eTP=Local nodes, cross-zone off, draining and readiness gates. The lab is removed in afterAll.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, spawn } from '../../../cluster/exec/exec.js';
import type { ZoneStatus } from '../../../cluster/nlb/agent/files.js';
import type { DescribeTargetHealthOutput } from '../../../cluster/nlb/health/view.js';
import { waitUntil } from '../../helpers/wait.js';

const CLI = path.resolve('dist/cli/main.js');
const LAB = `t${randomBytes(2).toString('hex')}`;
const CLIENT = `${LAB}-client`;
const dir = mkdtempSync(path.join(tmpdir(), 'netlab-nlb-lab-'));
const A = 'service.beta.kubernetes.io/';

async function netlab(...args: string[]): Promise<string> {
  const r = await run(process.execPath, [CLI, ...args, '--name', LAB], { timeoutMs: 90_000 });
  return r.stdout;
}

let manifests = 0;
async function apply(yaml: string): Promise<void> {
  const file = path.join(dir, `m${manifests++}.yaml`);
  writeFileSync(file, yaml);
  await netlab('apply', '-f', file);
}

function deployment(name: string, opts: { replicas?: number; image?: string; namespace?: string; version?: string } = {}): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${opts.namespace ?? 'default'}}
spec:
  replicas: ${opts.replicas ?? 1}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}, version: "${opts.version ?? '1'}"}}
    spec:
      containers:
      - name: web
        image: ${opts.image ?? 'k8s.gcr.io/echoserver:1.5'}
        ports: [{containerPort: ${opts.image?.endsWith('httpd:pp') ? 80 : 8080}}]
`;
}

function service(name: string, app: string, annotations: Record<string, string>, opts: { local?: boolean; namespace?: string; targetPort?: number } = {}): string {
  const ann = Object.entries({ [`${A}aws-load-balancer-scheme`]: 'internet-facing', ...annotations }).map(([k, v]) => `    ${k}: "${v}"`).join('\n');
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${opts.namespace ?? 'default'}
  annotations:
${ann}
spec:
  type: LoadBalancer
  loadBalancerClass: service.k8s.aws/nlb
${opts.local ? '  externalTrafficPolicy: Local\n' : ''}  selector: {app: ${app}}
  ports: [{port: 80, targetPort: ${opts.targetPort ?? 8080}, protocol: TCP}]
`;
}

async function targetHealth(svc: string, namespace = 'default'): Promise<DescribeTargetHealthOutput> {
  return JSON.parse(await netlab('describe-target-health', svc, '-n', namespace)) as DescribeTargetHealthOutput;
}

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> => waitUntil(what, fn, { timeoutMs, intervalMs: 200, retryErrors: true });

interface SvcStatus { metadata: { name: string }; status: { loadBalancer: { ingress?: Array<{ hostname?: string; ip?: string }> } } }
async function serviceStatus(name: string, namespace = 'default'): Promise<SvcStatus> {
  const list = JSON.parse(await netlab('get', 'svc', '-n', namespace, '-o', 'json')) as { items: SvcStatus[] };
  return list.items.find((s) => s.metadata.name === name)!;
}
async function hostnameOf(name: string, namespace = 'default'): Promise<string> {
  return (await serviceStatus(name, namespace)).status.loadBalancer.ingress!.find((i) => i.hostname)!.hostname!;
}

/** One HTTP request from the client namespace; returns the echo's Hostname and client_address lines. */
async function curl(host: string, timeoutS = 3): Promise<{ hostname: string; client: string; body: string } | null> {
  const r = await run('curl', ['-s', '-m', String(timeoutS), `http://${host}/`], { netns: CLIENT, allowFailure: true });
  if (r.exitCode !== 0) return null;
  const hostname = /Hostname: (\S+)/.exec(r.stdout)?.[1] ?? '';
  const client = /client_address=(\S+)/.exec(r.stdout)?.[1] ?? '';
  return { hostname, client, body: r.stdout };
}

async function zoneStatus(zone: string): Promise<ZoneStatus> {
  return JSON.parse(readFileSync(`/run/netlab/${LAB}/nlb/${zone}.status.json`, 'utf8')) as ZoneStatus;
}

/** The byte streams sent to `port` in a classic pcap of Ethernet frames: one per client port, in capture order. */
function streamsTo(pcap: Buffer, port: number): Buffer[] {
  const out = new Map<number, Buffer>();
  let off = 24;
  while (off + 16 <= pcap.length) {
    const caplen = pcap.readUInt32LE(off + 8);
    const frame = pcap.subarray(off + 16, off + 16 + caplen);
    off += 16 + caplen;
    if (frame.length < 34 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    if (ip[9] !== 6) continue;
    const tcp = ip.subarray((ip[0]! & 0x0f) * 4);
    if (tcp.readUInt16BE(2) !== port) continue;
    const payload = tcp.subarray((tcp[12]! >> 4) * 4);
    const sport = tcp.readUInt16BE(0);
    if (payload.length > 0) out.set(sport, Buffer.concat([out.get(sport) ?? Buffer.alloc(0), payload]));
  }
  return [...out.values()];
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  await netlab('up', '--time-scale', '20');
});

afterAll(async () => {
  await run(process.execPath, [CLI, 'down', '--name', LAB], { allowFailure: true, timeoutMs: 90_000 });
  rmSync(dir, { recursive: true, force: true });
  const left = (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${LAB}-`));
  expect(left).toEqual([]);
});

describe('NLB emulator in the netns lab', () => {
  it('instance + Cluster: the pod sees a node address, never the client', async () => {
    await apply(deployment('web') + '---\n' + service('inst-cluster', 'web', { [`${A}aws-load-balancer-type`]: 'external' }));
    const host = await hostnameOf('inst-cluster');
    await waitFor('both instance targets healthy', async () => (await targetHealth('inst-cluster')).TargetHealthDescriptions.every((d) => d.TargetHealth.State === 'healthy'));
    const seen = new Set<string>();
    for (const ip of (await serviceStatus('inst-cluster')).status.loadBalancer.ingress!.filter((i) => i.ip).map((i) => i.ip!)) {
      const r = await curl(ip);
      expect(r, `request via ${ip}`).not.toBeNull();
      seen.add(r!.client);
    }
    // Via the pod's own node the source is that node's pod-bridge address; via the other node, that node's IP (kube-proxy SNAT).
    expect([...seen].sort()).toEqual(['10.244.1.1', '172.18.0.4']);
    expect((await curl(host))!.client).not.toBe('198.51.100.10');
  });

  it('instance + Local: the pod sees the client IP; the node without a pod fails /healthz with 503', async () => {
    await apply(service('inst-local', 'web', { [`${A}aws-load-balancer-type`]: 'external' }, { local: true }));
    const health = await waitFor('one healthy, one unhealthy', async () => {
      const h = await targetHealth('inst-local');
      const states = h.TargetHealthDescriptions.map((d) => d.TargetHealth.State).sort();
      return states.join() === 'healthy,unhealthy' ? h : null;
    });
    const sick = health.TargetHealthDescriptions.find((d) => d.TargetHealth.State === 'unhealthy')!;
    expect(sick.TargetHealth).toEqual({ State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch', Description: 'Health checks failed with these codes: [503]' });
    expect(sick.Target.AvailabilityZone).toBe('lab-1b');
    const svc = JSON.parse(await netlab('get', 'svc', '-o', 'json')) as { items: Array<{ metadata: { name: string }; spec: { healthCheckNodePort?: number } }> };
    expect(sick.HealthCheckPort).toBe(String(svc.items.find((s) => s.metadata.name === 'inst-local')!.spec.healthCheckNodePort));
    // DNS failover: the client resolves the name to zone a only, whose node has the pod.
    const host = await hostnameOf('inst-local');
    const r = await waitFor('a request through the NLB', () => curl(host));
    expect(r.client).toBe('198.51.100.10');
  });

  it('ip targets: the pod sees the NLB node\'s private IP', async () => {
    await apply(deployment('ipweb', { replicas: 2 }) + '---\n' + service('ip-mode', 'ipweb', { [`${A}aws-load-balancer-nlb-target-type`]: 'ip' }));
    await waitFor('ip targets healthy', async () => {
      const h = await targetHealth('ip-mode');
      return h.TargetHealthDescriptions.length === 2 && h.TargetHealthDescriptions.every((d) => d.TargetHealth.State === 'healthy');
    });
    const host = await hostnameOf('ip-mode');
    for (let i = 0; i < 4; i++) expect((await curl(host))!.client).toMatch(/^172\.18\.1\.\d+$/);
  });

  it('ip + PPv2: the pod\'s first bytes are a PPv2 header from the client, and the PPv2-aware echo reports the client IP', async () => {
    await apply(deployment('ppweb', { image: 'gasida/httpd:pp' }) + '---\n' + service('ip-ppv2', 'ppweb', { [`${A}aws-load-balancer-nlb-target-type`]: 'ip', [`${A}aws-load-balancer-proxy-protocol`]: '*' }, { targetPort: 80 }));
    await waitFor('ppv2 target healthy', async () => (await targetHealth('ip-ppv2')).TargetHealthDescriptions.some((d) => d.TargetHealth.State === 'healthy'));
    const pods = JSON.parse(await netlab('get', 'pods', '-o', 'json')) as { items: Array<{ metadata: { name: string; labels: Record<string, string> } }> };
    const pod = pods.items.find((p) => p.metadata.labels.app === 'ppweb')!.metadata.name;
    const pcapFile = path.join(dir, 'pod.pcap');
    // --immediate-mode: without it libpcap hands packets over in blocks and SIGINT loses the last block.
    const tcpdump = spawn('tcpdump', ['-i', 'eth0', '--immediate-mode', '-U', '-w', pcapFile, 'tcp port 80'], { netns: `${LAB}-pod-${pod}`, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', buffer: false });
    let stderr = '';
    tcpdump.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor('tcpdump listening', async () => stderr.includes('listening on'), 10_000);
    const r = await curl(await hostnameOf('ip-ppv2'));
    await new Promise((r2) => setTimeout(r2, 300));
    tcpdump.kill('SIGINT');
    await tcpdump;
    expect(r!.body).toMatch(/proxy_protocol_client=198\.51\.100\.10:\d+/);
    expect(r!.client).toMatch(/^172\.18\.1\.\d+$/);
    const pcap = readFileSync(pcapFile);
    const streams = streamsTo(pcap, 80);
    const request = streams.find((p) => p.includes(Buffer.from('GET / HTTP/1.1')));
    expect(request, `the captured request stream (pcap ${pcap.length} bytes, streams: ${streams.map((x) => x.subarray(0, 40).toString('hex')).join(' ')}; tcpdump: ${stderr.trim()}; answered by ${r!.hostname}, captured in ${pod}; pods ${pods.items.map((p) => p.metadata.name).join(",")})`).toBeDefined();
    // Signature, v2 PROXY, TCP over IPv4, then source 198.51.100.10: the header opens the stream.
    expect(request!.subarray(0, 16).toString('hex')).toBe('0d0a0d0a000d0a515549540a2111000c');
    expect([...request!.subarray(16, 20)].join('.')).toBe('198.51.100.10');
    expect(request!.subarray(28, 31).toString()).toBe('GET');
  });

  it('cross-zone off with all pods in one zone: the other zone\'s NLB node has no healthy target', async () => {
    await apply(deployment('onezone') + '---\n' + service('one-zone', 'onezone', { [`${A}aws-load-balancer-nlb-target-type`]: 'ip' }));
    const health = await waitFor('the target healthy', async () => {
      const h = await targetHealth('one-zone');
      return h.TargetHealthDescriptions.length === 1 && h.TargetHealthDescriptions[0]!.TargetHealth.State === 'healthy' ? h : null;
    });
    const podZone = health.TargetHealthDescriptions[0]!.Target.AvailabilityZone;
    const other = podZone === 'lab-1a' ? 'b' : 'a';
    const lbName = (await hostnameOf('one-zone')).split('.')[0]!.replace(/-[0-9a-f]{16}$/, '');
    const status = await zoneStatus(other);
    expect(status.targets.filter((t) => t.loadBalancer === lbName)).toEqual([]);
    expect(status.listeners.find((l) => l.loadBalancer === lbName)!.routable).toEqual([]);
    const ips = (await serviceStatus('one-zone')).status.loadBalancer.ingress!.filter((i) => i.ip).map((i) => i.ip!);
    const otherIp = ips[other === 'a' ? 0 : 1]!;
    expect(await curl(otherIp, 2)).toBeNull();
    expect(await curl(ips[other === 'a' ? 1 : 0]!)).not.toBeNull();
  });

  it('draining: an open connection to a replaced pod keeps working through the delay; new connections go to the new pod', async () => {
    const annotations = { [`${A}aws-load-balancer-nlb-target-type`]: 'ip', [`${A}aws-load-balancer-target-group-attributes`]: 'deregistration_delay.timeout_seconds=60', [`${A}aws-load-balancer-attributes`]: 'load_balancing.cross_zone.enabled=true' };
    await apply(deployment('drainweb', { version: '1' }) + '---\n' + service('drain', 'drainweb', annotations));
    const host = await hostnameOf('drain');
    await waitFor('target healthy', async () => (await targetHealth('drain')).TargetHealthDescriptions.some((d) => d.TargetHealth.State === 'healthy'));
    const oldPod = (await curl(host))!.hostname;
    // One keep-alive connection asking every 200 ms for 6 s; it reports which pod answered each time.
    const script = `const http=require('node:http');const agent=new http.Agent({keepAlive:true,maxSockets:1});const seen=[];let errors=0;
const iv=setInterval(()=>{http.get({host:'${host}',path:'/',agent},(res)=>{const port=res.socket.localPort;let b='';res.on('data',d=>b+=d);res.on('end',()=>seen.push([Date.now(),(/Hostname: (\\S+)/.exec(b)||[])[1],port]))}).on('error',()=>errors++)},200);
setTimeout(()=>{clearInterval(iv);process.stdout.write(JSON.stringify({seen,errors}));process.exit(0)},6000);`;
    const long = run(process.execPath, ['-e', script], { netns: CLIENT, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 500));
    const replacedAt = Date.now();
    await apply(deployment('drainweb', { version: '2' }));
    await waitFor('old target draining', async () => (await targetHealth('drain')).TargetHealthDescriptions.some((d) => d.TargetHealth.State === 'draining'));
    const fresh = [] as string[];
    for (let i = 0; i < 4; i++) fresh.push((await waitFor('a new connection answered', () => curl(host)))!.hostname);
    expect(fresh.every((h) => h !== oldPod)).toBe(true);
    const { seen } = JSON.parse((await long).stdout) as { seen: Array<[number, string, number]>; errors: number };
    const onOldSocket = seen.filter(([, , port]) => port === seen[0]![2]);
    expect(onOldSocket.every(([, h]) => h === oldPod)).toBe(true);
    // The delay is 60 s / 20 = 3 s: the old connection still answered well after the pod was replaced.
    const lastOld = Math.max(...onOldSocket.map(([t]) => t));
    expect(lastOld - replacedAt).toBeGreaterThan(2000);
  });

  it('readiness gate: a new pod stays not Ready until its target is healthy', async () => {
    await apply(`apiVersion: v1
kind: Namespace
metadata:
  name: gated
  labels: {elbv2.k8s.aws/pod-readiness-gate-inject: enabled}
---
${service('gated', 'gatedweb', { [`${A}aws-load-balancer-nlb-target-type`]: 'ip' }, { namespace: 'gated' })}---
${deployment('gatedweb', { namespace: 'gated' })}`);
    type PodJson = { metadata: { name: string }; spec: { readinessGates?: Array<{ conditionType: string }> }; status: { conditions?: Array<{ type: string; status: string; reason?: string; lastTransitionTime?: string }> } };
    const observed: Array<{ ready: string; gate: string; containers: string }> = [];
    let gateType = '';
    let last: PodJson | undefined;
    await waitFor('the pod Ready', async () => {
      const pods = JSON.parse(await netlab('get', 'pods', '-n', 'gated', '-o', 'json')) as { items: PodJson[] };
      const pod = pods.items[0];
      if (!pod) return false;
      last = pod;
      gateType = pod.spec.readinessGates?.[0]?.conditionType ?? '';
      const cond = (t: string) => pod.status.conditions?.find((c) => c.type === t)?.status ?? 'none';
      observed.push({ ready: cond('Ready'), gate: cond(gateType), containers: cond('ContainersReady') });
      return cond('Ready') === 'True';
    });
    expect(gateType).toMatch(/^target-health\.elbv2\.k8s\.aws\/k8s-gated-gated-[0-9a-f]{10}$/);
    // Never Ready before the gate, in any state we polled.
    expect(observed.every((o) => o.ready !== 'True' || o.gate === 'True')).toBe(true);
    // The conditions' transition times (ms precision) show the hold however slowly we polled:
    // containers ready first, the gate later, Ready not before the gate.
    const at = (t: string) => Date.parse(last!.status.conditions!.find((c) => c.type === t)!.lastTransitionTime!);
    expect(at(gateType)).toBeGreaterThan(at('ContainersReady'));
    expect(at('Ready')).toBeGreaterThanOrEqual(at(gateType));
    expect((await targetHealth('gated', 'gated')).TargetHealthDescriptions[0]!.TargetHealth.State).toBe('healthy');
    expect(await netlab('get', 'pods', '-n', 'gated', '-o', 'wide')).toMatch(/1\/1\s*$/m);
  });

  it('a bad annotation: a Warning event on the Service, no load balancer, the lab keeps running', async () => {
    await apply(service('bad-annotation', 'web', { [`${A}aws-load-balancer-nlb-target-type`]: 'pods', [`${A}aws-load-balancer-healthcheck-interval`]: '1' }));
    const status = await waitFor('the event in netlab status', async () => {
      const out = await netlab('status');
      return out.includes('default/bad-annotation: no load balancer') ? out : null;
    });
    expect(status).toContain('FailedBuildModel: Failed build model due to annotation service.beta.kubernetes.io/aws-load-balancer-nlb-target-type="pods": unsupported target type (use "instance" or "ip")');
    expect((await serviceStatus('bad-annotation')).status.loadBalancer.ingress ?? []).toEqual([]);
    const r = await run(process.execPath, [CLI, 'describe-target-health', 'bad-annotation', '--name', LAB], { allowFailure: true });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/has no NLB yet: FailedBuildModel/);
    // The other load balancers are untouched.
    expect((await curl(await hostnameOf('ip-mode')))!.client).toMatch(/^172\.18\.1\.\d+$/);
  });
});
