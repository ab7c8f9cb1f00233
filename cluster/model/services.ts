/**
 * What the API server fills in on a Service (cluster IP, node ports, health-check node port) and
 * which load-balancer implementation owns it. Pure; choices are stable hashes of the Service's
 * name so snapshots and repeated runs see the same numbers.
 */
import { isNlbService } from '../nlb/plan/build.js';
import { stableHash } from '../netns/plan.js';
import type { Service } from '../lab/state.js';

export const NLB_CLASS = 'service.k8s.aws/nlb';

export const svcKey = (svc: Service): string => `${svc.metadata?.namespace ?? 'default'}/${svc.metadata?.name ?? ''}`;

/** Owned by the NLB emulator (AWS Load Balancer Controller semantics), not MetalLB: its rule. */
export { isNlbService };

/** MetalLB serves LoadBalancer Services without a loadBalancerClass (and not claimed by AWS annotations). */
export function isMetallbService(svc: Service): boolean {
  return svc.spec?.type === 'LoadBalancer' && !svc.spec.loadBalancerClass && !isNlbService(svc);
}

export const externalPolicyLocal = (svc: Service): boolean =>
  (svc.spec?.type === 'NodePort' || svc.spec?.type === 'LoadBalancer') && svc.spec.externalTrafficPolicy === 'Local';

const SERVICE_BASE = (10 << 24) | (96 << 16);
const NODE_PORT_MIN = 30000;
const NODE_PORT_COUNT = 2768;

function ipFromNumber(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * Fill in spec.clusterIP(s), ports[].nodePort, spec.healthCheckNodePort and defaults the way the
 * API server does, avoiding what `others` already use. Returns a new object.
 */
export function allocateService(svc: Service, others: Service[]): Service {
  const out = structuredClone(svc);
  const spec = (out.spec ??= {});
  const meta = (out.metadata ??= {});
  meta.namespace ??= 'default';
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  spec.ipFamilies ??= ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.type !== 'ClusterIP') spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  const key = svcKey(out);

  const usedIps = new Set(others.map((o) => o.spec?.clusterIP).filter(Boolean));
  // 10.96.0.1 (kubernetes) and 10.96.0.10 (kube-dns) are taken in every kind cluster.
  usedIps.add('10.96.0.1');
  usedIps.add('10.96.0.10');
  if (!spec.clusterIP) {
    let n = stableHash(`clusterIP:${key}`) % 65000;
    for (;;) {
      const ip = ipFromNumber(SERVICE_BASE + 2 + n);
      if (!usedIps.has(ip)) {
        spec.clusterIP = ip;
        break;
      }
      n = (n + 1) % 65000;
    }
  }
  spec.clusterIPs = [spec.clusterIP];

  const usedPorts = new Set<number>();
  for (const o of others) {
    for (const p of o.spec?.ports ?? []) if (p.nodePort) usedPorts.add(p.nodePort);
    if (o.spec?.healthCheckNodePort) usedPorts.add(o.spec.healthCheckNodePort);
  }
  const takePort = (seed: string): number => {
    let n = stableHash(seed) % NODE_PORT_COUNT;
    while (usedPorts.has(NODE_PORT_MIN + n)) n = (n + 1) % NODE_PORT_COUNT;
    usedPorts.add(NODE_PORT_MIN + n);
    return NODE_PORT_MIN + n;
  };
  for (const p of spec.ports ?? []) if (p.nodePort) usedPorts.add(p.nodePort);
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
    const wantsNodePort = spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
    if (wantsNodePort && !p.nodePort) p.nodePort = takePort(`nodePort:${key}:${p.name ?? ''}:${p.port}`);
  }
  if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' && !spec.healthCheckNodePort) {
    spec.healthCheckNodePort = takePort(`healthCheckNodePort:${key}`);
  }
  out.status ??= {};
  if (spec.type === 'LoadBalancer') out.status.loadBalancer ??= {};
  else out.status.loadBalancer = {};
  return out;
}
