import type { LabState } from '../../../cluster/lab/state.js';
import { newPod } from '../../../cluster/model/pods.js';
import { nodeObject } from '../../../cluster/netns/node.js';
import { planTopology } from '../../../cluster/netns/plan.js';

export const NOW = '2026-01-01T00:00:00.000Z';

/** A small lab state (2 nodes, one pod with a readiness gate, one LoadBalancer Service) for pure tests. */
export function state(): LabState {
  const plan = planTopology({ lab: 'L', nodes: 2, zones: ['a'] });
  const nodes = plan.nodes.map((n) => ({ ...n, stopped: false, object: nodeObject(n, NOW) }));
  const gate = 'target-health.elbv2.k8s.aws/k8s-default-svc-0123456789';
  const object = newPod({ metadata: { name: 'd', namespace: 'default' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [{ name: 'c' }] } } } }, 'd-x-abcde', nodes[1]!, '10.244.1.2', NOW, [gate]);
  return {
    version: 1, name: 'L', provider: 'netns', phase: 'ready', createdAt: NOW, options: { nodes: 2, zones: ['a'], timeScale: 1 },
    resources: { namespaces: [], files: [], dirs: [], processes: [] }, nodes, router: plan.router, client: plan.client,
    objects: { namespaces: [{ metadata: { name: 'default' } }], deployments: [], services: [{ metadata: { name: 's', namespace: 'default' }, spec: { type: 'LoadBalancer' } }] },
    pods: [{ netns: 'L-pod-d-x-abcde', veth: 'veth0', ports: [80], workload: { kind: 'echo', script: 'x', args: [] }, pid: 1, restarts: 0, logFile: '', probeReady: true, deleting: false, object }],
    endpoints: [], metallb: { poolStart: '172.18.255.200', poolEnd: '172.18.255.250', leaders: {} }, controller: { pid: null, startedAt: null, heartbeat: null },
    generation: 0, realizedGeneration: 0, applied: { rules: {}, agents: {} }, extensions: {},
  };
}

