import { describe, expect, it } from 'vitest';
import type { Deployment, LabNode, LabPod } from '../../../cluster/lab/state.js';
import { computeEndpoints } from '../../../cluster/model/endpoints.js';
import { allocatePodIp, newPod, pickNode, podTemplateHash, randomSuffix, setCondition, updatePodStatus } from '../../../cluster/model/pods.js';
import { planTopology } from '../../../cluster/netns/plan.js';
import { nodeObject } from '../../../cluster/netns/node.js';

const NOW = '2026-01-01T00:00:00.000Z';
const nodes: LabNode[] = planTopology({ lab: 'L', nodes: 3, zones: ['a', 'b'] }).nodes.map((n) => ({ ...n, stopped: false, object: nodeObject(n, NOW) }));
const deployment: Deployment = {
  metadata: { name: 'deploy-echo', namespace: 'default' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'echo' } },
    template: { metadata: { labels: { app: 'echo' } }, spec: { containers: [{ name: 'c', image: 'echo', ports: [{ containerPort: 8080, name: 'http' }] }] } },
  },
};

function pod(name: string, node: LabNode, gates: string[] = []): LabPod {
  const ip = allocatePodIp(node, []) ?? '';
  return { netns: `L-pod-${name}`, veth: 'veth0', ports: [8080], workload: { kind: 'echo', script: 'x', args: [] }, pid: 1, restarts: 0, logFile: '', probeReady: true, deleting: false, object: newPod(deployment, name, node, ip, NOW, gates) };
}

describe('pods', () => {
  it('are named <deployment>-<template hash>-<5 safe chars>', () => {
    const hash = podTemplateHash(deployment);
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(podTemplateHash(deployment)).toBe(hash);
    expect(randomSuffix()).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('spread over workers, never on the tainted control plane', () => {
    const pods: LabPod[] = [];
    for (let i = 0; i < 4; i++) {
      const node = pickNode(nodes, pods, 'default/deploy-echo')!;
      pods.push(pod(`p${i}`, node));
    }
    expect(pods.map((p) => p.object.spec?.nodeName)).toEqual(['worker', 'worker2', 'worker', 'worker2']);
    const stopped = nodes.map((n) => (n.name === 'worker' ? { ...n, stopped: true } : n));
    expect(pickNode(stopped, pods, 'default/deploy-echo')!.name).toBe('worker2');
  });

  it('are Ready only when containers are ready AND every readiness gate is True', () => {
    const gate = 'target-health.elbv2.k8s.aws/k8s-default-svcnlbip-5eff23b37f';
    const p = pod('g', nodes[1]!, [gate]);
    expect(p.object.spec?.readinessGates).toEqual([{ conditionType: gate }]);
    updatePodStatus(p, true, true, NOW);
    const ready = () => p.object.status?.conditions?.find((c) => c.type === 'Ready');
    expect(p.object.status?.conditions?.find((c) => c.type === 'ContainersReady')?.status).toBe('True');
    expect(ready()?.status).toBe('False');
    expect(ready()?.reason).toBe('ReadinessGatesNotReady');
    setCondition(p.object, gate, 'True', NOW);
    updatePodStatus(p, true, true, NOW);
    expect(ready()?.status).toBe('True');
    // A stopped node makes its pods unready, gates or not.
    updatePodStatus(p, false, true, NOW);
    expect(ready()?.status).toBe('False');
  });

  it('feed Endpoints: ready pods in addresses, others in notReadyAddresses, named target ports resolved', () => {
    const a = pod('a', nodes[1]!);
    const b = pod('b', nodes[2]!);
    updatePodStatus(a, true, true, NOW);
    b.probeReady = false;
    updatePodStatus(b, true, true, NOW);
    const ep = computeEndpoints({ metadata: { name: 's', namespace: 'default' }, spec: { selector: { app: 'echo' }, ports: [{ port: 80, targetPort: 'http' as unknown as number }] } }, [a, b]);
    expect(ep.subsets?.[0]?.addresses?.map((x) => [x.ip, x.nodeName])).toEqual([['10.244.1.2', 'worker']]);
    expect(ep.subsets?.[0]?.notReadyAddresses?.map((x) => x.ip)).toEqual(['10.244.2.2']);
    expect(ep.subsets?.[0]?.ports).toEqual([{ name: undefined, port: 8080, protocol: 'TCP' }]);
  });
});
