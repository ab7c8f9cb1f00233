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
import { runRemoteCapture } from '../../../cluster/remote/run.js';
import { CAPTURE_NAMESPACE_PREFIX } from '../../../cluster/remote/manifests.js';
import { TestNetns, waitForStderr } from '../../helpers/netns.js';
import { FakeKubeApi } from '../../support/fake-kube-api.js';
import { attachFakeExec, type FakeExec } from '../../support/fake-kube-exec.js';
import { startFakeControllers, type FakeControllers } from '../../support/fake-cluster-controllers.js';

const BIN = path.resolve('dist/cli/main.js');
const CLIENT_IP = '198.51.100.10';
const NODE_IP = '198.51.100.1';
const POD_GW = '10.244.1.1';
const POD_IP = '10.244.1.5';
const CONTAINER_ID = randomBytes(32).toString('hex');
const POD_UID = '6c0f3e9a-1b2c-4d5e-8f90-0123456789ab';

const nets = new TestNetns();
const cgroupDir = `/sys/fs/cgroup/unified/netlab-${nets.prefix}pods`;
let api: FakeKubeApi;
let fakeExec: FakeExec;
let controllers: FakeControllers;
let client: string;
let nodeNs: string;
let serverPid: number;
let workDir: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

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
  const node = (nodeNs = await nets.add('node'));
  const pod = await nets.add('pod');
  await nets.link(client, 'eth0', `${CLIENT_IP}/24`, node, 'eth0', `${NODE_IP}/24`);
  await nets.link(node, 'veth-web', `${POD_GW}/24`, pod, 'eth0', `${POD_IP}/24`);
  await run('ip', ['-n', client, 'route', 'add', 'default', 'via', NODE_IP]);
  await run('ip', ['-n', pod, 'route', 'add', 'default', 'via', POD_GW]);
  await run('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'], { netns: node });
  // kube-proxy's NodePort with externalTrafficPolicy Cluster: DNAT to the pod, MASQUERADE toward it.
  await run('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '-d', NODE_IP, '--dport', '30080', '-j', 'DNAT', '--to-destination', `${POD_IP}:8080`], { netns: node });
  await run('iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-p', 'tcp', '-d', POD_IP, '--dport', '8080', '-j', 'MASQUERADE'], { netns: node });
  const server = nets.start(pod, process.execPath, ['-e', "require('http').createServer((q, s) => s.end('Hostname: web-1\\n')).listen(8080, () => console.error('listening'))"]);
  await waitForStderr(server, 'listening');
  serverPid = server.pid!;
  // The kubelet puts a container's processes in a cgroup named after its ID (systemd driver layout).
  const scope = `${cgroupDir}/cri-containerd-${CONTAINER_ID}.scope`;
  await mkdir(scope, { recursive: true });
  await writeFile(`${scope}/cgroup.procs`, String(serverPid));

  api = await FakeKubeApi.start();
  api.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-a' }, spec: { podCIDR: '10.244.1.0/24' }, status: { addresses: [{ type: 'InternalIP', address: NODE_IP }, { type: 'Hostname', address: 'worker-a' }] } });
  api.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  api.seed({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop', uid: POD_UID, labels: { app: 'web' } },
    spec: { nodeName: 'worker-a', containers: [{ name: 'web', image: 'echo' }] },
    status: { phase: 'Running', podIP: POD_IP, hostIP: NODE_IP, containerStatuses: [{ name: 'web', image: 'echo', imageID: '', ready: true, restartCount: 0, containerID: `containerd://${CONTAINER_ID}` }] },
  });
  api.seed({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] } });
  api.seed({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name: 'web-x1y2z', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: [POD_IP], conditions: { ready: true }, nodeName: 'worker-a', targetRef: { kind: 'Pod', name: 'web-1', namespace: 'shop', uid: POD_UID } }],
  });
  const nodeNetns: Record<string, string> = { 'worker-a': node };
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
  await rmdir(`${cgroupDir}/cri-containerd-${CONTAINER_ID}.scope`).catch(() => undefined);
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

  it('deploys the capture namespace, execs tcpdump on the node and nsenter into the pod, then deletes the namespace', async () => {
    expect(answered).toBe(12);
    const events = captureNamespaces();
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
    const ns = events[0]!.object.metadata!.name!;
    expect(run1.captureNamespace).toBe(ns);
    expect(api.object('Namespace', ns)).toBeUndefined();
    const execs = fakeExec.records.filter((r) => r.namespace === ns);
    expect(execs.map((r) => r.command.slice(0, 5).join(' '))).toEqual([
      'ip -j addr show',
      'find /proc -mindepth 2 -maxdepth',
      `nsenter -t ${serverPid} -n ip`,
      'timeout -s INT 8 tcpdump',
      `timeout -s INT 8 nsenter`,
    ]);
    expect(execs.every((r) => r.protocol === 'v5.channel.k8s.io' && r.container === 'capture')).toBe(true);
    await until('the capture processes to end', () => fakeExec.running() === 0);
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

  it('the captures hold the real packets: SYNs to the NodePort at the node, SYNs and request lines to the pod inside it', async () => {
    const node = (await packets(path.join(outDir, 'worker-a.pcap'))).list;
    const pod = (await packets(path.join(outDir, 'pod-web-1.pcap'))).list;
    expect(node.filter((p) => p.flags === 'S' && p.src === CLIENT_IP && p.dst === NODE_IP && p.dport === 30080)).toHaveLength(10);
    // After NAT the 10 client connections come from the node's pod-side address, as do the 2 probes.
    expect(node.filter((p) => p.flags === 'S' && p.src === POD_GW && p.dst === POD_IP && p.dport === 8080)).toHaveLength(12);
    expect(pod.filter((p) => p.flags === 'S' && p.src === POD_GW && p.dst === POD_IP && p.dport === 8080)).toHaveLength(12);
    expect(pod.filter((p) => p.get && p.dst === POD_IP)).toHaveLength(12);
  });

  it('builds the manifest from the API and from the node itself', async () => {
    const manifest = JSON.parse(await readFile(path.join(outDir, 'manifest.json'), 'utf8'));
    expect(manifest.points.map((p: { name: string; role: string; node: string; pod: string | null }) => [p.name, p.role, p.node, p.pod])).toEqual([
      ['worker-a', 'node', 'worker-a', null],
      ['web-1', 'pod', 'worker-a', 'web-1'],
    ]);
    expect(Object.values(manifest.points[0].ifindex)).toEqual(expect.arrayContaining(['eth0', 'veth-web']));
    expect(manifest.addresses).toEqual({
      [NODE_IP]: { node: 'worker-a', role: 'node' },
      [POD_GW]: { node: 'worker-a', role: 'node' },
      [POD_IP]: { pod: 'web-1', node: 'worker-a', role: 'pod' },
    });
    // No --client: connections the node itself starts (kubelet probes) are background.
    expect(manifest.clients).toEqual([CLIENT_IP]);
    expect(run1.report.notes).toContain(`connections started by node addresses (kubelet probes, node-local checks) are background; the clients are ${CLIENT_IP} (choose them with --client)`);
    const cluster = JSON.parse(await readFile(path.join(outDir, 'cluster.json'), 'utf8'));
    expect(cluster.service.spec.ports[0].nodePort).toBe(30080);
  });

  it('analyzes as netlab capture does: DNAT+SNAT by kube-proxy at the node, the pod sees the node, not the client', async () => {
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
      expect(f.backend).toEqual(expect.objectContaining({ ip: POD_IP, port: 8080, pod: 'web-1', node: 'worker-a' }));
      expect(f.hops.map((h) => [h.point.replace(/:.*/, ''), h.translation, h.by])).toContainEqual(['worker-a', 'dnat+snat', 'kube-proxy']);
      expect(f.verdict.clientIpAtBackend).toBe('lost');
    }
    expect(r.summary.sourceSeenByBackend).toEqual({ [POD_GW]: 10 });
    expect(JSON.parse(await readFile(path.join(outDir, 'report.json'), 'utf8')).service).toBe('shop/web');
  });

  it('says which hops are inferred, in the report and report.md', async () => {
    expect(run1.report.inferred).toEqual([
      'client: no capture point outside the cluster; the client is the source address seen at the first captured point.',
      'client → node hop inferred: the client is the source address seen at the node receiving the NodePort traffic.',
      `backends saw source ${POD_GW} is node worker-a's address: SNAT by kube-proxy on the way in (externalTrafficPolicy Cluster), the client IP is lost at the peer (10 flows).`,
    ]);
    const md = await readFile(path.join(outDir, 'report.md'), 'utf8');
    expect(md).toContain('## Inferred hops (not captured)');
    expect(md).toContain(`- backends saw source ${POD_GW} is node worker-a's address`);
  });

  it('a run that fails midway (capture image cannot be pulled) still deletes its namespace', async () => {
    const before = captureNamespaces().length;
    await expect(runRemoteCapture({ kubeconfig: api.kubeconfigPath, service: 'shop/web', durationSec: 5, outDir: path.join(workDir, 'fail'), image: 'registry.invalid/unpullable:1', podsTimeoutMs: 1500 }))
      .rejects.toThrow(/capture pods not running after 1.5 s: worker-a: ImagePullBackOff/);
    const events = captureNamespaces().slice(before);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
    expect(api.objects('DaemonSet', events[0]!.object.metadata!.name!)).toEqual([]);
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
    await until('5 requests in the streamed pod capture', async () => existsSync(path.join(out, 'pod-web-1.pcap')) && (await readFile(path.join(out, 'pod-web-1.pcap'))).toString('latin1').split('GET / HTTP/1.1').length - 1 >= 5);
    child.kill('SIGINT');
    const r = await result;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/netlab: SIGINT: stopping the capture and removing netlab-capture-[0-9a-f]{6}/);
    expect(r.stdout).toContain('interrupted, analysing what was captured');
    expect(r.stdout).toMatch(/dnat\+snat/);
    expect(r.stdout).toMatch(/^Captured [1-9]\d* packets \(\d+ bytes streamed\) at 2 capture points; kernel drops: 0 \(2 stopped early cannot count drops\)\.$/m);
    if (process.env.DEBUG_REMOTE) process.stdout.write(r.stdout);
    expect(r.stderr).toMatch(/netlab: wrote .*merged\.pcapng \(\d+ packets on 3 interfaces, \d+ with hop comments\)/);
    expect(r.stderr).toContain(`netlab: wrote ${path.join(out, 'report.html')}`);
    const events = captureNamespaces().slice(before);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
    await until('the remote tcpdumps to be gone with their pods', () => fakeExec.running() === 0);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    expect(report.summary.flows).toBe(5);
  });

  it('Ctrl-C while the capture pods start removes the namespace and exits 130', async () => {
    const before = captureNamespaces().length;
    const child = cli(['--service', 'shop/web', '--capture-image', 'example.org/slow:1', '--out', path.join(workDir, 'sigint2')]);
    const result = exited(child);
    await until('the DaemonSet', () => captureNamespaces().length > before && api.objects('DaemonSet').length > 0, 60_000);
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
    ];
    for (const [args, code, message] of cases) {
      const r = await exited(cli(args));
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const missing = await exited(spawn(process.execPath, [BIN, 'capture', '--kubeconfig', path.join(workDir, 'no-such-kubeconfig'), '--service', 'shop/web'], { stdio: 'pipe' }));
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^netlab: .*no-such-kubeconfig: kubeconfig file not found — pass an existing file with --kubeconfig$/);
    const remoteOnly = await exited(spawn(process.execPath, [BIN, 'capture', '--scenario', 'nodeport', '--duration', '10s'], { stdio: 'pipe' }));
    expect(remoteOnly.code).toBe(1);
    expect(remoteOnly.stderr).toMatch(/--duration only work with --service/);
    expect(captureNamespaces().filter((e) => e.type === 'ADDED')).toHaveLength(captureNamespaces().filter((e) => e.type === 'DELETED').length);
  });
});
