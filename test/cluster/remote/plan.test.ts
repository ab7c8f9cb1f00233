import { describe, expect, it } from 'vitest';
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Json } from '../../../cluster/lab/state.js';
import { captureFilter, describeService, planRemoteCapture } from '../../../cluster/remote/plan.js';
import { inferredHops } from '../../../cluster/remote/inferred.js';
import type { ContractReport } from '../../../analyzer/report/contract.js';

const node = (name: string, ip: string): Json<V1Node> => ({ metadata: { name }, status: { addresses: [{ type: 'Hostname', address: name }, { type: 'InternalIP', address: ip }] } });
const pod = (name: string, nodeName: string, ip: string, extra: Partial<Json<V1Pod>['spec']> = {}): Json<V1Pod> => ({
  metadata: { name, namespace: 'shop', uid: `0000-${name}-uid` },
  spec: { nodeName, containers: [{ name: 'app' }], ...extra },
  status: { phase: 'Running', podIP: ip, containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'echo', imageID: '', containerID: `containerd://${name.replace(/-/g, '')}0123456789abcdef` }] },
});
const nlbService = (annotations: Record<string, string>, spec: Partial<Json<V1Service>['spec']> = {}): Json<V1Service> => ({
  metadata: { name: 'web', namespace: 'shop', annotations },
  spec: { type: 'LoadBalancer', clusterIP: '10.100.7.7', clusterIPs: ['10.100.7.7'], ports: [{ name: 'http', port: 80, targetPort: 'http' as never, nodePort: 31080, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }], externalTrafficPolicy: 'Cluster', ...spec },
  status: { loadBalancer: { ingress: [{ hostname: 'k8s-shop-web-0123456789.elb.ap-northeast-2.amazonaws.com' }] } },
});
const slice = (pods: Array<[string, string]>): Json<V1EndpointSlice> => ({
  addressType: 'IPv4',
  metadata: { name: 'web-abcde', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: pods.map(([name, ip]) => ({ addresses: [ip], conditions: { ready: true }, targetRef: { kind: 'Pod', name, namespace: 'shop' } })),
});
const nodes = [node('ip-192-168-1-10', '192.168.1.10'), node('ip-192-168-2-20', '192.168.2.20'), node('ip-192-168-3-30', '192.168.3.30')];
const pods = [pod('web-1', 'ip-192-168-1-10', '192.168.1.101'), pod('web-2', 'ip-192-168-2-20', '192.168.2.102'), pod('other', 'ip-192-168-3-30', '192.168.3.103')];

describe('planRemoteCapture', () => {
  const ipMode = nlbService({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'external', 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip', 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' });

  it('captures on the endpoint nodes and inside the endpoint pods, with the Service\'s ports in the filter', () => {
    const plan = planRemoteCapture({ service: ipMode, endpointSlices: [slice([['web-1', '192.168.1.101'], ['web-2', '192.168.2.102']])], pods, nodes });
    expect(plan).toMatchSnapshot();
    expect(plan.nodes.map((n) => n.name)).toEqual(['ip-192-168-1-10', 'ip-192-168-2-20']);
    expect(plan.pods.map((p) => p.containerIds[0])).toEqual(['web10123456789abcdef', 'web20123456789abcdef']);
    expect(plan.filter).toBe('(tcp and (port 80 or port 8080 or port 31080)) or icmp');
    expect(plan.service.frontDoor).toBe('nlb-ip');
    expect(plan.addresses['192.168.3.103']).toEqual({ pod: 'other', node: 'ip-192-168-3-30', role: 'pod' });
  });

  it('--nodes replaces the endpoint nodes and leaves out pods elsewhere, saying so', () => {
    const plan = planRemoteCapture({ service: ipMode, endpointSlices: [slice([['web-1', '192.168.1.101'], ['web-2', '192.168.2.102']])], pods, nodes, onlyNodes: ['ip-192-168-1-10', 'ip-192-168-3-30'] });
    expect(plan.nodes.map((n) => n.name)).toEqual(['ip-192-168-1-10', 'ip-192-168-3-30']);
    expect(plan.pods.map((p) => p.name)).toEqual(['web-1']);
    expect(plan.notes).toEqual(['pod web-2 runs on ip-192-168-2-20, which --nodes leaves out: not captured']);
  });

  it('skips endpoints without a running pod and hostNetwork pods, with a note each', () => {
    const hostPod = pod('web-host', 'ip-192-168-3-30', '192.168.3.30', { hostNetwork: true });
    const plan = planRemoteCapture({ service: ipMode, endpointSlices: [slice([['web-1', '192.168.1.101'], ['gone', '192.168.9.9'], ['web-host', '192.168.3.30']])], pods: [...pods, hostPod], nodes });
    expect(plan.pods.map((p) => p.name)).toEqual(['web-1']);
    expect(plan.nodes.map((n) => n.name)).toEqual(['ip-192-168-1-10', 'ip-192-168-3-30']);
    expect(plan.notes[0]).toMatch(/endpoint pod gone is not running/);
    expect(plan.notes[1]).toMatch(/web-host uses the node's network/);
  });

  it('says which nodes it leaves out when externalTrafficPolicy is Cluster', () => {
    const instance = nlbService({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'external', 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'instance' }, { externalTrafficPolicy: 'Local', healthCheckNodePort: 32100 });
    const local = planRemoteCapture({ service: instance, endpointSlices: [slice([['web-1', '192.168.1.101']])], pods, nodes });
    expect(local.notes).toEqual([]);
    expect(local.healthCheckPorts).toEqual([32100]);
    expect(local.filter).toContain('port 32100');
    const cluster = planRemoteCapture({ service: { ...instance, spec: { ...instance.spec, externalTrafficPolicy: 'Cluster' } }, endpointSlices: [slice([['web-1', '192.168.1.101']])], pods, nodes });
    expect(cluster.notes[0]).toMatch(/any node may receive the traffic/);
  });

  it('refuses a Service without endpoints, without TCP ports, or --nodes naming unknown nodes (one line each)', () => {
    expect(() => planRemoteCapture({ service: ipMode, endpointSlices: [], pods, nodes })).toThrow(/Service shop\/web has no running endpoint pods: nothing to capture/);
    const udp = { ...ipMode, spec: { ...ipMode.spec, ports: [{ port: 53, protocol: 'UDP' }] } };
    expect(() => planRemoteCapture({ service: udp, endpointSlices: [], pods, nodes })).toThrow(/has no TCP ports/);
    expect(() => planRemoteCapture({ service: ipMode, endpointSlices: [slice([['web-1', '192.168.1.101']])], pods, nodes, onlyNodes: ['nope'] })).toThrow(/--nodes names nope, which the cluster does not have/);
  });

  it('names the front door of every Service kind', () => {
    const kinds = [
      nlbService({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'external' }),
      nlbService({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' }),
      nlbService({}),
      { ...nlbService({}), spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] } },
      { ...nlbService({}), spec: { ports: [{ port: 80 }] } },
    ];
    expect(kinds.map((s) => describeService(s, []).frontDoor)).toEqual(['nlb-instance', 'nlb-instance', 'load-balancer', 'node-port', 'cluster-ip']);
  });

  it('adds ARP for load-balancer IPs (MetalLB L2 answers them)', () => {
    const metallb = { ...nlbService({}), status: { loadBalancer: { ingress: [{ ip: '172.18.255.200' }] } } };
    expect(captureFilter(describeService(metallb, []))).toBe('(tcp and (port 80 or port 31080)) or icmp or (arp and host 172.18.255.200)');
  });
});

describe('inferredHops', () => {
  const report = (seen: Record<string, number>) => ({ points: [], flows: [], summary: { flows: 0, clientIpAtBackend: {}, backends: {}, sourceSeenByBackend: seen } }) as ContractReport;

  it('says the NLB hop of ip targets is inferred from the source the pod saw, and what each source is', () => {
    const svc = nlbService({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'external', 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip' });
    const plan = planRemoteCapture({ service: svc, endpointSlices: [slice([['web-1', '192.168.1.101']])], pods, nodes });
    expect(inferredHops(plan.service, plan.addresses, report({ '192.168.7.42': 9, '192.168.2.20': 1 }))).toEqual([
      'client: no capture point outside the cluster; the client is the source address seen at the first captured point.',
      "NLB hop inferred from the source address seen at the pod: ip targets send straight to the pod IP, from the NLB's private address unless preserve_client_ip is on; the NLB's decision and its DNAT/SNAT are not captured.",
      "backends saw source 192.168.7.42 is no node or pod of the cluster: with ip targets that is the NLB's private address (the client IP only with preserve_client_ip) (9 flows).",
      "backends saw source 192.168.2.20 is node ip-192-168-2-20's address: SNAT by kube-proxy on the way in (externalTrafficPolicy Cluster), the client IP is lost at the peer (1 flow).",
    ]);
  });

  it('instance targets: the NLB hop is inferred from the source seen at the node', () => {
    const svc = nlbService({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'external', 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'instance', 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' });
    const plan = planRemoteCapture({ service: svc, endpointSlices: [slice([['web-1', '192.168.1.101']])], pods, nodes });
    const notes = inferredHops(plan.service, plan.addresses, report({ '203.0.113.9': 3 }));
    expect(notes[1]).toMatch(/^NLB hop inferred from the source address seen at the node/);
    expect(notes[2]).toMatch(/PROXY v2 is on/);
    expect(notes[3]).toBe('backends saw source 203.0.113.9 is no node or pod of the cluster: the client\'s own address, kept all the way (3 flows).');
  });
});
