/**
 * The endpoints controller: Service selector + pods → Endpoints (ready pods in `addresses`, the
 * others in `notReadyAddresses`). Pure.
 */
import type { Endpoints, LabPod, Service } from '../lab/state.js';
import { isPodReady } from './pods.js';

function selects(svc: Service, p: LabPod): boolean {
  const selector = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return false;
  if ((p.object.metadata?.namespace ?? 'default') !== (svc.metadata?.namespace ?? 'default')) return false;
  const labels = p.object.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A Service port's targetPort on a given pod: a number, or a container port looked up by name. */
export function resolveTargetPort(target: number | string | undefined, fallback: number, p: LabPod): number | null {
  if (target === undefined) return fallback;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of p.object.spec?.containers ?? []) for (const port of c.ports ?? []) if (port.name === target) return port.containerPort;
  return null;
}

export function computeEndpoints(svc: Service, pods: LabPod[]): Endpoints {
  const ns = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const members = pods
    .filter((p) => !p.deleting && p.object.status?.podIP && selects(svc, p))
    .sort((a, b) => (a.object.metadata?.name ?? '').localeCompare(b.object.metadata?.name ?? ''));
  const subsets: NonNullable<Endpoints['subsets']> = [];
  if (members.length) {
    const first = members[0]!;
    const ports = (svc.spec?.ports ?? []).map((sp) => ({
      name: sp.name,
      port: resolveTargetPort(sp.targetPort as number | string | undefined, sp.port, first) ?? sp.port,
      protocol: sp.protocol ?? 'TCP',
    }));
    const address = (p: LabPod) => ({
      ip: p.object.status!.podIP!,
      nodeName: p.object.spec?.nodeName,
      targetRef: { kind: 'Pod', name: p.object.metadata?.name, namespace: ns, uid: p.object.metadata?.uid },
    });
    const ready = members.filter(isPodReady).map(address);
    const notReady = members.filter((p) => !isPodReady(p)).map(address);
    subsets.push({
      addresses: ready.length ? ready : undefined,
      notReadyAddresses: notReady.length ? notReady : undefined,
      ports,
    });
  }
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: ns, labels: svc.metadata?.labels },
    subsets: subsets.length ? subsets : undefined,
  };
}
