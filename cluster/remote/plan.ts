/**
 * From the API's objects (a Service, its EndpointSlices, the backing pods, the nodes) to what a
 * remote capture needs, as pure data: which nodes and pods to capture on, the tcpdump filter, who
 * owns which address, and which hops no capture point can see on a real cluster.
 */
import type { V1EndpointSlice, V1Node, V1Pod, V1Service as V1ServiceObject } from '@kubernetes/client-node';
import type { Json } from '../lab/state.js';
import { NetlabError } from '../../analyzer/errors.js';
import type { AddressOwner } from '../../analyzer/hops/infer.js';
import { ANNOTATION } from '../nlb/plan/annotations.js';
import { isNlbService } from '../nlb/plan/build.js';

export interface RemoteNode {
  name: string;
  /** InternalIP first, then ExternalIP: the addresses kube-proxy's SNAT and NodePorts use. */
  addresses: string[];
}

export interface RemotePod {
  name: string;
  namespace: string;
  node: string;
  ip: string;
  uid: string;
  /** Runtime container IDs without the `containerd://` scheme: they appear in the containers' cgroup paths. */
  containerIds: string[];
}

/** How traffic reaches the Service from outside the cluster, which decides what must be inferred. */
export type FrontDoor = 'nlb-instance' | 'nlb-ip' | 'load-balancer' | 'node-port' | 'cluster-ip';

export interface ServiceSummary {
  namespace: string;
  name: string;
  type: string;
  frontDoor: FrontDoor;
  proxyProtocol: boolean;
  externalTrafficPolicy: string | null;
  clusterIps: string[];
  /** Service ports (TCP) with their node ports. */
  ports: Array<{ name: string | null; port: number; nodePort: number | null }>;
  /** Port numbers the pods listen on, from the EndpointSlices. */
  targetPorts: number[];
  healthCheckNodePort: number | null;
  /** status.loadBalancer.ingress: IPs and hostnames (an NLB's DNS name). */
  ingress: string[];
}

export interface RemotePlan {
  service: ServiceSummary;
  nodes: RemoteNode[];
  pods: RemotePod[];
  /** tcpdump filter: the Service's TCP ports on every hop, ICMP, ARP for load-balancer IPs. */
  filter: string;
  addresses: Record<string, AddressOwner>;
  healthCheckPorts: number[];
  /** Things to tell the user before capturing (skipped pods, hostNetwork backends). */
  notes: string[];
}

export interface PlanInput {
  service: V1Service;
  endpointSlices: EndpointSlice[];
  pods: Pod[];
  nodes: Node[];
  /** `--nodes`: capture on exactly these nodes instead of the endpoint nodes. */
  onlyNodes?: string[];
}

type V1Service = Json<V1ServiceObject>;
type EndpointSlice = Json<V1EndpointSlice>;
type Pod = Json<V1Pod>;
type Node = Json<V1Node>;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function frontDoor(svc: V1Service): FrontDoor {
  const type = svc.spec?.type ?? 'ClusterIP';
  if (type === 'LoadBalancer') {
    const annotations = svc.metadata?.annotations ?? {};
    const awsType = annotations[ANNOTATION.type];
    if (isNlbService(svc)) return annotations[ANNOTATION.targetType] === 'ip' || awsType === 'nlb-ip' ? 'nlb-ip' : 'nlb-instance';
    // The in-tree AWS cloud provider's NLB registers instances (nodes) as targets.
    if (awsType === 'nlb') return 'nlb-instance';
    return 'load-balancer';
  }
  return type === 'NodePort' ? 'node-port' : 'cluster-ip';
}

function nodeAddresses(node: Node): string[] {
  const addrs = node.status?.addresses ?? [];
  const pick = (t: string) => addrs.filter((a) => a.type === t).map((a) => a.address);
  return [...pick('InternalIP'), ...pick('ExternalIP')];
}

