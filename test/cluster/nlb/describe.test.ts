import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nlbNodes, nlbStatusLines, nlbSummaries, type NlbStateView } from '../../../cluster/nlb/describe.js';
import { planLoadBalancer } from '../../../cluster/nlb/plan/build.js';
import type { LoadBalancerPlan } from '../../../cluster/nlb/plan/types.js';
import { NODES, PODS, service } from './plan/fixtures.js';

const A = 'service.beta.kubernetes.io/';
const dir = mkdtempSync(path.join(tmpdir(), 'netlab-nlb-describe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function state(): NlbStateView {
  const svc = service({ [`${A}aws-load-balancer-type`]: 'external', [`${A}aws-load-balancer-scheme`]: 'internet-facing' }, { externalTrafficPolicy: 'Local', healthCheckNodePort: 32001 });
  const plan = (planLoadBalancer({ clusterName: 'demo', region: 'lab-1', timeScale: 20, service: svc, nodes: NODES, pods: PODS }) as { plan: LoadBalancerPlan }).plan;
  return {
    name: 'demo',
    objects: { services: [svc] },
    extensions: {
      nlb: {
        zones: ['lab-1a', 'lab-1b'],
        addresses: { [plan.name]: { 'lab-1a': { privateIp: '172.18.1.10', publicIp: '203.0.113.10' }, 'lab-1b': { privateIp: '172.18.1.11', publicIp: '203.0.113.11' } } },
        agents: {}, configHashes: {},
        plans: { 'default/svc-nlb': plan },
        events: { 'default/svc-nlb': [], 'default/broken': [{ type: 'Warning', reason: 'FailedDeployModel', message: 'Failed deploy model due to ValidationError: Health check timeout 1 must be from 2 to 120 seconds' }] },
      },
    },
  };
}

describe('netlab status: the NLB section', () => {
  it('shows each load balancer, its scaled timers, its targets, and why a Service has none', async () => {
    const lines = nlbStatusLines(await nlbSummaries(state(), dir), 20);
    expect(lines.join('\n')).toMatchInlineSnapshot(`
      "
      NLB load balancers (timers divided by --time-scale 20):
        default/broken: no load balancer — FailedDeployModel: Failed deploy model due to ValidationError: Health check timeout 1 must be from 2 to 120 seconds
        default/svc-nlb: k8s-default-svcnlb-cf59188180-3feee180885cff35.elb.lab-1.amazonaws.com (internet-facing, cross-zone off; lab-1a 203.0.113.10, lab-1b 203.0.113.11)
          k8s-default-svcnlb-0acebf5712 TCP:30080 instance targets, client IP preserved
          health check HTTP 32001 /healthz (200-399) every 10s (0.5s with --time-scale 20), timeout 6s (0.3s with --time-scale 20), healthy/unhealthy after 2/2; deregistration delay 300s (15s with --time-scale 20)
            i-012d2b41d132ffd48:30080 lab-1a worker initial (Elb.RegistrationInProgress)
            i-ef717652b374f8e13:30080 lab-1b worker2 initial (Elb.RegistrationInProgress)"
    `);
  });

  it('lists the NLB nodes as capture points with their load balancers\' addresses', () => {
    const s = state();
    const lb = (s.extensions.nlb as { plans: Record<string, LoadBalancerPlan> }).plans['default/svc-nlb']!.name;
    expect(nlbNodes(s)).toEqual([
      { zone: 'lab-1a', netns: 'demo-nlb-a', ip: '172.18.1.2', mac: '02:4e:4c:42:00:01', loadBalancers: { [lb]: { privateIp: '172.18.1.10', publicIp: '203.0.113.10' } } },
      { zone: 'lab-1b', netns: 'demo-nlb-b', ip: '172.18.1.3', mac: '02:4e:4c:42:00:02', loadBalancers: { [lb]: { privateIp: '172.18.1.11', publicIp: '203.0.113.11' } } },
    ]);
  });
});
