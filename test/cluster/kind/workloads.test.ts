import { describe, expect, it } from 'vitest';
import { kindDeployment, kindScenarioObjects, withReadinessGates } from '../../../cluster/kind/workloads.js';
import type { Deployment, Service } from '../../../cluster/lab/state.js';
import { parseManifests } from '../../../cluster/model/parse.js';
import { loadScenario } from '../../../cluster/scenarios/catalog.js';

const LB = { clusterName: 'lab1', zones: ['lab-1a', 'lab-1b'] };
const IMAGE = { tag: 'netlab:0.1.0-abc123', root: '/opt/netlab' };

describe('scenario workloads on kind', () => {
  it('runs the echo script from netlab image with downward-API args (local-policy)', () => {
    const s = loadScenario('local-policy');
    const objs = kindScenarioObjects(parseManifests(s.manifests, s.manifestsFile), IMAGE);
    expect(objs.deployments).toMatchSnapshot();
    const c = objs.deployments[0]!.spec!.template!.spec!.containers[0]!;
    expect(c.image).toBe(IMAGE.tag);
    expect(c.imagePullPolicy).toBe('Never');
    expect(c.command).toEqual(['node', '/opt/netlab/dist/cluster/workloads/echo.js']);
    expect(c.args).toEqual(expect.arrayContaining(['--hostname', '$(POD_NAME)', '--port', '8080', '--pod-ip', '$(POD_IP)']));
    expect(c.env?.map((e) => e.name)).toEqual(['POD_NAME', 'POD_NAMESPACE', 'NODE_NAME', 'POD_IP']);
    // The readiness probe and ports stay as written: the echo serves the same port.
    expect(c.readinessProbe?.httpGet?.port).toBe(8080);
    expect(objs.services.map((x) => x.metadata?.name)).toEqual(['svc-nlb-instance-local']);
  });

  it('keeps PROXY protocol for the write-up httpd:pp image (ip-mode-ppv2)', () => {
    const s = loadScenario('ip-mode-ppv2');
    const d = kindScenarioObjects(parseManifests(s.manifests, s.manifestsFile), IMAGE).deployments[0]!;
    const c = d.spec!.template!.spec!.containers[0]!;
    expect(c.args).toContain('--proxy-protocol');
    expect(d.spec!.template!.metadata!.annotations!['netlab.dev/original-image']).toBe('gasida/httpd:pp');
  });

  it('runs the gateway script for an Istio proxy image and keeps its env', () => {
    const s = loadScenario('gateway-xff');
    const ds = kindScenarioObjects(parseManifests(s.manifests, s.manifestsFile), IMAGE).deployments;
    const gw = ds.find((d) => d.spec!.template!.spec!.containers[0]!.command![1]!.endsWith('gateway.js'));
    expect(gw).toBeDefined();
    const env = gw!.spec!.template!.spec!.containers[0]!.env!;
    expect(env.some((e) => e.name === 'UPSTREAM_SERVICE')).toBe(true);
  });

  it('adds the target-health readiness gate to pod templates of opted-in namespaces only', () => {
    const s = loadScenario('readiness-gate');
    const model = parseManifests(s.manifests, s.manifestsFile);
    const svc = { ...model.services[0]!.object, metadata: { ...model.services[0]!.object.metadata, namespace: s.namespace, uid: '1f0e6a2c-0000-4000-8000-000000000001' } } as Service;
    const d = { ...kindDeployment(model.deployments[0]!.object, IMAGE), metadata: { ...model.deployments[0]!.object.metadata, namespace: s.namespace } } as Deployment;
    const gated = withReadinessGates(d, { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' }, [svc], LB);
    const gates = gated.spec!.template!.spec!.readinessGates!.map((g) => g.conditionType);
    expect(gates).toHaveLength(1);
    expect(gates[0]).toMatch(/^target-health\.elbv2\.k8s\.aws\/k8s-[a-z0-9]+-[a-z0-9]+-[0-9a-f]{10}$/);
    expect(withReadinessGates(gated, { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' }, [svc], LB).spec!.template!.spec!.readinessGates).toHaveLength(1);
    expect(withReadinessGates(d, {}, [svc], LB).spec!.template!.spec!.readinessGates).toBeUndefined();
  });
});
