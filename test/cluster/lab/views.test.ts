import { describe, expect, it } from 'vitest';
import { applyModel, deleteModel } from '../../../cluster/lab/objects.js';
import { age, renderGet, table } from '../../../cluster/lab/views.js';
import { computeEndpoints } from '../../../cluster/model/endpoints.js';
import { parseManifests } from '../../../cluster/model/parse.js';
import { allocateService } from '../../../cluster/model/services.js';
import { setCondition, updatePodStatus } from '../../../cluster/model/pods.js';
import { NOW, state } from './state-fixture.js';

const LATER = Date.parse(NOW) + 3_723_000;

describe('kubectl-like views', () => {
  it("prints AGE the way kubectl's HumanDuration does", () => {
    const t0 = Date.parse(NOW);
    expect([5, 119, 125, 600, 3600 * 2.5, 3600 * 5 + 60 * 7, 3600 * 30, 86400 * 3 + 3600 * 4, 86400 * 9].map((s) => age(NOW, t0 + s * 1000))).toEqual(['5s', '119s', '2m5s', '10m', '150m', '5h7m', '30h', '3d4h', '9d']);
  });

  it('pads columns with three spaces like kubectl', () => {
    expect(table(['NAME', 'X'], [['a', '1'], ['longer', '2']])).toBe('NAME     X\na        1\nlonger   2');
  });

  it('get pods -o wide shows IP, NODE and READINESS GATES (snapshot)', () => {
    const s = state();
    const p = s.pods[0]!;
    updatePodStatus(p, true, true, NOW);
    expect(renderGet(s, 'pods', { namespace: 'default', allNamespaces: false, output: 'wide' }, LATER)).toMatchInlineSnapshot(`
      "NAME        READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES
      d-x-abcde   1/1     Running   0          62m   10.244.1.2   worker   <none>           0/1"
    `);
    setCondition(p.object, p.object.spec!.readinessGates![0]!.conditionType, 'True', NOW);
    const all = renderGet(s, 'pods', { namespace: 'default', allNamespaces: true, output: 'wide' }, LATER).split('\n');
    expect(all[0]).toMatch(/^NAMESPACE\s+NAME\s+READY/);
    expect(all[1]).toMatch(/^default\s+d-x-abcde\s.*\s1\/1$/);
  });

  it('get svc / ep / -o json after applying the write-up manifest', () => {
    const s = state();
    s.pods = [];
    s.objects.services = [];
    const text = `apiVersion: v1\nkind: Service\nmetadata: {name: svc-lb-local}\nspec: {type: LoadBalancer, externalTrafficPolicy: Local, selector: {app: x}, ports: [{port: 80, targetPort: 8080, nodePort: 31001}], healthCheckNodePort: 32001, clusterIP: 10.96.1.1}\n`;
    expect(applyModel(s, parseManifests(text, 'm.yaml'), NOW)).toEqual(['service/svc-lb-local created']);
    expect(applyModel(s, parseManifests(text, 'm.yaml'), NOW)).toEqual(['service/svc-lb-local unchanged']);
    s.objects.services = s.objects.services.map((x) => allocateService(x, []));
    s.objects.services[0]!.status = { loadBalancer: { ingress: [{ ip: '172.18.255.200' }] } };
    s.endpoints = s.objects.services.map((x) => computeEndpoints(x, s.pods));
    expect(renderGet(s, 'svc', { namespace: 'default', allNamespaces: false, output: 'table' }, LATER)).toBe(
      'NAME           TYPE           CLUSTER-IP   EXTERNAL-IP      PORT(S)        AGE\nsvc-lb-local   LoadBalancer   10.96.1.1    172.18.255.200   80:31001/TCP   62m',
    );
    expect(renderGet(s, 'ep', { namespace: 'default', allNamespaces: false, output: 'table' }, LATER)).toBe('NAME           ENDPOINTS   AGE\nsvc-lb-local   <none>      62m');
    const list = JSON.parse(renderGet(s, 'svc', { namespace: 'default', allNamespaces: false, output: 'json' })) as { kind: string; items: { spec: { healthCheckNodePort: number } }[] };
    expect(list.kind).toBe('List');
    expect(list.items[0]!.spec.healthCheckNodePort).toBe(32001);
    expect(renderGet(s, 'svc', { namespace: 'other', allNamespaces: false, output: 'table' })).toBe('No resources found in other namespace.');
    expect(deleteModel(s, parseManifests(text, 'm.yaml'))).toEqual(['service "svc-lb-local" deleted']);
  });

  it('apply refuses objects in a namespace that does not exist, at file:line', () => {
    const s = state();
    expect(() => applyModel(s, parseManifests('apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: team}\nspec: {ports: [{port: 80}]}\n', 'm.yaml'), NOW)).toThrow(/namespace "team" not found/);
    expect(applyModel(s, parseManifests('apiVersion: v1\nkind: Namespace\nmetadata: {name: team, labels: {elbv2.k8s.aws/pod-readiness-gate-inject: enabled}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: team}\nspec: {ports: [{port: 80}]}\n', 'm.yaml'), NOW)).toEqual(['namespace/team created', 'service/a created']);
    expect(s.objects.namespaces.find((n) => n.metadata?.name === 'team')?.metadata?.labels).toEqual({ 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled', 'kubernetes.io/metadata.name': 'team' });
  });
});
