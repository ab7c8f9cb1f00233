/**
 * MetalLB's L2 leader election, pure. Every speaker ranks the eligible nodes by
 * sha256(node + "#" + VIP) and the first one announces, so all agree without talking. Eligible:
 * ready nodes not labelled node.kubernetes.io/exclude-from-external-load-balancers; with
 * externalTrafficPolicy Local, only nodes with a ready local endpoint of the Service.
 */
import { createHash } from 'node:crypto';
import type { Endpoints, LabNode, Service } from '../lab/state.js';
import { externalPolicyLocal } from '../model/services.js';

const EXCLUDE = 'node.kubernetes.io/exclude-from-external-load-balancers';

export function electLeader(vip: string, svc: Service, nodes: LabNode[], endpoints: Endpoints | undefined): string | null {
  const readyNodes = new Set((endpoints?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.nodeName)));
  if (readyNodes.size === 0) return null;
  const eligible = nodes.filter((n) => !n.stopped && !(EXCLUDE in (n.object.metadata?.labels ?? {})) && (!externalPolicyLocal(svc) || readyNodes.has(n.name)));
  const rank = (n: LabNode) => createHash('sha256').update(`${n.name}#${vip}`).digest('hex');
  eligible.sort((a, b) => rank(a).localeCompare(rank(b)));
  return eligible[0]?.name ?? null;
}
