import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyNodeRules } from '../../../cluster/kubeproxy/apply.js';
import { renderNodeRules } from '../../../cluster/kubeproxy/rules.js';
import { run } from '../../../cluster/exec/exec.js';
import type { Endpoints, Service } from '../../../cluster/lab/state.js';

const ns = `t${randomBytes(2).toString('hex')}-ipt`;

describe('kube-proxy rules in a real namespace', () => {
  beforeAll(async () => {
    await run('ip', ['netns', 'add', ns]);
  });
  afterAll(async () => {
    await run('ip', ['netns', 'del', ns], { allowFailure: true });
  });

  it('iptables-restore accepts the text and iptables-save shows every chain', async () => {
    const services: Service[] = [
      {
        metadata: { name: 'echo', namespace: 'default' },
        spec: { type: 'LoadBalancer', clusterIP: '10.96.0.20', externalTrafficPolicy: 'Local', healthCheckNodePort: 32100, sessionAffinity: 'ClientIP', loadBalancerSourceRanges: ['198.51.100.0/24'], ports: [{ port: 80, nodePort: 30100, protocol: 'TCP' }] },
        status: { loadBalancer: { ingress: [{ ip: '172.18.255.210' }] } },
      },
    ];
    const endpoints: Endpoints[] = [{ metadata: { name: 'echo', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.1.2', nodeName: 'worker' }, { ip: '10.244.2.2', nodeName: 'worker2' }], ports: [{ port: 8080 }] }] }];
    const { text } = renderNodeRules({ node: { name: 'worker', ip: '172.18.0.3' }, services, endpoints });
    await applyNodeRules(ns, text);
    const saved = (await run('iptables-save', [], { netns: ns })).stdout;
    const declared = text.split('\n').filter((l) => l.startsWith(':KUBE-')).map((l) => l.slice(1).split(' ')[0]);
    for (const chain of declared) expect(saved).toContain(`:${chain} `);
    expect(saved).toMatch(/-A KUBE-FW-\S+ -s 198\.51\.100\.0\/24 .*-j KUBE-EXT-/);
    expect(saved).toContain('--to-destination 10.244.1.2:8080');
    // Applying the same text twice leaves the same tables (whole-table restore, no duplicates).
    await applyNodeRules(ns, text);
    const again = (await run('iptables-save', [], { netns: ns })).stdout;
    const rules = (s: string) => s.split('\n').filter((l) => l.startsWith('-A')).sort();
    expect(rules(again)).toEqual(rules(saved));
  });
});
