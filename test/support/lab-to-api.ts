/**
 * A netns lab's state as the objects a Kubernetes API would hold, to seed the fake API server:
 * Nodes, Pods and Services as the lab stores them, and EndpointSlices made from the lab's
 * Endpoints (what the EndpointSlice controller would write).
 */
import type { KindTypes, KubeObject } from '../../cluster/kube/kinds.js';
import type { Endpoints, LabState } from '../../cluster/lab/state.js';

export function endpointSlicesFrom(endpoints: readonly Endpoints[], pods: LabState['pods']): KindTypes['EndpointSlice'][] {
  return endpoints.map((ep) => {
    const namespace = ep.metadata?.namespace ?? 'default';
    const name = ep.metadata?.name ?? '';
    const subsets = ep.subsets ?? [];
    const ports = subsets[0]?.ports ?? [];
    const entries = subsets.flatMap((s) => [
      ...(s.addresses ?? []).map((a) => ({ a, ready: true })),
      ...(s.notReadyAddresses ?? []).map((a) => ({ a, ready: false })),
    ]);
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-lab`, namespace, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'netlab-test' } },
      addressType: 'IPv4',
      endpoints: entries.map(({ a, ready }) => ({
        addresses: [a.ip],
        conditions: { ready, serving: ready, terminating: false },
        nodeName: a.nodeName ?? pods.find((p) => p.object.status?.podIP === a.ip)?.object.spec?.nodeName,
        targetRef: a.targetRef ? { kind: a.targetRef.kind, name: a.targetRef.name, namespace: a.targetRef.namespace } : undefined,
      })),
      ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    };
  });
}

/** Everything to seed, namespaces first; `service` may rewrite each Service (e.g. hand it to the NLB). */
export function labObjects(state: LabState, service: (s: KindTypes['Service']) => KindTypes['Service'] = (s) => s): KubeObject[] {
  const withKind = <T extends object>(apiVersion: string, kind: string, o: T) => ({ ...o, apiVersion, kind }) as unknown as KubeObject;
  return [
    ...state.objects.namespaces.filter((n) => !['default', 'kube-system'].includes(n.metadata?.name ?? '')).map((n) => withKind('v1', 'Namespace', n)),
    ...state.nodes.map((n) => withKind('v1', 'Node', n.object)),
    ...state.objects.services.map((s) => withKind('v1', 'Service', service(structuredClone(s)))),
    ...state.pods.filter((p) => !p.deleting).map((p) => withKind('v1', 'Pod', p.object)),
    ...endpointSlicesFrom(state.endpoints, state.pods).map((e) => e as KubeObject),
  ];
}
