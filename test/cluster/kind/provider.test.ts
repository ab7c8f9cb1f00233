/**
 * `up`/`down` of the kind provider against fake `kind` and `docker` binaries (no kind cluster can
 * run here) and the fake Kubernetes API server (test/support/fake-kube-api.ts) standing in for
 * the cluster's API: the test plays kubelet by seeding Ready nodes and a Ready MetalLB pod.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NetlabError } from '../../../analyzer/errors.js';
import { DockerClient } from '../../../cluster/docker/client.js';
import { KubeClient } from '../../../cluster/kube/client.js';
import type { KindEnv } from '../../../cluster/kind/env.js';
import { sha256 } from '../../../cluster/kind/metallb.js';
import { KindProvider } from '../../../cluster/kind/provider.js';
import { readKindState } from '../../../cluster/kind/state.js';
import { FakeKubeApi } from '../../support/fake-kube-api.js';
import { FakeBinaries } from '../../helpers/fake-binaries.js';

const KIND_NETWORK_JSON = JSON.stringify([
  {
    Name: 'kind',
    Id: 'f00dfeed',
    Driver: 'bridge',
    IPAM: { Config: [{ Subnet: 'fc00:f853:ccd:e793::/64', Gateway: 'fc00:f853:ccd:e793::1' }, { Subnet: '172.19.0.0/16', Gateway: '172.19.0.1' }] },
    Containers: {},
    Options: {},
    Labels: {},
  },
]);

const METALLB_TEXT = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: metallb-system\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: metallb-excludel2\n  namespace: metallb-system\ndata: {}\n';

const readyNode = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });

/** Play kubelet and MetalLB: three Ready nodes and a Ready MetalLB controller pod. */
function seedCluster(): void {
  for (const n of ['t-control-plane', 't-worker', 't-worker2']) api.seed(readyNode(n));
  api.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'controller-7d4c', namespace: 'metallb-system' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
}

let api: FakeKubeApi;
let bins: FakeBinaries;
let home: string;
const downloads: string[] = [];

function dockerRules(overrides: Array<Parameters<FakeBinaries['install']>[1][number]> = []) {
  return [
    ...overrides,
    { args: ['info'], stdout: JSON.stringify({ ServerVersion: '26.1.5' }) },
    { args: ['network', 'inspect', 'kind'], stdout: KIND_NETWORK_JSON },
    { args: ['ps'], stdout: '' },
    { args: ['rm'], stderr: 'Error response from daemon: No such container: x', exitCode: 1 },
    { args: ['run'], stdout: 'c0ffee\n' },
    { args: ['exec'] },
  ];
}

function kindRules(overrides: Array<Parameters<FakeBinaries['install']>[1][number]> = []) {
  return [
    ...overrides,
    { args: ['create', 'cluster'], stderr: 'Creating cluster "t" ...\n', writeFileAfter: { flag: '--kubeconfig', content: api.kubeconfig() } },
    { args: ['get', 'kubeconfig', '--internal'], stdout: api.kubeconfig() },
    { args: ['load', 'docker-image'] },
    { args: ['delete', 'cluster'], stderr: 'Deleting cluster "t" ...\n' },
    { args: ['version'], stdout: 'kind v0.32.0 go1.24.6 linux/amd64\n' },
  ];
}

function env(log: string[] = []): KindEnv {
  return {
    docker: new DockerClient(),
    kind: 'kind',
    kube: (kubeconfig) => KubeClient.fromOptions({ kubeconfig }),
    buildImage: async () => ({ tag: 'netlab:0.1.0-test', root: '/opt/netlab' }),
    metallb: { version: 'v0.0.0-test', url: 'https://metallb.invalid/metallb-native.yaml', sha256: sha256(METALLB_TEXT) },
    cacheDir: path.join(home, 'cache'),
    download: async (url) => {
      downloads.push(url);
      return METALLB_TEXT;
    },
    timeouts: { nodesMs: 5000, podsMs: 5000 },
    log: (l) => log.push(l),
  };
}

/** The error a promise rejects with (the test fails if it resolves). */
async function failure(p: Promise<unknown>): Promise<NetlabError> {
  const r = await p.then(() => null, (e: unknown) => e);
  expect(r).toBeInstanceOf(NetlabError);
  return r as NetlabError;
}

const upOpts = { name: 't', nodes: 3, zones: ['a', 'b'], timeScale: 1 };

