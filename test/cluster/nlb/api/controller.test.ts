/**
 * ApiNlbController against the fake API server without root: the system side (addresses, routes,
 * rules) is recorded and the health probes answer from a set the test controls, so what is checked
 * is the controller's reaction to watched changes and what it writes back through the API. The
 * same controller with the real system and real packets: api-mode.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../../../cluster/kube/client.js';
import type { KindTypes } from '../../../../cluster/kube/kinds.js';
import { ApiNlbController } from '../../../../cluster/nlb/api/controller.js';
import { DRAIN_FINALIZER } from '../../../../cluster/nlb/plan/build.js';
import { readServiceReport } from '../../../../cluster/nlb/api/report.js';
import type { ProbeSpec } from '../../../../cluster/nlb/health/probe.js';
import { readinessGateType } from '../../../../cluster/nlb/plan/build.js';
import { FakeKubeApi } from '../../../support/fake-kube-api.js';
import { waitUntil } from '../../../helpers/wait.js';

const A = 'service.beta.kubernetes.io/';
let api: FakeKubeApi;
let kube: KubeClient;
let controller: ApiNlbController;
const system = {
  addresses: new Set<string>(),
  routes: new Map<string, string>(),
  rules: '',
  healthy: new Set<string>(),
  probes: [] as ProbeSpec[],
};

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000): Promise<T> => waitUntil(what, fn, { timeoutMs, intervalMs: 20 });

const node = (name: string, i: number, zone: string): KindTypes['Node'] => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } },
  spec: { podCIDR: `10.244.${i}.0/24` },
  status: { addresses: [{ type: 'InternalIP', address: `172.18.0.${i + 2}` }] },
});
const pod = (name: string, ip: string, nodeName: string, gate?: string): KindTypes['Pod'] => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'web' } },
  spec: { nodeName, containers: [{ name: 'web' }], ...(gate ? { readinessGates: [{ conditionType: gate }] } : {}) },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'ContainersReady', status: 'True' }, { type: 'Ready', status: gate ? 'False' : 'True' }] },
});

const webService: KindTypes['Service'] = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name: 'web',
    namespace: 'default',
    annotations: {
      [`${A}aws-load-balancer-nlb-target-type`]: 'ip',
      [`${A}aws-load-balancer-target-group-attributes`]: 'deregistration_delay.timeout_seconds=30',
    },
  },
  spec: { type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
};

beforeAll(async () => {
  api = await FakeKubeApi.start();
  kube = KubeClient.fromOptions({ kubeconfig: api.kubeconfigPath });
  api.seed(node('worker', 1, 'lab-1a'));
  api.seed(node('worker2', 2, 'lab-1b'));
  api.seed(structuredClone(webService));
  controller = new ApiNlbController({
    kube,
    zones: [{ zone: 'lab-1a', ip: '172.18.2.2' }, { zone: 'lab-1b', ip: '172.18.2.3' }],
    pool: { prefix: '172.18.2.', first: 10, last: 250 },
    clusterName: 'unit',
    region: 'lab-1',
    // 10 s interval → 100 ms, 30 s delay → 300 ms.
    timeScale: 100,
    statusNamespace: 'kube-system',
    statusName: 'netlab-nlb-status',
    log: () => undefined,
    system: {
      addAddress: async (ip) => void system.addresses.add(ip),
      removeAddress: async (ip) => void system.addresses.delete(ip),
      setRoute: async (cidr, via) => void system.routes.set(cidr, via),
      removeRoute: async (cidr) => void system.routes.delete(cidr),
      applyRules: async (text) => void (system.rules = text),
      probe: async (spec) => {
        system.probes.push(spec);
        return system.healthy.has(spec.ip) ? { ok: true } : { ok: false, failure: 'connect', detail: 'ECONNREFUSED' };
      },
      now: () => Date.now(),
    },
  });
  await controller.start();
});

afterAll(async () => {
  await controller?.stop();
  await api?.close();
});

describe('ApiNlbController (fake API, recorded system)', () => {
  let gate = '';

  it('gives the load balancer an address per zone, routes pod CIDRs, writes the ingress and an Event', async () => {
    const ingress = await waitFor('ingress', () => api.object('Service', 'web', 'default')?.status?.loadBalancer?.ingress);
    expect(ingress.map((i) => i.hostname ?? `${i.ip} ${i.ipMode}`)).toEqual([expect.stringMatching(/^k8s-default-web-[0-9a-f]{10}-[0-9a-f]{16}\.elb\.lab-1\.amazonaws\.com$/), '172.18.2.10 Proxy', '172.18.2.11 Proxy']);
    expect([...system.addresses].sort()).toEqual(['172.18.2.10', '172.18.2.11']);
    expect(Object.fromEntries(system.routes)).toEqual({ '10.244.1.0/24': '172.18.0.3', '10.244.2.0/24': '172.18.0.4' });
    expect(api.objects('Event', 'default').map((e) => `${e.type} ${e.reason} ${e.involvedObject?.kind}/${e.involvedObject?.name}`)).toEqual(['Normal SuccessfullyReconciled Service/web']);
    const report = (await readServiceReport(kube, 'default', 'web'))!;
    gate = readinessGateType(report.targetGroups[0]!.name);
    expect(report.targetGroups[0]!.TargetHealthDescriptions).toEqual([]);
  });

  it('a pod appears: registered, probed from the load balancer address, healthy; gate True; finalizer added; DNAT in its rules', async () => {
    system.healthy.add('10.244.1.5');
    api.seed(pod('web-1', '10.244.1.5', 'worker', gate));
    await waitFor('gate True', () => api.object('Pod', 'web-1', 'default')?.status?.conditions?.find((c) => c.type === gate)?.status === 'True');
    const p = api.object('Pod', 'web-1', 'default')!;
    expect(p.metadata!.finalizers).toEqual([DRAIN_FINALIZER]);
    // The kubelet's conditions are kept next to the gate's.
    expect(p.status!.conditions!.map((c) => c.type)).toEqual(['ContainersReady', 'Ready', gate]);
    expect(system.probes.some((s) => s.ip === '10.244.1.5' && s.port === 8080 && s.localAddress === '172.18.2.10')).toBe(true);
    // The gate and the published report are separate writes: wait for the report to catch up.
    const report = await waitFor('the report to show a healthy target', async () => {
      const r = await readServiceReport(kube, 'default', 'web');
      return r?.targetGroups[0]?.TargetHealthDescriptions.some((d) => d.TargetHealth.State === 'healthy') ? r : null;
    });
    expect(report.targetGroups[0]!.TargetHealthDescriptions.map((d) => `${d.Target.Id} ${d.TargetHealth.State}`)).toEqual(['10.244.1.5 healthy']);
    expect(report.dnsAddresses).toEqual(['172.18.2.10']);
    expect(system.rules).toMatch(/-A NLB-[0-9a-f]{8}-t80 -p tcp -m mark --mark 1 -m comment --comment "target 10\.244\.1\.5:8080" -j DNAT --to-destination 10\.244\.1\.5:8080/);
    expect(system.rules).not.toMatch(/^:PREROUTING/m);
  });

  it('an unhealthy pod: the gate stays False with the reason; health checks fail open to it only when none is healthy', async () => {
    api.seed(pod('web-2', '10.244.2.9', 'worker2', gate));
    await waitFor('web-2 unhealthy', async () => (await readServiceReport(kube, 'default', 'web'))!.targetGroups[0]!.TargetHealthDescriptions.some((d) => d.Target.Id === '10.244.2.9' && d.TargetHealth.State === 'unhealthy'));
    const c = await waitFor('the gate condition', () => api.object('Pod', 'web-2', 'default')?.status?.conditions?.find((x) => x.type === gate && x.reason === 'Target.FailedHealthChecks'));
    expect([c.status, c.message]).toEqual(['False', 'Health checks failed']);
    // Cross-zone off: zone b's only target is unhealthy, so it fails open to it; zone a keeps its healthy one.
    expect(system.rules).toMatch(/target 10\.244\.2\.9:8080/);
  });

  it('a deleted pod stays terminating with the finalizer while its target drains, then the API lets it go', async () => {
    expect(await kube.delete('Pod', 'web-1', 'default')).toBe(true);
    await waitFor('web-1 draining', async () => (await readServiceReport(kube, 'default', 'web'))!.targetGroups[0]!.TargetHealthDescriptions.some((d) => d.Target.Id === '10.244.1.5' && d.TargetHealth.State === 'draining'));
    expect(api.object('Pod', 'web-1', 'default')!.metadata!.deletionTimestamp).toBeTruthy();
    expect(system.rules).not.toMatch(/target 10\.244\.1\.5:8080/);
    await waitFor('web-1 gone', () => !api.object('Pod', 'web-1', 'default'), 5000);
    const deleted = api.history.find((e) => e.type === 'DELETED' && e.object.metadata?.name === 'web-1')!;
    const marked = api.history.find((e) => e.type === 'MODIFIED' && e.object.metadata?.name === 'web-1' && e.object.metadata?.deletionTimestamp)!;
    expect(deleted.rv).toBeGreaterThan(marked.rv);
  });

  it('a node\'s pod CIDR moves: the route follows; the Service goes: its addresses are released', async () => {
    api.update('Node', 'worker2', undefined, (n) => (n.spec = { podCIDR: '10.244.7.0/24' }));
    await waitFor('the new route', () => system.routes.get('10.244.7.0/24') === '172.18.0.4');
    expect(system.routes.has('10.244.2.0/24')).toBe(false);
    api.remove('Service', 'web', 'default');
    await waitFor('addresses released', () => system.addresses.size === 0);
    await waitFor('the report emptied', async () => (await readServiceReport(kube, 'default', 'web')) === null);
  });

  it('a Service created again under the same name gets its Event again', async () => {
    api.seed(structuredClone(webService));
    await waitFor('the new ingress', () => api.object('Service', 'web', 'default')?.status?.loadBalancer?.ingress);
    await waitFor('a second Event', () => api.objects('Event', 'default').length === 2);
    expect(api.objects('Event', 'default').map((e) => `${e.reason} ${e.involvedObject?.uid === api.object('Service', 'web', 'default')?.metadata?.uid}`)).toEqual(['SuccessfullyReconciled false', 'SuccessfullyReconciled true']);
  });
});
