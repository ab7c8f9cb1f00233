/**
 * KubeClient against the fake API server (a real HTTP server; @kubernetes/client-node does the
 * kubeconfig, auth and watch streaming): kubeconfig errors, apply with file:line errors, status
 * subresource, finalizers, optimistic concurrency, and list+watch that resumes after a dropped
 * connection and relists after 410 Gone. Also client-node's own typed APIs against the fake, so
 * other helpers can use them in tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlabError } from '../../../analyzer/errors.js';
import { KubeApiError, KubeClient, type WatchEvent } from '../../../cluster/kube/client.js';
import { loadKubeConfig } from '../../../cluster/kube/config.js';
import type { KindTypes } from '../../../cluster/kube/kinds.js';
import { FakeKubeApi } from '../../support/fake-kube-api.js';
import { waitUntil } from '../../helpers/wait.js';

let api: FakeKubeApi;
let kube: KubeClient;
/** Watch events arrive within milliseconds of the change: poll often, give up soon. */
const SOON = { timeoutMs: 5000, intervalMs: 10 };
const dir = mkdtempSync(path.join(tmpdir(), 'netlab-kube-test-'));

beforeAll(async () => {
  api = await FakeKubeApi.start();
  kube = KubeClient.fromOptions({ kubeconfig: api.kubeconfigPath });
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

function errorOf(fn: () => unknown): NetlabError {
  try {
    fn();
  } catch (err) {
    if (err instanceof NetlabError) return err;
    throw err;
  }
  throw new Error('expected a NetlabError');
}
async function rejectionOf(p: Promise<unknown>): Promise<NetlabError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof NetlabError) return err;
    throw err;
  }
  throw new Error('expected a NetlabError');
}

const MANIFEST = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: echo}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

describe('loadKubeConfig', () => {
  it('names the missing file and what to do', () => {
    const e = errorOf(() => loadKubeConfig({ kubeconfig: path.join(dir, 'nope') }));
    expect(e.oneLine()).toBe(`${path.join(dir, 'nope')}: kubeconfig file not found — pass an existing file with --kubeconfig`);
    expect(e.exitCode).toBe(2);
  });

  it('names a missing context and lists the ones there are', () => {
    const e = errorOf(() => loadKubeConfig({ kubeconfig: api.kubeconfigPath, context: 'prod' }));
    expect(e.oneLine()).toBe(`${api.kubeconfigPath}: context 'prod' is not in the kubeconfig — use one of: fake`);
    expect(e.exitCode).toBe(1);
  });

  it('says so when the file is not a kubeconfig', () => {
    const bad = path.join(dir, 'bad');
    writeFileSync(bad, 'clusters: [\n');
    expect(errorOf(() => loadKubeConfig({ kubeconfig: bad })).oneLine()).toMatch(/^.*\/bad: kubeconfig is not valid: /);
  });
});

