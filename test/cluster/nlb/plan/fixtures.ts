/** Small Kubernetes objects for the NLB plan tests: a kind-like cluster of one control plane and two workers. */
import type { Node as V1Node, Pod as V1Pod, Service as V1Service } from '../../../../cluster/nlb/plan/types.js';

export function node(name: string, ip: string, zone: string, extraLabels: Record<string, string> = {}): V1Node {
  return {
    metadata: { name, labels: { 'topology.kubernetes.io/zone': zone, ...extraLabels } },
    status: { addresses: [{ type: 'InternalIP', address: ip }] },
  };
}

export const NODES: V1Node[] = [
  node('control-plane', '172.18.0.2', 'lab-1a', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' }),
  node('worker', '172.18.0.3', 'lab-1a'),
  node('worker2', '172.18.0.4', 'lab-1b'),
];

export function pod(name: string, ip: string, nodeName: string, opts: { ready?: boolean; containersReady?: boolean; namespace?: string } = {}): V1Pod {
  const ready = opts.ready ?? true;
  return {
    metadata: { name, namespace: opts.namespace ?? 'default', labels: { app: 'echo' } },
    spec: { nodeName, containers: [{ name: 'echo', image: 'netlab/echo', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: {
      phase: 'Running',
      podIP: ip,
      conditions: [
        { type: 'ContainersReady', status: (opts.containersReady ?? ready) ? 'True' : 'False' },
        { type: 'Ready', status: ready ? 'True' : 'False' },
      ],
    },
  };
}

export const PODS: V1Pod[] = [pod('echo-a', '10.244.1.5', 'worker'), pod('echo-b', '10.244.2.7', 'worker2')];

export function service(annotations: Record<string, string>, spec: Partial<NonNullable<V1Service['spec']>> = {}): V1Service {
  return {
    metadata: { name: 'svc-nlb', namespace: 'default', uid: '6f1c9a2e-0000-4000-8000-000000000001', annotations },
    spec: {
      type: 'LoadBalancer',
      selector: { app: 'echo' },
      ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }],
      ...spec,
    },
  };
}
