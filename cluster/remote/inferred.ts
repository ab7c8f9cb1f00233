/**
 * On a real cluster netlab captures only on nodes and pods: the client and the load balancer are
 * outside its reach. These notes say which hops are therefore inferred, and from what — the
 * Service's own description, then the addresses the backends actually saw. Pure.
 */
import type { AddressOwner } from '../../analyzer/hops/infer.js';
import type { ContractReport } from '../../analyzer/report/contract.js';
import type { ServiceSummary } from './plan.js';

const FRONT_DOOR_NOTE: Record<ServiceSummary['frontDoor'], string> = {
  'nlb-instance': 'NLB hop inferred from the source address seen at the node: with instance targets the NLB sends to node:NodePort and keeps the client IP by default; its own load-balancing decision and DNAT (listener → node) are not captured.',
  'nlb-ip': 'NLB hop inferred from the source address seen at the pod: ip targets send straight to the pod IP, from the NLB\'s private address unless preserve_client_ip is on; the NLB\'s decision and its DNAT/SNAT are not captured.',
  'load-balancer': 'load-balancer hop inferred from the destination seen at the node: the load balancer (MetalLB, a cloud LB) delivers to a node and is not captured itself.',
  'node-port': 'client → node hop inferred: the client is the source address seen at the node receiving the NodePort traffic.',
  'cluster-ip': 'ClusterIP DNAT happens on the client pod\'s node: it is captured only when that node is one of the captured nodes (add it with --nodes).',
};

function describeSource(ip: string, owner: AddressOwner | undefined, s: ServiceSummary): string {
  if (owner?.role === 'node') return `${ip} is node ${owner.node}'s address: SNAT by kube-proxy on the way in (externalTrafficPolicy ${s.externalTrafficPolicy ?? 'n/a'}), the client IP is lost at the peer`;
  if (owner?.role === 'pod') return `${ip} is pod ${owner.pod}'s address: an in-cluster client`;
  if (owner?.role === 'lb') return `${ip} is the load balancer's address`;
  if (s.frontDoor === 'nlb-ip') return `${ip} is no node or pod of the cluster: with ip targets that is the NLB's private address (the client IP only with preserve_client_ip${s.proxyProtocol ? ', or in the PROXY v2 header' : ''})`;
  return `${ip} is no node or pod of the cluster: the client's own address, kept all the way`;
}

export function inferredHops(service: ServiceSummary, addresses: Readonly<Record<string, AddressOwner>>, report: ContractReport | null): string[] {
  const notes = ['client: no capture point outside the cluster; the client is the source address seen at the first captured point.', FRONT_DOOR_NOTE[service.frontDoor]];
  if (service.proxyProtocol) notes.push('PROXY v2 is on (aws-load-balancer-proxy-protocol: "*"): the header the NLB inserts is decoded at the pod, so the client IP it carries is seen even though the NLB is not captured.');
  const seen = Object.entries(report?.summary.sourceSeenByBackend ?? {}).sort((a, b) => b[1] - a[1]);
  for (const [ip, n] of seen) notes.push(`backends saw source ${describeSource(ip, addresses[ip], service)} (${n} flow${n === 1 ? '' : 's'}).`);
  return notes;
}
