import { describe, expect, it } from 'vitest';
import type { Endpoints, LabNode, Service } from '../../../cluster/lab/state.js';
import { allocateVips, DEFAULT_POOL } from '../../../cluster/metallb/allocate.js';
import { electLeader } from '../../../cluster/metallb/election.js';
import { garpFrame } from '../../../cluster/metallb/garp.js';
import { nodeObject } from '../../../cluster/netns/node.js';
import { planTopology } from '../../../cluster/netns/plan.js';

const NOW = '2026-01-01T00:00:00.000Z';
const nodes: LabNode[] = planTopology({ lab: 'L', nodes: 4, zones: ['a', 'b'] }).nodes.map((n) => ({ ...n, stopped: false, object: nodeObject(n, NOW) }));
const lb = (name: string, extra: Partial<NonNullable<Service['spec']>> = {}, ip?: string): Service => ({
  metadata: { name, namespace: 'default' },
  spec: { type: 'LoadBalancer', ports: [{ port: 80 }], ...extra },
  status: { loadBalancer: ip ? { ingress: [{ ip }] } : {} },
});
const ep = (nodeNames: string[]): Endpoints => ({ metadata: { name: 's' }, subsets: [{ addresses: nodeNames.map((n, i) => ({ ip: `10.244.9.${i + 2}`, nodeName: n })), ports: [{ port: 80 }] }] });

describe('MetalLB allocation', () => {
  it('hands out the pool in order, keeps existing addresses, honours requests, skips NLB Services', () => {
    const vips = allocateVips(
      [lb('keep', {}, '172.18.255.205'), lb('new'), lb('asked', { loadBalancerIP: '172.18.255.240' }), lb('nlb', { loadBalancerClass: 'service.k8s.aws/nlb' }), lb('outside', { loadBalancerIP: '10.0.0.1' })],
      DEFAULT_POOL,
    );
    expect(vips).toEqual({ 'default/keep': '172.18.255.205', 'default/new': '172.18.255.200', 'default/asked': '172.18.255.240', 'default/outside': null });
  });
});

describe('MetalLB L2 leader election', () => {
  it('is stable, skips excluded and stopped nodes, and needs a ready endpoint somewhere', () => {
    const svc = lb('s');
    const leader = electLeader('172.18.255.200', svc, nodes, ep(['worker']));
    expect(leader).not.toBe('control-plane');
    expect(electLeader('172.18.255.200', svc, nodes, ep(['worker']))).toBe(leader);
    const others = nodes.map((n) => (n.name === leader ? { ...n, stopped: true } : n));
    const next = electLeader('172.18.255.200', svc, others, ep(['worker']));
    expect(next).not.toBe(leader);
    expect(next).not.toBeNull();
    expect(electLeader('172.18.255.200', svc, nodes, ep([]))).toBeNull();
  });

  it('with externalTrafficPolicy Local, only nodes with a ready local endpoint may announce', () => {
    const svc = lb('s', { externalTrafficPolicy: 'Local' });
    for (const ip of ['172.18.255.200', '172.18.255.201', '172.18.255.202', '172.18.255.203']) {
      expect(electLeader(ip, svc, nodes, ep(['worker3']))).toBe('worker3');
    }
    const w3stopped = nodes.map((n) => (n.name === 'worker3' ? { ...n, stopped: true } : n));
    expect(electLeader('172.18.255.200', svc, w3stopped, ep(['worker3']))).toBeNull();
  });
});

describe('gratuitous ARP frame', () => {
  it('is a broadcast ARP request with sender = target = VIP', () => {
    const f = garpFrame('02:00:00:00:00:01', '172.18.255.200');
    expect(f.subarray(0, 6).toString('hex')).toBe('ffffffffffff');
    expect(f.readUInt16BE(12)).toBe(0x0806);
    expect(f.readUInt16BE(20)).toBe(1);
    expect(f.subarray(22, 28).toString('hex')).toBe('020000000001');
    expect([...f.subarray(28, 32)]).toEqual([172, 18, 255, 200]);
    expect([...f.subarray(38, 42)]).toEqual([172, 18, 255, 200]);
    expect(f.subarray(32, 38).toString('hex')).toBe('000000000000');
  });
});
