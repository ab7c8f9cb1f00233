import { describe, expect, it } from 'vitest';
import { kindAddressPlan, parseIpv4Subnet } from '../../../cluster/kind/network.js';
import { newKindState } from '../../../cluster/kind/provision.js';
import { kindStatusLines, kindUpSummary } from '../../../cluster/kind/summary.js';

describe('kind lab summaries', () => {
  const state = newKindState({ name: 'demo', workers: 2, zones: ['a', 'b'], timeScale: 10 });
  Object.assign(state, {
    phase: 'ready',
    createdAt: '2026-11-27T12:00:00.000Z',
    kubeconfig: '/root/.netlab/kind/demo/kubeconfig',
    network: { name: 'kind', subnet: '172.19.0.0/16', ipv6Subnets: ['fc00:f853:ccd:e793::/64'] },
    addresses: kindAddressPlan(parseIpv4Subnet('172.19.0.0/16')!, ['a', 'b']),
    metallb: { version: 'v0.16.1', pool: { start: '172.19.255.200', end: '172.19.255.250' } },
    image: { tag: 'netlab:0.1.0-0123456789ab', root: '/opt/netlab' },
    resources: { cluster: true, containers: ['demo-nlb', 'demo-client'] },
  });

  it('status says what the record holds and how to reach the cluster', () => {
    expect(kindStatusLines(state)).toMatchInlineSnapshot(`
      [
        "kind lab demo (ready, created 2026-11-27T12:00:00.000Z): cluster demo, 3 nodes: demo-control-plane, demo-worker, demo-worker2",
        "  network 172.19.0.0/16; MetalLB pool 172.19.255.200-172.19.255.250; NLB addresses 172.19.255.97-172.19.255.126; client 172.19.255.190 (source 198.51.100.10 towards the NLB)",
        "  containers: demo-nlb, demo-client; image netlab:0.1.0-0123456789ab",
        "  kubectl --kubeconfig /root/.netlab/kind/demo/kubeconfig get pods -A -o wide",
      ]
    `);
  });

  it('up reports an existing lab as already up', () => {
    expect(kindUpSummary(state, Date.parse('2026-11-27T13:00:00Z'))).toBe('kind lab demo is already up (created 2026-11-27T12:00:00.000Z)');
    expect(kindUpSummary(state, Date.parse('2026-11-27T11:59:00Z')).split('\n')[1]).toBe('  MetalLB v0.16.1 pool 172.19.255.200-172.19.255.250; NLB emulator 172.19.255.191 (zones a=172.19.255.192 b=172.19.255.193, load balancers 172.19.255.97-172.19.255.126); client 198.51.100.10 (docker 172.19.255.190)');
  });
});