describe('KubeClient against the fake API', () => {
  it('applies documents (server-side apply), creating then configuring, with the API\'s defaults', async () => {
    const file = path.join(dir, 'shop.yaml');
    const first = await kube.applyDocuments(MANIFEST, file);
    expect(first.map((a) => `${a.action} ${a.kind} ${a.key} @${a.where.split(':').pop()}`)).toEqual([
      'created Namespace shop @1',
      'created Deployment shop/web @5',
      'created Service shop/web @15',
    ]);
    const svc = await kube.get('Service', 'web', 'shop');
    const nodePort = svc!.spec!.ports![0]!.nodePort!;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(svc!.spec!.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    const again = await kube.applyDocuments(MANIFEST.replace('replicas: 2', 'replicas: 3'), file);
    expect(again.map((a) => a.action)).toEqual(['configured', 'configured', 'configured']);
    expect((await kube.get('Deployment', 'web', 'shop'))!.spec!.replicas).toBe(3);
    // Re-applying without nodePort keeps the allocated one, as the API server does.
    expect((await kube.get('Service', 'web', 'shop'))!.spec!.ports![0]!.nodePort).toBe(nodePort);
    expect(api.requests.filter((r) => r.method === 'PATCH').every((r) => r.contentType === 'application/apply-patch+yaml' && r.query.force === 'true')).toBe(true);
  });

  it('names the file:line of the document the API refused, and of an unknown kind', async () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: orphan, namespace: nowhere}\n`;
    const e = await rejectionOf(kube.applyDocuments(text, 'cm.yaml'));
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e.oneLine()).toBe('cm.yaml:5: PATCH /api/v1/namespaces/nowhere/configmaps/orphan: 404 NotFound: namespaces "nowhere" not found');
    const crd = await rejectionOf(kube.applyDocuments('apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n', 'w.yaml'));
    expect(crd.oneLine()).toBe('w.yaml:1: the API has no group version example.com/v1 — install the CRDs that define it first (or fix apiVersion)');
    const yamlErr = await rejectionOf(kube.applyDocuments('kind: [\n', 'broken.yaml'));
    expect(yamlErr.oneLine()).toMatch(/^broken\.yaml:2:1: invalid YAML: /);
  });

  it('applies MetalLB custom objects found by discovery', async () => {
    const applied = await kube.applyDocuments(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lab, namespace: kube-system}
spec: {addresses: [172.18.255.200-172.18.255.250]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lab, namespace: kube-system}
spec: {ipAddressPools: [lab]}
`, 'metallb.yaml');
    expect(applied.map((a) => a.key)).toEqual(['kube-system/lab', 'kube-system/lab']);
    expect((await kube.list('IPAddressPool', 'kube-system'))[0]!.spec!.addresses).toEqual(['172.18.255.200-172.18.255.250']);
  });

  it('writes status only through the status subresource', async () => {
    await kube.patchStatus('Service', 'web', 'shop', { loadBalancer: { ingress: [{ hostname: 'lb.example' }] } });
    expect(api.requests.at(-1)!.path).toBe('/api/v1/namespaces/shop/services/web/status');
    // A write to the main resource cannot change status; one to /status cannot change spec.
    await kube.patchMerge('Service', 'web', 'shop', { metadata: { labels: { tier: 'front' } }, status: { loadBalancer: {} } });
    await kube.request('PATCH', '/api/v1/namespaces/shop/services/web/status', { body: { spec: { selector: { app: 'other' } } }, contentType: 'application/merge-patch+json' });
    const svc = await kube.get('Service', 'web', 'shop');
    expect(svc!.status!.loadBalancer!.ingress).toEqual([{ hostname: 'lb.example' }]);
    expect(svc!.metadata!.labels).toEqual({ tier: 'front' });
    expect(svc!.spec!.selector).toEqual({ app: 'web' });
  });

  it('merges pod conditions by type (strategic merge), keeping the kubelet\'s', async () => {
    api.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'shop' }, spec: { containers: [{ name: 'c' }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }, { type: 'ContainersReady', status: 'True' }] } });
    await kube.patchStatus('Pod', 'p1', 'shop', { conditions: [{ type: 'target-health.elbv2.k8s.aws/tg', status: 'True' }] });
    await kube.patchStatus('Pod', 'p1', 'shop', { conditions: [{ type: 'Ready', status: 'True' }] });
    const conds = (await kube.get('Pod', 'p1', 'shop'))!.status!.conditions!.map((c) => `${c.type}=${c.status}`);
    expect(conds).toEqual(['Ready=True', 'ContainersReady=True', 'target-health.elbv2.k8s.aws/tg=True']);
  });

  it('refuses a patch made against an old resourceVersion (409)', async () => {
    const pod = (await kube.get('Pod', 'p1', 'shop'))!;
    await kube.patchMerge('Pod', 'p1', 'shop', { metadata: { labels: { a: '1' } } });
    const e = await rejectionOf(kube.patchMerge('Pod', 'p1', 'shop', { metadata: { resourceVersion: pod.metadata!.resourceVersion, finalizers: ['x/y'] } }));
    expect((e as KubeApiError).status).toBe(409);
  });

  it('keeps a deleted object with a finalizer until the finalizer is removed', async () => {
    await kube.patchMerge('Pod', 'p1', 'shop', { metadata: { finalizers: ['netlab.dev/test'] } });
    expect(await kube.delete('Pod', 'p1', 'shop')).toBe(true);
    const terminating = await kube.get('Pod', 'p1', 'shop');
    expect(terminating!.metadata!.deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    await kube.patchMerge('Pod', 'p1', 'shop', { metadata: { finalizers: [] } });
    expect(await kube.get('Pod', 'p1', 'shop')).toBeNull();
    expect(await kube.delete('Pod', 'p1', 'shop')).toBe(false);
  });

  it('watches: list as ADDED, then live changes; resumes after a dropped stream; relists after 410 Gone', async () => {
    const seen: string[] = [];
    const onEvent = (e: WatchEvent<KindTypes['ConfigMap']>) => seen.push(`${e.type} ${e.object.metadata!.name} ${JSON.stringify(e.object.data ?? {})}`);
    await kube.create('ConfigMap', { metadata: { name: 'a', namespace: 'shop' }, data: { v: '1' } });
    const informer = kube.watch('ConfigMap', onEvent, { namespace: 'shop' });
    await informer.synced;
    expect(seen).toEqual(['ADDED a {"v":"1"}']);
    await kube.patchMerge('ConfigMap', 'a', 'shop', { data: { v: '2' } });
    await kube.waitFor('ConfigMap', (cms) => cms.find((c) => c.data?.v === '2'), { namespace: 'shop', timeoutMs: 5000, what: 'a=2' });
    await waitUntil('the MODIFIED event of a', () => seen.length === 2, SOON);
    expect(seen[1]).toBe('MODIFIED a {"v":"2"}');

    // The stream ends; a change made meanwhile arrives when the informer resumes from its resourceVersion.
    api.dropWatches();
    await kube.create('ConfigMap', { metadata: { name: 'b', namespace: 'shop' } });
    await waitUntil('the ADDED event of b after the resume', () => seen.length === 3, SOON);
    expect(seen[2]).toBe('ADDED b {}');
    expect(informer.lists).toBe(1);

    // History compacted and the stream dropped: the resume gets 410, the informer lists again and
    // reports what it missed (b deleted, a modified) as events.
    await waitUntil('the resumed watch', () => api.openWatches === 1, SOON);
    api.dropWatches();
    api.remove('ConfigMap', 'b', 'shop');
    api.update('ConfigMap', 'a', 'shop', (cm) => (cm.data = { v: '3' }));
    api.compact();
    await waitUntil('the events of the relist', () => seen.length === 5, SOON);
    expect(seen.slice(3).sort()).toEqual(['DELETED b {}', 'MODIFIED a {"v":"3"}']);
    expect(informer.lists).toBe(2);
    expect(informer.list().map((c) => c.metadata!.name)).toEqual(['a']);
    informer.stop();
    await waitUntil('no open watch', () => api.openWatches === 0, SOON);
  });

  it('waitFor says what it waited for when the time is up', async () => {
    const e = await rejectionOf(kube.waitFor('Pod', (pods) => pods.length > 5, { namespace: 'shop', timeoutMs: 300, what: 'six pods in shop' }));
    expect(e.message).toBe('timed out after 0.3 s waiting for six pods in shop');
    await waitUntil('no open watch', () => api.openWatches === 0, SOON);
  });

  it('says what failed when the credentials are wrong or the server is gone', async () => {
    const wrong = path.join(dir, 'wrong-token');
    writeFileSync(wrong, api.kubeconfig().replace(api.token, 'not-the-token'));
    const e = await rejectionOf(KubeClient.fromOptions({ kubeconfig: wrong }).list('Pod'));
    expect((e as KubeApiError).status).toBe(401);
    expect(e.hint).toMatch(/credentials/);
    const gone = path.join(dir, 'gone');
    writeFileSync(gone, api.kubeconfig().replace(api.url, 'http://127.0.0.1:1'));
    const e2 = await rejectionOf(KubeClient.fromOptions({ kubeconfig: gone }).list('Pod'));
    expect(e2.oneLine()).toBe('http://127.0.0.1:1 (GET /api/v1/pods): cannot reach the Kubernetes API: ECONNREFUSED — is the cluster up? check --kubeconfig and --context');
  });

  it('lets a test add endpoints in front of the built-in ones (route hook), and take them away', async () => {
    const unroute = api.route('POST', /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/, (_req, res, m) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`exec in ${m[1]}/${m[2]}`);
    });
    const r = await kube.request('POST', '/api/v1/namespaces/shop/pods/p9/exec');
    expect(r).toEqual({ status: 200, body: 'exec in shop/p9' });
    unroute();
    expect((await kube.request('POST', '/api/v1/namespaces/shop/pods/p9/exec')).status).toBe(404);
  });

  it('serves @kubernetes/client-node\'s own typed and generic APIs', async () => {
    const kc = loadKubeConfig({ kubeconfig: api.kubeconfigPath });
    const core = kc.makeApiClient(CoreV1Api);
    const svcs = await core.listNamespacedService({ namespace: 'shop' });
    expect(svcs.items.map((s) => s.metadata?.name)).toEqual(['web']);
    const generic = KubernetesObjectApi.makeApiClient(kc);
    const dep = await generic.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' } });
    expect((dep as { spec?: { replicas?: number } }).spec?.replicas).toBe(3);
    expect(api.requests.some((r) => r.path === '/apis/apps/v1')).toBe(true);
  });
});
