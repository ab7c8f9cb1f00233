/**
 * `runKindCapture`'s orchestration against fakes: the fake API server (the test plays the
 * scheduler + kubelet by creating Ready pods for each Deployment, and the NLB emulator by
 * publishing its status ConfigMap) and a fake `docker` (helper containers stream an empty pcap,
 * crictl answers a pid, the client prints request results). No packets flow here: this checks
 * the order of things, what is captured where, what goes into the run folder and the cleanup —
 * the lesson itself is only judged on a real cluster (kind.e2e.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerClient } from '../../../cluster/docker/client.js';
import { KubeClient } from '../../../cluster/kube/client.js';
import { runKindCapture } from '../../../cluster/kind/capture.js';
import type { KindEnv } from '../../../cluster/kind/env.js';
import { kindAddressPlan, parseIpv4Subnet } from '../../../cluster/kind/network.js';
import { newKindState } from '../../../cluster/kind/provision.js';
import { writeKindState } from '../../../cluster/kind/state.js';
import { FakeKubeApi } from '../../support/fake-kube-api.js';
import { FakeBinaries } from '../../helpers/fake-binaries.js';

const PCAP_HEADER = Buffer.from('4d3cb2a1020004000000000000000000000004001401' + '0000', 'hex').toString('base64');
const LISTENING = 'tcpdump: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes\n';
const DNS = 'k8s-default-svcnlbin-0123456789-abcdef0123456789.elb.lab-1.amazonaws.com';

let api: FakeKubeApi;
let bins: FakeBinaries;
let home: string;
let kubelet: NodeJS.Timeout;

const request = (i: number, hostname: string) => JSON.stringify({ i, conn: i, localPort: 40000 + i, remote: '172.19.255.97:80', status: 200, hostname, clientAddress: '198.51.100.10', xff: null, ms: 3, error: null });

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'netlab-kindcapture-'));
  process.env.NETLAB_KIND_DIR = path.join(home, 'kind');
  api = await FakeKubeApi.start();
  bins = new FakeBinaries();
  bins.activate();
  const state = newKindState({ name: 't', workers: 3, zones: ['a', 'b'], timeScale: 10 });
  Object.assign(state, {
    phase: 'ready',
    kubeconfig: api.kubeconfigPath,
    network: { name: 'kind', subnet: '172.19.0.0/16', ipv6Subnets: [] },
    addresses: kindAddressPlan(parseIpv4Subnet('172.19.0.0/16')!, ['a', 'b']),
    image: { tag: 'netlab:0.1.0-test', root: '/opt/netlab' },
  });
  await writeKindState(state);
  for (const [i, n] of state.nodes.entries()) {
    api.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: n }, status: { addresses: [{ type: 'InternalIP', address: `172.19.0.${i + 2}` }], conditions: [{ type: 'Ready', status: 'True' }] } });
  }
  // The scheduler and kubelet: two Ready pods per Deployment, on t-worker and t-worker2.
  kubelet = setInterval(() => {
    for (const d of api.objects('Deployment')) {
      const ns = d.metadata!.namespace!;
      if (api.objects('Pod', ns).some((p) => p.metadata?.name?.startsWith(d.metadata!.name!))) continue;
      for (let i = 0; i < (d.spec?.replicas ?? 1); i++) {
        api.seed({
          apiVersion: 'v1', kind: 'Pod',
          metadata: { name: `${d.metadata!.name}-5d8f-${i}`, namespace: ns, labels: d.spec!.template!.metadata!.labels, creationTimestamp: new Date().toISOString() },
          spec: { nodeName: i === 0 ? 't-worker' : 't-worker2', containers: d.spec!.template!.spec!.containers },
          status: { phase: 'Running', podIP: `10.244.${i + 1}.5`, containerStatuses: [{ name: 'c', containerID: `containerd://c0ffee${i}`, ready: true, restartCount: 0, image: 'x', imageID: 'x' }], conditions: [{ type: 'Ready', status: 'True' }] },
        });
      }
    }
  }, 100);
  // The emulator's published status: two healthy targets and the pod-less node unhealthy.
  const th = (id: string, state: string, reason?: string) => ({ Target: { Id: id, Port: 31000, AvailabilityZone: 'lab-1a' }, HealthCheckPort: '32000', TargetHealth: { State: state, ...(reason ? { Reason: reason } : {}) } });
  api.seed({
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'netlab-nlb-status', namespace: 'kube-system' },
    data: { 'default.svc-nlb-instance-local': JSON.stringify({ loadBalancer: 'k8s-default-svcnlbin-0123456789', dnsName: DNS, addresses: { 'lab-1a': '172.19.255.97', 'lab-1b': '172.19.255.98' }, dnsAddresses: ['172.19.255.97', '172.19.255.98'], events: [], targetGroups: [{ name: 'tg', arn: 'arn', targetType: 'instance', port: 31000, TargetHealthDescriptions: [th('i-1', 'healthy'), th('i-2', 'healthy'), th('i-3', 'unhealthy', 'Target.ResponseCodeMismatch')] }] }) },
  });
  bins.install('docker', [
    { args: ['exec', '*', 'crictl', 'inspect'], stdout: '4242\n' },
    { args: ['exec', 't-client', 'node', '-e'] },
    { args: ['exec', 't-client', 'node', '/opt/netlab/dist/cluster/traffic/http-client.js'], stdout: [request(0, 'deploy-echo-5d8f-0'), request(1, 'deploy-echo-5d8f-1'), request(2, 'deploy-echo-5d8f-0')].join('\n') + '\n' },
    { args: ['run', '--rm', '--pull', 'never', '--label', 'netlab.capture=t', '*', '*', '*', '*', '*', '*', '--name'], pidNameAfter: '--name', stderr: LISTENING, streamBase64: PCAP_HEADER, stderrOnStop: '0 packets captured\n0 packets dropped by kernel\n' },
    { args: ['run', '--rm', '--pull', 'never', '--label', 'netlab.capture=t', '--pid', '*', '--cap-add', 'SYS_ADMIN', '--cap-add', 'SYS_PTRACE', '--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW', '--name'], pidNameAfter: '--name', stderr: LISTENING, streamBase64: PCAP_HEADER, stderrOnStop: '0 packets captured\n0 packets dropped by kernel\n' },
    { args: ['run', '--rm'], stdout: JSON.stringify([{ ifindex: 1, ifname: 'lo' }, { ifindex: 9, ifname: 'eth0' }]) },
    { args: ['kill', '--signal', 'SIGINT'], interruptLastArg: true },
  ]);
});

afterAll(async () => {
  clearInterval(kubelet);
  await api.close();
  bins.cleanup();
  delete process.env.NETLAB_KIND_DIR;
  rmSync(home, { recursive: true, force: true });
});

function env(): KindEnv {
  return {
    docker: new DockerClient(),
    kind: 'kind',
    kube: (kubeconfig) => KubeClient.fromOptions({ kubeconfig }),
    buildImage: () => Promise.reject(new Error('not built in this test')),
    metallb: { version: 'x', url: 'https://x.invalid', sha256: '' },
    cacheDir: home,
    timeouts: { nodesMs: 1000, podsMs: 1000 },
    log: () => undefined,
  };
}

describe('runKindCapture (fake API, fake docker)', () => {
  it('local-policy: applies, waits, resolves the NLB name in the client, captures every point, sends, writes the run folder, cleans up', async () => {
    const out = path.join(home, 'run');
    const progress: string[] = [];
    const r = await runKindCapture({ scenario: 'local-policy', lab: 't', requests: 3, outDir: out, onProgress: (m) => progress.push(m) }, env());

    const docker = bins.lines('docker');
    const hosts = docker.filter((l) => l.startsWith('docker exec t-client node -e '));
    expect(hosts).toHaveLength(1);
    expect(hosts[0]!.endsWith(` ${DNS} 172.19.255.97 172.19.255.98`)).toBe(true);
    expect(docker.filter((l) => l.includes('crictl inspect')).sort()).toEqual([
      'docker exec t-worker crictl inspect --output go-template --template {{.info.pid}} c0ffee0',
      'docker exec t-worker2 crictl inspect --output go-template --template {{.info.pid}} c0ffee1',
    ]);
    expect(docker).toContain(`docker exec t-client node /opt/netlab/dist/cluster/traffic/http-client.js --url http://${DNS}:80/ --requests 3 --interval-ms 0`);
    expect(r.captures.map((c) => c.point)).toEqual(['client', 'nlb', 't-worker', 't-worker2', 't-worker3', 'deploy-echo-5d8f-0', 'deploy-echo-5d8f-1']);
    expect(docker.filter((l) => l.startsWith('docker kill'))).toHaveLength(7);

    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { points: Array<{ name: string; role: string; node: string | null; ifindex?: Record<string, string> }>; addresses: Record<string, { role: string }>; clients: string[] };
    expect(manifest.points.map((p) => [p.name, p.role])).toEqual([['client', 'client'], ['nlb', 'lb'], ['t-worker', 'node'], ['t-worker2', 'node'], ['t-worker3', 'node'], ['deploy-echo-5d8f-0', 'pod'], ['deploy-echo-5d8f-1', 'pod']]);
    expect(manifest.points[0]!.ifindex).toEqual({ '1': 'lo', '9': 'eth0' });
    expect(manifest.clients).toEqual(['198.51.100.10']);
    expect(manifest.addresses['172.19.255.97']?.role).toBe('lb');
    expect(manifest.addresses['172.19.0.3']?.role).toBe('node');
    expect(manifest.addresses['10.244.2.5']?.role).toBe('pod');

    expect(r.requests).toMatchObject({ sent: 3, answered: 3, hostnames: { 'deploy-echo-5d8f-0': 2, 'deploy-echo-5d8f-1': 1 }, clientAddresses: { '198.51.100.10': 3 } });
    // Target health comes from the emulator's ConfigMap; with no packets the packet checks fail, as they must.
    expect(r.checks.find((c) => c.what === 'unhealthy NLB targets')).toMatchObject({ ok: true, seen: 'i-3 (Target.ResponseCodeMismatch)' });
    expect(r.checks.find((c) => c.what === 'flows reaching a backend')).toMatchObject({ ok: false, seen: '0' });
    expect(JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')).provider).toBe('kind');

    // Scenario removed afterwards (the Deployment and Service; the default namespace stays).
    expect(api.objects('Deployment', 'default')).toEqual([]);
    expect(api.objects('Service', 'default')).toEqual([]);
    expect(progress.some((m) => m.startsWith('reusing kind lab t'))).toBe(true);
  });

  it('refuses a scenario whose traffic starts inside the cluster, in one line, after nothing was captured', async () => {
    bins.clearLog();
    const err = await runKindCapture({ scenario: 'clusterip', lab: 't', outDir: path.join(home, 'run2') }, env()).then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/sends from pods .*; the kind provider sends only from its client container so far/);
    expect(bins.lines('docker').filter((l) => l.startsWith('docker run'))).toEqual([]);
  });
});
