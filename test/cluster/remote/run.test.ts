/**
 * `netlab capture --service` end to end against the fake API server, with real packets: a client,
 * a "node" that does kube-proxy's NodePort DNAT + MASQUERADE with real iptables, and a "pod" whose
 * server process sits in a cgroup named like containerd's — all network namespaces this file makes.
 * The fake exec runs each requested argv inside the namespace of the capture pod's node, so the
 * /proc scan, nsenter and tcpdump are the real ones and the pcaps travel over a real WebSocket.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFile, recordToContract } from '../../../analyzer/decode/index.js';
import { run } from '../../../cluster/exec/exec.js';
import { builtScript } from '../../../cluster/exec/paths.js';
import { NetlabError } from '../../../analyzer/errors.js';
import { runRemoteCapture } from '../../../cluster/remote/run.js';
import { CAPTURE_NAMESPACE_PREFIX } from '../../../cluster/remote/manifests.js';
import { TestNetns, waitForStderr } from '../../helpers/netns.js';
import { waitUntil } from '../../helpers/wait.js';
import { FakeKubeApi } from '../../support/fake-kube-api.js';
import { attachFakeExec, type FakeExec } from '../../support/fake-kube-exec.js';
import { startFakeControllers, type FakeControllers } from '../../support/fake-cluster-controllers.js';

const BIN = path.resolve('dist/cli/main.js');
const CLIENT_IP = '198.51.100.10';
const NODE_IP = '198.51.100.1';
/** worker-a and worker-b on the cluster's own network. */
const FABRIC_A = '172.18.0.1';
const FABRIC_B = '172.18.0.2';
const POD_GW = '10.244.1.1';
const POD_IP = '10.244.1.5';
const POD_GW_B = '10.244.2.1';
const POD_IP_B = '10.244.2.5';
const PODS = [
  { name: 'web-1', node: 'worker-a', ip: POD_IP, uid: '6c0f3e9a-1b2c-4d5e-8f90-0123456789ab', containerId: randomBytes(32).toString('hex') },
  { name: 'web-2', node: 'worker-b', ip: POD_IP_B, uid: '7d1a4fab-2c3d-4e5f-9a01-123456789abc', containerId: randomBytes(32).toString('hex') },
];

const nets = new TestNetns();
const cgroupDir = `/sys/fs/cgroup/unified/netlab-${nets.prefix}pods`;
let api: FakeKubeApi;
let fakeExec: FakeExec;
let controllers: FakeControllers;
let client: string;
let nodeNs: string;
let nodeNetns: Record<string, string> = {};
const serverPids: Record<string, number> = {};
let workDir: string;

/** N HTTP requests from the client namespace to the NodePort (or from elsewhere to a URL), each on a new connection. */
async function sendRequests(n: number, from = client, url = `http://${NODE_IP}:30080/`): Promise<Array<{ status: number | null }>> {
  const r = await run(process.execPath, [builtScript('cluster/traffic/http-client.js'), '--url', url, '--requests', String(n)], { netns: from });
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: number | null });
}

const captureNamespaces = () => api.history.filter((e) => e.info.kind === 'Namespace' && e.object.metadata?.name?.startsWith(CAPTURE_NAMESPACE_PREFIX));

/** Packets of a capture file, as CONTRACT.md NDJSON objects, plus the decoder's summary. */
async function packets(file: string) {
  const out: Array<ReturnType<typeof recordToContract> & { get: boolean }> = [];
  const summary = await decodeFile(file, (rec) => {
    const payload = Buffer.from(rec.bytes.subarray(rec.payloadOffset, rec.payloadOffset + Math.min(rec.payloadLen, 16)));
    out.push({ ...recordToContract(rec), get: payload.toString('latin1').startsWith('GET / HTTP/1.1') });
  });
  return { list: out, summary };
}

function cli(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, 'capture', '--kubeconfig', api.kubeconfigPath, ...args], { stdio: 'pipe' });
}

