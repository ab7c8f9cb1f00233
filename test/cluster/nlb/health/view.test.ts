import { describe, expect, it } from 'vitest';
import type { TargetStatus, ZoneStatus } from '../../../../cluster/nlb/agent/files.js';
import { dnsAddresses } from '../../../../cluster/nlb/health/view.js';
import { describeTargetHealth, readinessGateConditions, targetViews } from '../../../../cluster/nlb/health/view.js';
import { planLoadBalancer, readinessGateType } from '../../../../cluster/nlb/plan/build.js';
import type { LoadBalancerPlan } from '../../../../cluster/nlb/plan/types.js';
import { NODES, PODS, service } from '../plan/fixtures.js';

const A = 'service.beta.kubernetes.io/';

function planOf(annotations: Record<string, string>): LoadBalancerPlan {
  const r = planLoadBalancer({ clusterName: 'netlab', region: 'lab-1', timeScale: 1, service: service({ [`${A}aws-load-balancer-type`]: 'external', ...annotations }), nodes: NODES, pods: PODS });
  if (!r.handled || !r.plan) throw new Error('no plan');
  return r.plan;
}

function report(plan: LoadBalancerPlan, ip: string, state: TargetStatus['state'], reason: string | null, description: string | null): TargetStatus {
  const tg = plan.targetGroups[0]!;
  const t = tg.targets.find((x) => x.ip === ip)!;
  return { loadBalancer: plan.name, targetGroup: tg.name, id: t.id, ip, port: t.port, healthCheckPort: t.healthCheckPort, availabilityZone: t.availabilityZone, node: t.node, pod: t.pod, state, reason, description, connections: null, drainUntil: null };
}

function zone(z: string, targets: TargetStatus[]): ZoneStatus {
  return { zone: z, pid: 1, updatedAt: '2026-01-01T00:00:00.000Z', targets, listeners: [], errors: [] };
}

describe('describe-target-health', () => {
  it('prints AWS\'s shape; the target\'s own zone speaks for it; unreported targets are registering', () => {
    const plan = planOf({ [`${A}aws-load-balancer-attributes`]: 'load_balancing.cross_zone.enabled=true' });
    const statuses = [
      zone('lab-1a', [report(plan, '172.18.0.3', 'healthy', null, null), report(plan, '172.18.0.4', 'unhealthy', 'Target.FailedHealthChecks', 'Health checks failed')]),
      zone('lab-1b', []),
    ];
    const out = describeTargetHealth(targetViews(plan, statuses));
    expect(out).toEqual({
      TargetHealthDescriptions: [
        { Target: { Id: plan.targetGroups[0]!.targets[0]!.id, Port: 30080, AvailabilityZone: 'lab-1b' }, HealthCheckPort: '30080', TargetHealth: { State: 'unhealthy', Reason: 'Target.FailedHealthChecks', Description: 'Health checks failed' } },
        { Target: { Id: plan.targetGroups[0]!.targets[1]!.id, Port: 30080, AvailabilityZone: 'lab-1a' }, HealthCheckPort: '30080', TargetHealth: { State: 'healthy' } },
      ],
    });
    const fresh = describeTargetHealth(targetViews(plan, []));
    expect(fresh.TargetHealthDescriptions.map((d) => d.TargetHealth)).toEqual([
      { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' },
      { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' },
    ]);
  });

  it('a deregistered target still draining is listed as draining', () => {
    const plan = planOf({ [`${A}aws-load-balancer-nlb-target-type`]: 'ip' });
    const gone = { ...report(plan, '10.244.1.5', 'draining', 'Target.DeregistrationInProgress', 'Target deregistration is in progress'), ip: '10.244.1.99', id: '10.244.1.99' };
    const views = targetViews(plan, [zone('lab-1a', [gone])]);
    expect(views.map((v) => [v.id, v.state])).toEqual([['10.244.1.5', 'initial'], ['10.244.2.7', 'initial'], ['10.244.1.99', 'draining']]);
  });

  it('readiness-gate conditions: False with the target\'s reason until healthy, then True', () => {
    const plan = planOf({ [`${A}aws-load-balancer-nlb-target-type`]: 'ip' });
    const gate = readinessGateType(plan.targetGroups[0]!.name);
    const pod = { ...PODS[0]!, spec: { ...PODS[0]!.spec!, readinessGates: [{ conditionType: gate }] } };
    const initial = targetViews(plan, [zone('lab-1a', [report(plan, '10.244.1.5', 'initial', 'Elb.InitialHealthChecking', 'Initial health checks in progress')])]);
    expect(readinessGateConditions(pod, [plan], new Map([[plan.name, initial]]))).toEqual([{ type: gate, status: 'False', reason: 'Elb.InitialHealthChecking', message: 'Initial health checks in progress' }]);
    const healthy = targetViews(plan, [zone('lab-1a', [report(plan, '10.244.1.5', 'healthy', null, null)])]);
    expect(readinessGateConditions(pod, [plan], new Map([[plan.name, healthy]]))).toEqual([{ type: gate, status: 'True' }]);
  });

  it('DNS failover: only zones with a healthy target, or every zone when none has one', () => {
    const plan = planOf({ [`${A}aws-load-balancer-scheme`]: 'internet-facing' });
    const book = { [plan.name]: { 'lab-1a': { privateIp: '172.18.1.10', publicIp: '203.0.113.10' }, 'lab-1b': { privateIp: '172.18.1.11', publicIp: '203.0.113.11' } } };
    expect(dnsAddresses(plan, book, [zone('lab-1a', [report(plan, '172.18.0.3', 'healthy', null, null)]), zone('lab-1b', [])])).toEqual(['203.0.113.10']);
    expect(dnsAddresses(plan, book, [])).toEqual(['203.0.113.10', '203.0.113.11']);
  });
});