function stripScheme(id: string): string {
  return id.replace(/^[a-z0-9-]+:\/\//, '');
}

export function describeService(svc: V1Service, slices: EndpointSlice[]): ServiceSummary {
  const spec = svc.spec ?? {};
  const tcpPorts = (spec.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP');
  const targetPorts = new Set<number>();
  for (const s of slices) for (const p of s.ports ?? []) if ((p.protocol ?? 'TCP') === 'TCP' && typeof p.port === 'number') targetPorts.add(p.port);
  // Without slices (no endpoints yet) numeric targetPorts still say where pods listen.
  for (const p of tcpPorts) if (typeof p.targetPort === 'number') targetPorts.add(p.targetPort);
  const annotations = svc.metadata?.annotations ?? {};
  return {
    namespace: svc.metadata?.namespace ?? 'default',
    name: svc.metadata?.name ?? '',
    type: spec.type ?? 'ClusterIP',
    frontDoor: frontDoor(svc),
    proxyProtocol: annotations[ANNOTATION.proxyProtocol] === '*',
    externalTrafficPolicy: spec.type === 'NodePort' || spec.type === 'LoadBalancer' ? (spec.externalTrafficPolicy ?? 'Cluster') : null,
    clusterIps: (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter((ip) => ip !== 'None'),
    ports: tcpPorts.map((p) => ({ name: p.name ?? null, port: p.port, nodePort: p.nodePort ?? null })),
    targetPorts: [...targetPorts].sort((a, b) => a - b),
    healthCheckNodePort: spec.healthCheckNodePort ?? null,
    ingress: (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').filter(Boolean),
  };
}

/** The tcpdump filter: every port the Service's traffic uses on its way (front, node port, pod). */
export function captureFilter(s: ServiceSummary): string {
  const ports = new Set<number>([...s.ports.map((p) => p.port), ...s.ports.flatMap((p) => (p.nodePort ? [p.nodePort] : [])), ...s.targetPorts]);
  if (s.healthCheckNodePort) ports.add(s.healthCheckNodePort);
  const tcp = `tcp and (${[...ports].sort((a, b) => a - b).map((p) => `port ${p}`).join(' or ')})`;
  const arp = s.ingress.filter((i) => IPV4.test(i)).map((ip) => `(arp and host ${ip})`);
  return [`(${tcp})`, 'icmp', ...arp].join(' or ');
}

/** Endpoint pods of the Service, by name, in the order the slices list them. */
function endpointPodNames(slices: EndpointSlice[]): string[] {
  const names: string[] = [];
  for (const s of slices) {
    for (const e of s.endpoints ?? []) {
      if (e.targetRef?.kind === 'Pod' && e.targetRef.name && !names.includes(e.targetRef.name)) names.push(e.targetRef.name);
    }
  }
  return names;
}

export function planRemoteCapture(input: PlanInput): RemotePlan {
  const service = describeService(input.service, input.endpointSlices);
  const where = `Service ${service.namespace}/${service.name}`;
  if (service.ports.length === 0) throw new NetlabError(`${where} has no TCP ports`, { hint: 'netlab capture follows TCP connections; pick a Service with a TCP port' });
  const notes: string[] = [];
  const byName = new Map(input.pods.map((p) => [p.metadata?.name ?? '', p]));
  const pods: RemotePod[] = [];
  const hostNetworkNodes: string[] = [];
  for (const name of endpointPodNames(input.endpointSlices)) {
    const p = byName.get(name);
    const ip = p?.status?.podIP;
    const node = p?.spec?.nodeName;
    if (!p || !ip || !node) {
      notes.push(`endpoint pod ${name} is not running (no pod, IP or node): not captured`);
      continue;
    }
    if (p.spec?.hostNetwork) {
      notes.push(`pod ${name} uses the node's network: its traffic is in the capture of node ${node}`);
      hostNetworkNodes.push(node);
      continue;
    }
    const containerIds = (p.status?.containerStatuses ?? []).flatMap((c) => (c.containerID ? [stripScheme(c.containerID)] : []));
    pods.push({ name, namespace: p.metadata?.namespace ?? service.namespace, node, ip, uid: p.metadata?.uid ?? '', containerIds });
  }
  const known = new Map(input.nodes.map((n) => [n.metadata?.name ?? '', n]));
  let nodeNames: string[];
  if (input.onlyNodes && input.onlyNodes.length > 0) {
    const unknown = input.onlyNodes.filter((n) => !known.has(n));
    if (unknown.length) throw new NetlabError(`--nodes names ${unknown.join(', ')}, which the cluster does not have`, { exitCode: 2, hint: `pick from: ${[...known.keys()].sort().join(', ')}` });
    nodeNames = [...input.onlyNodes];
    const outside = pods.filter((p) => !nodeNames.includes(p.node));
    for (const p of outside) notes.push(`pod ${p.name} runs on ${p.node}, which --nodes leaves out: not captured`);
    pods.splice(0, pods.length, ...pods.filter((p) => nodeNames.includes(p.node)));
  } else {
    nodeNames = [...new Set([...pods.map((p) => p.node), ...hostNetworkNodes])];
  }
  if (nodeNames.length === 0) {
    throw new NetlabError(`${where} has no running endpoint pods: nothing to capture`, { hint: `kubectl -n ${service.namespace} get endpointslices -l kubernetes.io/service-name=${service.name}` });
  }
  if (!input.onlyNodes?.length && service.externalTrafficPolicy === 'Cluster' && (service.frontDoor === 'nlb-instance' || service.frontDoor === 'load-balancer' || service.frontDoor === 'node-port')) {
    notes.push('externalTrafficPolicy Cluster: any node may receive the traffic and forward it; only the endpoint nodes are captured (add others with --nodes)');
  }
  const nodes: RemoteNode[] = nodeNames.sort().map((name) => ({ name, addresses: nodeAddresses(known.get(name) ?? {}) }));

  const addresses: Record<string, AddressOwner> = {};
  for (const n of input.nodes) for (const a of nodeAddresses(n)) addresses[a] = { node: n.metadata?.name ?? null, role: 'node' };
  for (const p of input.pods) {
    const ip = p.status?.podIP;
    if (ip && !p.spec?.hostNetwork) addresses[ip] = { pod: p.metadata?.name ?? null, node: p.spec?.nodeName ?? null, role: 'pod' };
  }
  for (const ip of service.ingress.filter((i) => IPV4.test(i))) addresses[ip] = { role: 'lb' };

  return {
    service,
    nodes,
    pods,
    filter: captureFilter(service),
    addresses,
    healthCheckPorts: service.healthCheckNodePort ? [service.healthCheckNodePort] : [],
    notes,
  };
}

/**
 * Without --client, who the studied traffic comes from: every connection's source except the
 * nodes' own addresses — on a real cluster those are the kubelet's probes and node-local checks,
 * which would otherwise count as clients whose IP was "lost". Null when no connection came from a
 * node (nothing to set apart).
 */
export function defaultClients(analysis: { flows: ReadonlyArray<{ client: { ip: string } }> }, addresses: Readonly<Record<string, AddressOwner>>): string[] | null {
  const all = [...new Set(analysis.flows.map((f) => f.client.ip))];
  const clients = all.filter((ip) => addresses[ip]?.role !== 'node');
  return clients.length === all.length ? null : clients.sort();
}