function exited(p: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => p.on('close', (code) => resolve({ code, stdout, stderr })));
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'netlab-remote-'));
  client = await nets.add('client');
  const nodeA = (nodeNs = await nets.add('node-a'));
  const nodeB = await nets.add('node-b');
  const podNs: Record<string, string> = { 'web-1': await nets.add('pod-a'), 'web-2': await nets.add('pod-b') };
  await nets.link(client, 'eth0', `${CLIENT_IP}/24`, nodeA, 'eth0', `${NODE_IP}/24`);
  await nets.link(nodeA, 'eth1', `${FABRIC_A}/24`, nodeB, 'eth0', `${FABRIC_B}/24`);
  await nets.link(nodeA, 'veth-web', `${POD_GW}/24`, podNs['web-1']!, 'eth0', `${POD_IP}/24`);
  await nets.link(nodeB, 'veth-web', `${POD_GW_B}/24`, podNs['web-2']!, 'eth0', `${POD_IP_B}/24`);
  await run('ip', ['-n', client, 'route', 'add', 'default', 'via', NODE_IP]);
  await run('ip', ['-n', podNs['web-1']!, 'route', 'add', 'default', 'via', POD_GW]);
  await run('ip', ['-n', podNs['web-2']!, 'route', 'add', 'default', 'via', POD_GW_B]);
  await run('ip', ['-n', nodeA, 'route', 'add', '10.244.2.0/24', 'via', FABRIC_B]);
  await run('ip', ['-n', nodeB, 'route', 'add', '10.244.1.0/24', 'via', FABRIC_A]);
  for (const n of [nodeA, nodeB]) await run('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'], { netns: n });
  // kube-proxy's NodePort with externalTrafficPolicy Cluster on worker-a: every other new connection
  // to each endpoint (kube-proxy picks at random; alternating keeps the counts exact), MASQUERADE after DNAT.
  const nodePort = ['-p', 'tcp', '-d', NODE_IP, '--dport', '30080'];
  await run('iptables', ['-t', 'nat', '-A', 'PREROUTING', ...nodePort, '-m', 'statistic', '--mode', 'nth', '--every', '2', '--packet', '0', '-j', 'DNAT', '--to-destination', `${POD_IP}:8080`], { netns: nodeA });
  await run('iptables', ['-t', 'nat', '-A', 'PREROUTING', ...nodePort, '-j', 'DNAT', '--to-destination', `${POD_IP_B}:8080`], { netns: nodeA });
  await run('iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'MASQUERADE'], { netns: nodeA });
  for (const p of PODS) {
    const server = nets.start(podNs[p.name]!, process.execPath, ['-e', `require('http').createServer((q, s) => s.end('Hostname: ${p.name}\\n')).listen(8080, () => console.error('listening'))`]);
    await waitForStderr(server, 'listening');
    serverPids[p.name] = server.pid!;
    // The kubelet puts a container's processes in a cgroup named after its ID (systemd driver layout).
    const scope = `${cgroupDir}/cri-containerd-${p.containerId}.scope`;
    await mkdir(scope, { recursive: true });
    await writeFile(`${scope}/cgroup.procs`, String(server.pid));
  }

  api = await FakeKubeApi.start();
  api.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-a' }, spec: { podCIDR: '10.244.1.0/24' }, status: { addresses: [{ type: 'InternalIP', address: NODE_IP }, { type: 'Hostname', address: 'worker-a' }] } });
  api.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-b' }, spec: { podCIDR: '10.244.2.0/24' }, status: { addresses: [{ type: 'InternalIP', address: FABRIC_B }, { type: 'Hostname', address: 'worker-b' }] } });
  api.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  for (const p of PODS) {
    api.seed({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: p.name, namespace: 'shop', uid: p.uid, labels: { app: 'web' } },
      spec: { nodeName: p.node, containers: [{ name: 'web', image: 'echo' }] },
      status: { phase: 'Running', podIP: p.ip, containerStatuses: [{ name: 'web', image: 'echo', imageID: '', ready: true, restartCount: 0, containerID: `containerd://${p.containerId}` }] },
    });
  }
  api.seed({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] } });
  api.seed({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name: 'web-x1y2z', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: PODS.map((p) => ({ addresses: [p.ip], conditions: { ready: true }, nodeName: p.node, targetRef: { kind: 'Pod', name: p.name, namespace: 'shop', uid: p.uid } })),
  });
  nodeNetns = { 'worker-a': nodeA, 'worker-b': nodeB };
  fakeExec = attachFakeExec(api, (ns, name) => (ns.startsWith(CAPTURE_NAMESPACE_PREFIX) ? nodeNetns[api.object('Pod', name, ns)?.spec?.nodeName ?? ''] ?? null : null));
  controllers = startFakeControllers(api, {
    podState: (image) => (image.includes('unpullable') ? { waiting: 'ImagePullBackOff' } : image.includes('slow') ? { waiting: 'ContainerCreating' } : 'running'),
    onPodDeleted: (ns, name) => fakeExec.killPod(ns, name),
  });
});

