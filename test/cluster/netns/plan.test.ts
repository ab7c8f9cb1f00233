import { describe, expect, it } from 'vitest';
import { planPodNetwork, planTopology } from '../../../cluster/netns/plan.js';

describe('netns topology plan', () => {
  it('follows docs/lab-topology.md (snapshot)', () => {
    expect(planTopology({ lab: 'netlab', nodes: 3, zones: ['a', 'b'] })).toMatchSnapshot();
  });

  it('names, addresses and zones per node', () => {
    const plan = planTopology({ lab: 'L', nodes: 4, zones: ['a', 'b'] });
    expect(plan.nodes.map((n) => [n.name, n.netns, n.ip, n.podCIDR, n.zone])).toEqual([
      ['control-plane', 'L-control-plane', '172.18.0.2', '10.244.0.0/24', null],
      ['worker', 'L-worker', '172.18.0.3', '10.244.1.0/24', 'lab-1a'],
      ['worker2', 'L-worker2', '172.18.0.4', '10.244.2.0/24', 'lab-1b'],
      ['worker3', 'L-worker3', '172.18.0.5', '10.244.3.0/24', 'lab-1a'],
    ]);
    expect(plan.nodes[0]!.labels).toHaveProperty('node.kubernetes.io/exclude-from-external-load-balancers');
    expect(plan.nodes[0]!.taints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    // kindnetd routes: each node reaches the others' pod CIDRs through their eth0.
    const worker = plan.stages[2]!.find((b) => b.netns === 'L-worker')!;
    expect(worker.lines).toContain('route add 10.244.2.0/24 via 172.18.0.4 dev eth0');
    expect(plan.namespaces.every((n) => n.startsWith('L-'))).toBe(true);
  });

  it('a one-node lab keeps the control plane schedulable, as kind does', () => {
    const plan = planTopology({ lab: 'L', nodes: 1, zones: ['a'] });
    expect(plan.nodes[0]!.taints).toEqual([]);
  });

  it('wires a pod like kindnet ptp (snapshot)', () => {
    const plan = planTopology({ lab: 'netlab', nodes: 3, zones: ['a', 'b'] });
    expect(planPodNetwork('netlab', plan.nodes[1]!, 'default', 'deploy-echo-55456fc798-2w65p', '10.244.1.2')).toMatchSnapshot();
  });
});