beforeAll(() => {
  bins = new FakeBinaries();
  bins.activate();
});

afterAll(() => {
  bins.cleanup();
});

// A fresh API per test: each test's cluster is a new one (kind delete cluster takes its API with it).
beforeEach(async () => {
  api = await FakeKubeApi.start();
  home = mkdtempSync(path.join(tmpdir(), 'netlab-kind-home-'));
  process.env.NETLAB_KIND_DIR = path.join(home, 'kind');
  bins.clearLog();
  downloads.length = 0;
  bins.install('docker', dockerRules());
  bins.install('kind', kindRules());
});

afterEach(async () => {
  await api.close();
  delete process.env.NETLAB_KIND_DIR;
  rmSync(home, { recursive: true, force: true });
});

describe('KindProvider.up/down with fake kind and docker', () => {
  it('creates the cluster, finds the real kind subnet, installs MetalLB and the pool, starts emulator and client', async () => {
    seedCluster();

    const state = await new KindProvider(env()).up(upOpts);
    expect(state?.phase).toBe('ready');
    expect(state?.network).toEqual({ name: 'kind', subnet: '172.19.0.0/16', ipv6Subnets: ['fc00:f853:ccd:e793::/64'] });

    const dir = path.join(home, 'kind', 't');
    expect(readFileSync(path.join(dir, 'kind-config.yaml'), 'utf8')).toContain('topology.kubernetes.io/zone: lab-1b');
    expect(bins.lines('kind')).toEqual([
      `kind create cluster --name t --config ${dir}/kind-config.yaml --kubeconfig ${dir}/kubeconfig --wait 0s`,
      'kind get kubeconfig --internal --name t',
      'kind load docker-image netlab:0.1.0-test --name t',
    ]);
    const docker = bins.lines('docker');
    expect(docker[0]).toBe('docker info --format {{json .}}');
    expect(docker).toContain('docker network inspect kind');
    const runs = docker.filter((l) => l.startsWith('docker run '));
    expect(runs).toHaveLength(2);
    expect(runs[0]).toContain('--name t-nlb --network kind --ip 172.19.255.191');
    expect(runs[0]).toContain('--zones a=172.19.255.192,b=172.19.255.193 --pool 172.19.255.97-172.19.255.126 --interface eth0 --time-scale 1');
    expect(runs[0]).toContain(`--volume ${dir}/kubeconfig.internal:/etc/netlab/kubeconfig:ro`);
    expect(runs[1]).toContain('--name t-client --network kind --ip 172.19.255.190');
    expect(docker).toContain('docker exec t-worker2 ip route replace 198.51.100.0/24 via 172.19.255.191 dev eth0');
    expect(docker).not.toContain('docker exec t-control-plane ip route replace 198.51.100.0/24 via 172.19.255.191 dev eth0');

    // MetalLB: the pinned manifest was downloaded once, checked, applied; the pool is the top of 172.19/16.
    expect(downloads).toEqual(['https://metallb.invalid/metallb-native.yaml']);
    expect(api.objects('ConfigMap', 'metallb-system').map((c) => c.metadata?.name)).toEqual(['metallb-excludel2']);
    expect(api.objects('IPAddressPool', 'metallb-system').map((p) => p.spec?.addresses)).toEqual([['172.19.255.200-172.19.255.250']]);
    expect(api.objects('L2Advertisement', 'metallb-system').map((p) => p.spec?.ipAddressPools)).toEqual([['netlab-pool']]);
    expect(readFileSync(path.join(dir, 'kubeconfig.internal'), 'utf8')).toContain(api.url);

    // A second up leaves a ready lab alone.
    bins.clearLog();
    expect((await new KindProvider(env()).up(upOpts))?.createdAt).toBe(state?.createdAt);
    expect(bins.lines('kind')).toEqual([]);

    bins.clearLog();
    expect(await new KindProvider(env()).down('t')).toBe(true);
    expect(bins.lines()).toEqual([
      'docker info --format {{json .}}',
      'docker ps --all --filter label=netlab.lab=t --format {{.Names}}',
      'docker ps --all --filter label=netlab.capture=t --format {{.Names}}',
      'docker rm --force --volumes t-nlb',
      'docker rm --force --volumes t-client',
      `kind delete cluster --name t --kubeconfig ${dir}/kubeconfig`,
    ]);
    expect(existsSync(dir)).toBe(false);
    // Twice is fine and does nothing.
    bins.clearLog();
    expect(await new KindProvider(env()).down('t')).toBe(false);
    expect(bins.lines()).toEqual([]);
  });

  it('leaves nothing when kind create fails, and the error names the command and its stderr', async () => {
    bins.install('kind', kindRules([{ args: ['create', 'cluster'], stderr: 'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "t"\n', exitCode: 1 }]));
    const err = await failure(new KindProvider(env()).up(upOpts));
        expect(err.message).toMatch(/^command failed: kind create cluster --name t --config \S+kind-config\.yaml --kubeconfig \S+ --wait 0s: exit 1: ERROR: failed to create cluster: node\(s\) already exist/);
    expect(bins.lines('kind')).toEqual([expect.stringMatching(/^kind create cluster/), expect.stringMatching(/^kind delete cluster --name t/)]);
    expect(bins.lines('docker').filter((l) => l.startsWith('docker run') || l.startsWith('docker rm'))).toEqual([]);
    expect(await readKindState('t')).toBeNull();
    expect(existsSync(path.join(home, 'kind', 't'))).toBe(false);
  });

  it('removes cluster and the containers it started when a later step fails (client container cannot start)', async () => {
    seedCluster();
    bins.install('docker', dockerRules([{ args: ['run', '--detach', '--pull', 'never', '--name', 't-client'], stderr: 'docker: Error response from daemon: Address already in use.\n', exitCode: 125 }]));
    const err = await failure(new KindProvider(env()).up(upOpts));
    expect(err.message).toContain('Address already in use');
    const tail = bins.lines().slice(-5);
    expect(tail).toEqual([
      'docker ps --all --filter label=netlab.lab=t --format {{.Names}}',
      'docker ps --all --filter label=netlab.capture=t --format {{.Names}}',
      'docker rm --force --volumes t-nlb',
      'docker rm --force --volumes t-client',
      expect.stringMatching(/^kind delete cluster --name t /),
    ]);
    expect(existsSync(path.join(home, 'kind', 't'))).toBe(false);
  });

  it('refuses a MetalLB manifest whose digest is not the pinned one, and cleans up', async () => {
    seedCluster();
    const e = { ...env(), metallb: { version: 'v0', url: 'https://metallb.invalid/x.yaml', sha256: '0'.repeat(64) } };
    const err = await failure(new KindProvider(e).up(upOpts));
    expect(err.message).toMatch(/the manifest from https:\/\/metallb\.invalid\/x\.yaml has SHA-256 [0-9a-f]{64}, not the pinned 0{64}/);
    expect(api.objects('IPAddressPool')).toEqual([]);
    expect(bins.lines('kind').at(-1)).toMatch(/^kind delete cluster --name t /);
  });

  it('says in one line that kind is missing, with the install hint, before touching anything', async () => {
    const e = { ...env(), kind: 'kind-not-installed' };
    const err = await failure(new KindProvider(e).up(upOpts));
    expect(err.message).toBe('the kind provider needs the kind binary, which is not on PATH');
    expect(err.hint).toMatch(/kind\.sigs\.k8s\.io/);
    expect(err.exitCode).toBe(2);
    expect(bins.lines('kind')).toEqual([]);
  });

  it('says the Docker engine is not running when docker info fails', async () => {
    bins.install('docker', [{ args: ['info'], stdout: JSON.stringify({ ServerVersion: '', ClientInfo: { Version: '26.1.5' } }), stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n', exitCode: 1 }]);
    const err = await failure(new KindProvider(env()).up(upOpts));
    expect(err.message).toMatch(/^the kind provider needs a running Docker engine: docker failed \(exit 1\): Cannot connect to the Docker daemon/);
    expect(bins.lines('kind')).toEqual([]);
  });

  it('prints the plan with --dry-run and runs nothing', async () => {
    const lines: string[] = [];
    expect(await new KindProvider(env()).up({ ...upOpts, dryRun: (l) => lines.push(l) })).toBeNull();
    expect(bins.lines()).toEqual([]);
    expect(lines.some((l) => l.startsWith('kind create cluster --name t --config'))).toBe(true);
    expect(lines.some((l) => l.includes('image: kindest/node:v1.36.1@sha256:'))).toBe(true);
  });
});