afterAll(async () => {
  controllers?.stop();
  await fakeExec?.close();
  await api?.close();
  await nets.cleanup();
  for (const p of PODS) await rmdir(`${cgroupDir}/cri-containerd-${p.containerId}.scope`).catch(() => undefined);
  await rmdir(cgroupDir).catch(() => undefined);
  await rm(workDir, { recursive: true, force: true });
});

describe('netlab capture --service on a cluster (fake API, real packets)', () => {
  let outDir: string;
  let run1: Awaited<ReturnType<typeof runRemoteCapture>>;
  let answered = 0;
  const progress: string[] = [];

  beforeAll(async () => {
    outDir = path.join(workDir, 'run1');
    let traffic: Promise<Array<{ status: number | null }>> | null = null;
    run1 = await runRemoteCapture({
      kubeconfig: api.kubeconfigPath,
      service: 'shop/web',
      durationSec: 8,
      outDir,
      onProgress: (m) => {
        progress.push(m);
        // The client's requests, and two "kubelet probes" from the node straight to the pod.
        if (m.startsWith('capturing for')) traffic = Promise.all([sendRequests(10), sendRequests(2, nodeNs, `http://${POD_IP}:8080/`)]).then((r) => r.flat());
      },
    });
    answered = (await traffic!).filter((r) => r.status === 200).length;
  });

  it('deploys the capture namespace, execs tcpdump on each node and nsenter into each pod from its own node, then deletes the namespace', async () => {
    expect(answered).toBe(12);
    const events = captureNamespaces();
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
    const ns = events[0]!.object.metadata!.name!;
    expect(run1.captureNamespace).toBe(ns);
    expect(api.object('Namespace', ns)).toBeUndefined();
    const execs = fakeExec.records.filter((r) => r.namespace === ns);
    for (const [node, pod] of [['worker-a', 'web-1'], ['worker-b', 'web-2']] as const) {
      // Every exec for a node went to the capture pod the DaemonSet put on that node.
      const here = execs.filter((r) => r.netns === nodeNetns[node]);
      const nodeOf = (pod: string) => (api.history.find((e) => e.info.kind === 'Pod' && e.object.metadata?.name === pod)?.object as { spec?: { nodeName?: string } } | undefined)?.spec?.nodeName;
      expect(new Set(here.map((r) => nodeOf(r.pod)))).toEqual(new Set([node]));
      expect(here.map((r) => r.command.slice(0, 7).join(' '))).toEqual([
        'ip -j addr show',
        'find /proc -mindepth 2 -maxdepth 2 -name',
        `nsenter -t ${serverPids[pod]} -n ip -j addr`,
        'timeout -s INT 8 tcpdump -i any',
        `timeout -s INT 8 nsenter -t ${serverPids[pod]}`,
      ]);
    }
    expect(execs).toHaveLength(10);
    expect(execs.every((r) => r.protocol === 'v5.channel.k8s.io' && r.container === 'capture')).toBe(true);
    await waitUntil('the capture processes to end', () => fakeExec.running() === 0, { timeoutMs: 20_000, intervalMs: 100 });
  });

  it('every byte tcpdump wrote reaches the run folder through the exec stream, and decodes cleanly', async () => {
    const streamed = fakeExec.records.filter((r) => r.namespace === run1.captureNamespace && r.command[0] === 'timeout');
    expect(run1.captures.map((c) => c.bytes)).toEqual(streamed.map((r) => r.stdoutBytes));
    for (const c of run1.captures) {
      const head = (await readFile(path.join(outDir, c.file))).subarray(0, 4);
      expect(head.toString('hex')).toBe('4d3cb2a1'); // nanosecond pcap, little-endian
      const { summary } = await packets(path.join(outDir, c.file));
      expect(summary.malformed).toEqual({});
      expect(summary.linktypes).toEqual({ LINUX_SLL2: summary.packets });
      expect(c.packets).toBe(summary.packets);
      expect(c.dropped).toBe(0);
    }
  });

  it('the captures hold the real packets: SYNs to the NodePort at the node, SYNs and request lines to each pod inside it', async () => {
    const nodeA = (await packets(path.join(outDir, 'worker-a.pcap'))).list;
    const nodeB = (await packets(path.join(outDir, 'worker-b.pcap'))).list;
    const podA = (await packets(path.join(outDir, 'pod-web-1.pcap'))).list;
    const podB = (await packets(path.join(outDir, 'pod-web-2.pcap'))).list;
    const syn = (list: typeof nodeA, src: string, dst: string, dport: number) => list.filter((p) => p.flags === 'S' && p.src === src && p.dst === dst && p.dport === dport).length;
    expect(syn(nodeA, CLIENT_IP, NODE_IP, 30080)).toBe(10);
    // After NAT: 5 connections to the local pod from worker-a's pod-side address (plus the 2 probes),
    // 5 to the pod on worker-b from worker-a's address on the cluster network.
    expect([syn(nodeA, POD_GW, POD_IP, 8080), syn(podA, POD_GW, POD_IP, 8080)]).toEqual([7, 7]);
    expect([syn(nodeA, FABRIC_A, POD_IP_B, 8080), syn(nodeB, FABRIC_A, POD_IP_B, 8080), syn(podB, FABRIC_A, POD_IP_B, 8080)]).toEqual([5, 10, 5]);
    expect([podA.filter((p) => p.get).length, podB.filter((p) => p.get).length]).toEqual([7, 5]);
  });

  it('builds the manifest from the API and from the node itself', async () => {
    const manifest = JSON.parse(await readFile(path.join(outDir, 'manifest.json'), 'utf8'));
    expect(manifest.points.map((p: { name: string; role: string; node: string; pod: string | null }) => [p.name, p.role, p.node, p.pod])).toEqual([
      ['worker-a', 'node', 'worker-a', null],
      ['worker-b', 'node', 'worker-b', null],
      ['web-1', 'pod', 'worker-a', 'web-1'],
      ['web-2', 'pod', 'worker-b', 'web-2'],
    ]);
    expect(Object.values(manifest.points[0].ifindex)).toEqual(expect.arrayContaining(['eth0', 'eth1', 'veth-web']));
    expect(manifest.addresses).toEqual({
      [NODE_IP]: { node: 'worker-a', role: 'node' },
      [FABRIC_A]: { node: 'worker-a', role: 'node' },
      [POD_GW]: { node: 'worker-a', role: 'node' },
      [FABRIC_B]: { node: 'worker-b', role: 'node' },
      [POD_GW_B]: { node: 'worker-b', role: 'node' },
      [POD_IP]: { pod: 'web-1', node: 'worker-a', role: 'pod' },
      [POD_IP_B]: { pod: 'web-2', node: 'worker-b', role: 'pod' },
    });
    // No --client: connections the node itself starts (kubelet probes) are background.
    expect(manifest.clients).toEqual([CLIENT_IP]);
    expect(run1.report.notes).toContain(`connections started by node addresses (kubelet probes, node-local checks) are background; the clients are ${CLIENT_IP} (choose them with --client)`);
    const cluster = JSON.parse(await readFile(path.join(outDir, 'cluster.json'), 'utf8'));
    expect(cluster.service.spec.ports[0].nodePort).toBe(30080);
  });

  it('analyzes as netlab capture does: DNAT+SNAT by kube-proxy at the first node, across nodes to web-2, the pods see the node, not the client', async () => {
    const r = run1.report;
    const flows = r.flows.filter((f) => !f.healthCheck);
    expect(flows).toHaveLength(10);
    expect(r.flows.filter((f) => f.healthCheck).map((f) => [f.client?.ip, f.backend?.ip, f.hops.map((h) => h.translation).join(',')])).toEqual([
      [POD_GW, POD_IP, 'none,none'],
      [POD_GW, POD_IP, 'none,none'],
    ]);
    expect(r.serviceInfo).toEqual(expect.objectContaining({ type: 'NodePort', frontDoor: 'node-port', ports: [{ name: 'http', port: 80, nodePort: 30080 }], targetPorts: [8080] }));
    for (const f of flows) {
      expect(f.client).toEqual({ ip: CLIENT_IP, port: expect.any(Number) });
      expect(f.hops.map((h) => [h.point.replace(/:.*/, ''), h.translation, h.by])).toContainEqual(['worker-a', 'dnat+snat', 'kube-proxy']);
      expect(f.verdict.clientIpAtBackend).toBe('lost');
      const remote = f.backend?.pod === 'web-2';
      expect(f.backend).toEqual(expect.objectContaining(remote ? { ip: POD_IP_B, pod: 'web-2', node: 'worker-b' } : { ip: POD_IP, pod: 'web-1', node: 'worker-a' }));
      expect(f.verdict.crossNode).toBe(remote);
      if (remote) expect(f.hops.map((h) => h.point)).toEqual(['worker-a:eth0', 'worker-a:eth1', 'worker-b:eth0', 'worker-b:veth-web', 'web-2:eth0']);
    }
    expect(r.summary.backends).toEqual({ 'web-1': 5, 'web-2': 5 });
    expect(r.summary.sourceSeenByBackend).toEqual({ [FABRIC_A]: 5, [POD_GW]: 5 });
    expect(JSON.parse(await readFile(path.join(outDir, 'report.json'), 'utf8')).service).toBe('shop/web');
  });

  it('says which hops are inferred, in the report and report.md', async () => {
    expect(run1.report.inferred).toEqual([
      'client: no capture point outside the cluster; the client is the source address seen at the first captured point.',
      'client → node hop inferred: the client is the source address seen at the node receiving the NodePort traffic.',
      `backends saw source ${POD_GW} is node worker-a's address: SNAT by kube-proxy on the way in (externalTrafficPolicy Cluster), the client IP is lost at the peer (5 flows).`,
      `backends saw source ${FABRIC_A} is node worker-a's address: SNAT by kube-proxy on the way in (externalTrafficPolicy Cluster), the client IP is lost at the peer (5 flows).`,
    ]);
    const md = await readFile(path.join(outDir, 'report.md'), 'utf8');
    expect(md).toContain('## Inferred hops (not captured)');
    expect(md).toContain(`- backends saw source ${POD_GW} is node worker-a's address`);
  });

  it('a run that fails midway (capture image cannot be pulled) still deletes its namespace', async () => {
    const before = captureNamespaces().length;
    await expect(runRemoteCapture({ kubeconfig: api.kubeconfigPath, service: 'shop/web', durationSec: 5, outDir: path.join(workDir, 'fail'), image: 'registry.invalid/unpullable:1', podsTimeoutMs: 1500 }))
      .rejects.toThrow(/capture pods not running after 1.5 s: worker-a: ImagePullBackOff; worker-b: ImagePullBackOff/);
    const events = captureNamespaces().slice(before);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
    expect(api.objects('DaemonSet', events[0]!.object.metadata!.name!)).toEqual([]);
  });

  it('RBAC refusing the namespace: the API\'s reason in one error, and no cleanup error over it', async () => {
    const refuse = api.route('POST', /^\/api\/v1\/namespaces$/, (_req, res) => {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'namespaces is forbidden: User "dev" cannot create resource "namespaces" in API group "" at the cluster scope' }));
    });
    const progress: string[] = [];
    try {
      const err = await runRemoteCapture({ kubeconfig: api.kubeconfigPath, service: 'shop/web', durationSec: 5, outDir: path.join(workDir, 'rbac'), onProgress: (m) => progress.push(m) }).catch((e: unknown) => e as NetlabError);
      expect(err).toBeInstanceOf(NetlabError);
      expect((err as NetlabError).oneLine()).toMatch(/POST \/api\/v1\/namespaces: 403 Forbidden: namespaces is forbidden: User "dev" cannot create resource "namespaces".* — check the kubeconfig user's credentials and RBAC$/);
      expect(progress.at(-1)).toMatch(/^namespace netlab-capture-[0-9a-f]{6} deleted$|^namespace netlab-capture-[0-9a-f]{6}: /);
    } finally {
      refuse();
    }
  });

  it('--keep leaves the namespace and its DaemonSet, even when the run fails', async () => {
    const before = captureNamespaces().length;
    const progress: string[] = [];
    await expect(runRemoteCapture({ kubeconfig: api.kubeconfigPath, service: 'shop/web', durationSec: 5, outDir: path.join(workDir, 'keep'), image: 'registry.invalid/unpullable:1', podsTimeoutMs: 500, keep: true, onProgress: (m) => progress.push(m) }))
      .rejects.toThrow(/ImagePullBackOff/);
    const events = captureNamespaces().slice(before);
    expect(events.map((e) => e.type)).toEqual(['ADDED']);
    const ns = events[0]!.object.metadata!.name!;
    expect(api.objects('DaemonSet', ns).map((d) => d.metadata?.name)).toEqual(['netlab-capture']);
    expect(progress.at(-1)).toBe(`kept namespace ${ns}: kubectl delete namespace ${ns} removes it`);
    api.remove('Namespace', ns);
  });
});

