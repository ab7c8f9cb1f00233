import { describe, expect, it } from 'vitest';
import { probability, renderNodeRules } from '../../../cluster/kubeproxy/rules.js';
import type { Endpoints, Service } from '../../../cluster/lab/state.js';
import { svcChain, svlChain } from '../../../cluster/kubeproxy/hash.js';

function svc(name: string, spec: Service['spec'], lbIp?: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { selector: { app: 'echo' }, ...spec },
    status: { loadBalancer: lbIp ? { ingress: [{ ip: lbIp }] } : {} },
  };
}

function eps(name: string, addrs: [string, string][], port = 8080): Endpoints {
  return {
    metadata: { name, namespace: 'default' },
    subsets: addrs.length ? [{ addresses: addrs.map(([ip, nodeName]) => ({ ip, nodeName })), ports: [{ port, protocol: 'TCP' }] }] : undefined,
  };
}

const services: Service[] = [
  svc('echo-cluster', { type: 'LoadBalancer', clusterIP: '10.96.10.10', externalTrafficPolicy: 'Cluster', ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] }, '172.18.255.200'),
  svc('echo-local', { type: 'LoadBalancer', clusterIP: '10.96.10.11', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, ports: [{ port: 80, targetPort: 8080, nodePort: 30081, protocol: 'TCP' }] }, '172.18.255.201'),
  svc('echo-none', { type: 'NodePort', clusterIP: '10.96.10.12', ports: [{ port: 80, targetPort: 8080, nodePort: 30082, protocol: 'TCP' }] }),
  svc('echo-sticky', { type: 'ClusterIP', clusterIP: '10.96.10.13', sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] }),
];
const two: [string, string][] = [['10.244.1.2', 'worker'], ['10.244.2.2', 'worker2']];
const endpoints: Endpoints[] = [
  eps('echo-cluster', [...two, ['10.244.2.3', 'worker2']]),
  eps('echo-local', two),
  eps('echo-none', []),
  { metadata: { name: 'echo-sticky', namespace: 'default' }, subsets: [{ addresses: two.map(([ip, nodeName]) => ({ ip, nodeName })), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }] },
];

describe('kube-proxy iptables rules', () => {
  it('renders a node like kube-proxy iptables mode (snapshot)', () => {
    const worker = renderNodeRules({ node: { name: 'worker', ip: '172.18.0.3' }, services, endpoints });
    expect(worker.text).toMatchSnapshot();
    expect(worker.localEndpoints).toEqual({ 'default/echo-local': 1 });
  });

  it('balances with the statistic ladder 1/n, 1/(n-1), …, last rule unconditional', () => {
    const { text } = renderNodeRules({ node: { name: 'worker', ip: '172.18.0.3' }, services, endpoints });
    const chain = svcChain('default/echo-cluster', 'tcp');
    const lines = text.split('\n').filter((l) => l.startsWith(`-A ${chain} `) && l.includes('KUBE-SEP-'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(`--probability ${probability(3)}`);
    expect(lines[1]).toContain('--probability 0.5000000000');
    expect(lines[2]).not.toContain('statistic');
    expect(probability(3)).toBe('0.3333333333');
  });

  it('with externalTrafficPolicy Local: only local endpoints in KUBE-SVL, no masquerade for outside clients, DROP where none is local', () => {
    const cp = renderNodeRules({ node: { name: 'control-plane', ip: '172.18.0.2' }, services, endpoints });
    const svl = svlChain('default/echo-local', 'tcp');
    expect(cp.text).not.toContain(`:${svl} `);
    expect(cp.text).toContain('-A KUBE-EXTERNAL-SERVICES -m comment --comment "default/echo-local has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30081 -j DROP');
    expect(cp.localEndpoints).toEqual({ 'default/echo-local': 0 });
    const worker2 = renderNodeRules({ node: { name: 'worker2', ip: '172.18.0.4' }, services, endpoints });
    expect(worker2.text.split('\n').filter((l) => l.startsWith(`-A ${svl} `))).toHaveLength(1);
  });

  it('REJECTs a Service without endpoints in the filter table and writes no nat chains for it', () => {
    const { text } = renderNodeRules({ node: { name: 'worker', ip: '172.18.0.3' }, services, endpoints });
    expect(text).toContain('-A KUBE-SERVICES -m comment --comment "default/echo-none has no endpoints" -m tcp -p tcp -d 10.96.10.12 --dport 80 -j REJECT');
    expect(text).not.toContain(svcChain('default/echo-none', 'tcp'));
  });
});
