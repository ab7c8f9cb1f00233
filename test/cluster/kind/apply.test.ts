/**
 * A scenario applied through a real HTTP API (the fake API server): objects arrive rewritten for
 * netlab's image, the readiness gate is added client-side from the Service's server-assigned UID,
 * the pod wait follows the pods' Ready condition, and delete removes what was applied.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../../cluster/kube/client.js';
import { applyScenario, deleteScenario, waitForScenarioPods } from '../../../cluster/kind/apply.js';
import type { KindLabState } from '../../../cluster/kind/state.js';
import { loadScenario } from '../../../cluster/scenarios/catalog.js';
import { planLoadBalancer } from '../../../cluster/nlb/plan/build.js';
import { FakeKubeApi } from '../../support/fake-kube-api.js';

const IMAGE = { tag: 'netlab:0.1.0-test', root: '/opt/netlab' };
const state = { name: 'lab1', options: { workers: 2, zones: ['a', 'b'], timeScale: 10 } } as KindLabState;

let api: FakeKubeApi;
let kube: KubeClient;
beforeEach(async () => {
  api = await FakeKubeApi.start();
  kube = KubeClient.fromOptions({ kubeconfig: api.kubeconfigPath });
});
afterEach(async () => {
  await api.close();
});

describe('applyScenario on the kind cluster API', () => {
  it('readiness-gate: the labelled namespace, the Service, then the Deployment with the gate of its target group', async () => {
    const s = loadScenario('readiness-gate');
    const progress: string[] = [];
    const applied = await applyScenario(kube, s, state, IMAGE, (m) => progress.push(m));
    const ns = api.object('Namespace', 'rg');
    expect(ns?.metadata?.labels?.['elbv2.k8s.aws/pod-readiness-gate-inject']).toBe('enabled');
    const svc = api.objects('Service', 'rg')[0]!;
    const d = api.objects('Deployment', 'rg')[0]!;
    const tpl = d.spec!.template!.spec!;
    expect(tpl.containers[0]!.image).toBe(IMAGE.tag);
    expect(tpl.containers[0]!.imagePullPolicy).toBe('Never');
    // The gate names the target group the emulator computes from the Service as the server stored it (its UID).
    const plan = planLoadBalancer({ clusterName: 'lab1', region: 'lab-1', timeScale: 1, service: svc, nodes: [], pods: [], zones: ['lab-1a', 'lab-1b'] });
    const tgs = plan.handled && plan.plan ? plan.plan.targetGroups.map((t) => `target-health.elbv2.k8s.aws/${t.name}`) : [];
    expect(tgs).toHaveLength(1);
    expect(tpl.readinessGates?.map((g) => g.conditionType)).toEqual(tgs);
    const otherUid = planLoadBalancer({ clusterName: 'lab1', region: 'lab-1', timeScale: 1, service: { ...svc, metadata: { ...svc.metadata, uid: 'another' } }, nodes: [], pods: [], zones: ['lab-1a'] });
    expect(otherUid.handled && otherUid.plan?.targetGroups[0]?.name).not.toBe(tgs[0]!.split('/')[1]);
    expect(progress.some((m) => m.includes('added by netlab, as the controller\'s webhook would'))).toBe(true);

    await deleteScenario(kube, applied);
    expect(api.objects('Deployment', 'rg')).toEqual([]);
    expect(api.objects('Service', 'rg')).toEqual([]);
  });

  it('local-policy: no gate in the default namespace; the pod wait ends when kubelet (the test) marks both pods Ready', async () => {
    const s = loadScenario('local-policy');
    const applied = await applyScenario(kube, s, state, IMAGE, () => undefined);
    expect(api.objects('Deployment', 'default')[0]!.spec!.template!.spec!.readinessGates).toBeUndefined();
    const labels = { app: 'deploy-websrv' };
    const pod = (name: string, ready: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready }] } });
    api.seed(pod('deploy-echo-a', 'True'));
    api.seed(pod('deploy-echo-b', 'False'));
    const waiting = waitForScenarioPods(kube, applied, 10_000);
    let settled = false;
    void waiting.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    api.update('Pod', 'deploy-echo-b', 'default', (p) => {
      p.status!.conditions = [{ type: 'Ready', status: 'True' }];
    });
    await waiting;
    await expect(waitForScenarioPods(kube, { ...applied, deployments: applied.deployments.map((d) => ({ ...d, spec: { ...d.spec!, replicas: 3 } })) }, 500)).rejects.toThrow(/timed out after 0\.5 s waiting for 3 Ready pods of default\/deploy-echo.*\(pods: 2 present\)/);
  });
});