describe('the netlab capture --service process', () => {
  it('Ctrl-C during the capture stops it, removes the namespace, ends the remote tcpdumps and reports what arrived', async () => {
    const before = captureNamespaces().length;
    const out = path.join(workDir, 'sigint');
    const child = cli(['--service', 'shop/web', '--duration', '5m', '--out', out, '--client', CLIENT_IP, '--pcapng', path.join(out, 'merged.pcapng'), '--html', path.join(out, 'report.html')]);
    const result = exited(child);
    if (process.env.DEBUG_REMOTE) child.stderr.on('data', (d: Buffer) => process.stdout.write(`child: ${d}`));
    await waitForStderr(child as never, 'capturing for', 60_000);
    const sent = await sendRequests(5);
    expect(sent.filter((r) => r.status === 200)).toHaveLength(5);
    // The pod's capture has the 5 request lines once they have come through the stream.
    const requestLines = async (file: string) => (existsSync(file) ? (await readFile(file)).toString('latin1').split('GET / HTTP/1.1').length - 1 : 0);
    await waitUntil('5 requests in the streamed pod captures', async () => (await requestLines(path.join(out, 'pod-web-1.pcap'))) + (await requestLines(path.join(out, 'pod-web-2.pcap'))) >= 5, { timeoutMs: 20_000, intervalMs: 100 });
    child.kill('SIGINT');
    const r = await result;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/netlab: SIGINT: stopping the capture and removing netlab-capture-[0-9a-f]{6}/);
    expect(r.stdout).toContain('interrupted, analysing what was captured');
    expect(r.stdout).toMatch(/dnat\+snat/);
    expect(r.stdout).toMatch(/^Captured [1-9]\d* packets \(\d+ bytes streamed\) at 4 capture points; kernel drops: 0 \(4 stopped early cannot count drops\)\.$/m);
    if (process.env.DEBUG_REMOTE) process.stdout.write(r.stdout);
    expect(r.stderr).toMatch(/netlab: wrote .*merged\.pcapng \(\d+ packets on 7 interfaces, \d+ with hop comments\)/);
    expect(r.stderr).toContain(`netlab: wrote ${path.join(out, 'report.html')}`);
    const events = captureNamespaces().slice(before);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
    await waitUntil('the remote tcpdumps to be gone with their pods', () => fakeExec.running() === 0, { timeoutMs: 20_000, intervalMs: 100 });
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    expect(report.summary.flows).toBe(5);
  });

  it('Ctrl-C while the capture pods start removes the namespace and exits 130', async () => {
    const before = captureNamespaces().length;
    const child = cli(['--service', 'shop/web', '--capture-image', 'example.org/slow:1', '--out', path.join(workDir, 'sigint2')]);
    const result = exited(child);
    await waitUntil('the DaemonSet', () => captureNamespaces().length > before && api.objects('DaemonSet').length > 0, { timeoutMs: 60_000, intervalMs: 100 });
    child.kill('SIGINT');
    const r = await result;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted before the capture started; netlab-capture-[0-9a-f]{6} removed/);
    expect(captureNamespaces().slice(before).map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
  });

  it('bad kubeconfig, context, service or options: one line, no stack, exit 2 (input) or 1 (usage)', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['--service', 'shop/nope'], 2, /^netlab: context fake \(http:\/\/127\.0\.0\.1:\d+\): Service shop\/nope not found — kubectl --context fake -n shop get services$/],
      [['--service', 'shop/web', '--context', 'nope'], 1, /context 'nope' is not in the kubeconfig/],
      [['--service', 'shop/a/b'], 1, /--service 'shop\/a\/b' is not NAMESPACE\/NAME/],
      [['--service', 'shop/web', '--duration', '5 minutes'], 1, /--duration '5 minutes' is not a duration/],
      [['--service', 'shop/web', '--scenario', 'nodeport'], 1, /give --scenario or --service, not both/],
      [[], 1, /capture needs --scenario NAME or --service NS\/NAME/],
      [['--service', 'shop/web', '--provider', 'kind'], 1, /--provider kind runs a scenario in netlab's kind lab, not --service/],
    ];
    for (const [args, code, message] of cases) {
      const r = await exited(cli(args));
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const closed = path.join(workDir, 'closed-kubeconfig');
    await writeFile(closed, api.kubeconfig().replace(api.url, 'http://127.0.0.1:9'));
    const unreachable = await exited(spawn(process.execPath, [BIN, 'capture', '--kubeconfig', closed, '--service', 'shop/web'], { stdio: 'pipe' }));
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr.trim()).toMatch(/^netlab: http:\/\/127\.0\.0\.1:9 \(GET \/api\/v1\/namespaces\/shop\/services\/web\): cannot reach the Kubernetes API: ECONNREFUSED — is the cluster up\? check --kubeconfig and --context$/);
    const missing = await exited(spawn(process.execPath, [BIN, 'capture', '--kubeconfig', path.join(workDir, 'no-such-kubeconfig'), '--service', 'shop/web'], { stdio: 'pipe' }));
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^netlab: .*no-such-kubeconfig: kubeconfig file not found — pass an existing file with --kubeconfig$/);
    const remoteOnly = await exited(spawn(process.execPath, [BIN, 'capture', '--scenario', 'nodeport', '--duration', '10s'], { stdio: 'pipe' }));
    expect(remoteOnly.code).toBe(1);
    expect(remoteOnly.stderr).toMatch(/--duration only work with --service/);
    expect(captureNamespaces().filter((e) => e.type === 'ADDED')).toHaveLength(captureNamespaces().filter((e) => e.type === 'DELETED').length);
  });
});
