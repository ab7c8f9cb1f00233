import { describe, expect, it } from 'vitest';
import { isNlbService, planLoadBalancer, readinessGatesForNewPod } from '../../../../cluster/nlb/plan/build.js';
import type { LoadBalancerPlan, PlanInput } from '../../../../cluster/nlb/plan/types.js';
import { NODES, PODS, pod, service } from './fixtures.js';

const A = 'service.beta.kubernetes.io/';

function input(svc: PlanInput['service'], extra: Partial<PlanInput> = {}): PlanInput {
  return { clusterName: 'netlab', region: 'lab-1', timeScale: 1, service: svc, nodes: NODES, pods: PODS, ...extra };
}

function planOf(svc: PlanInput['service'], extra: Partial<PlanInput> = {}): LoadBalancerPlan {
  const r = planLoadBalancer(input(svc, extra));
  if (!r.handled || r.plan === null) throw new Error(`no plan: ${JSON.stringify(r)}`);
  return r.plan;
}

describe('which Services the controller handles', () => {
  it('takes loadBalancerClass service.k8s.aws/nlb, type external and legacy nlb-ip, and nothing else', () => {
    expect(isNlbService(service({}, { loadBalancerClass: 'service.k8s.aws/nlb' }))).toBe(true);
    expect(isNlbService(service({ [`${A}aws-load-balancer-type`]: 'external' }))).toBe(true);
    expect(isNlbService(service({ [`${A}aws-load-balancer-type`]: 'nlb-ip' }))).toBe(true);
    expect(isNlbService(service({}))).toBe(false);
    expect(isNlbService(service({ [`${A}aws-load-balancer-type`]: 'nlb' }))).toBe(false);
    expect(isNlbService(service({ [`${A}aws-load-balancer-type`]: 'external' }, { loadBalancerClass: 'metallb' }))).toBe(false);
    expect(isNlbService(service({ [`${A}aws-load-balancer-type`]: 'external' }, { type: 'NodePort' }))).toBe(false);
    expect(planLoadBalancer(input(service({})))).toEqual({ handled: false });
  });
});

describe('planLoadBalancer', () => {
  it('instance targets, eTP Cluster: worker nodes on the NodePort, TCP traffic-port 10/10 3/3, client IP preserved', () => {
    const plan = planOf(service({ [`${A}aws-load-balancer-type`]: 'external', [`${A}aws-load-balancer-scheme`]: 'internet-facing' }));
    expect(plan).toMatchSnapshot();
    expect(plan.targetGroups[0]!.targets.map((t) => t.node).sort()).toEqual(['worker', 'worker2']);
    expect(plan.targetGroups[0]!.targets.every((t) => t.port === 30080 && t.healthCheckPort === 30080)).toBe(true);
  });

  it('instance targets, eTP Local: HTTP /healthz on healthCheckNodePort, 10/6 2/2', () => {
    const plan = planOf(service({ [`${A}aws-load-balancer-type`]: 'external' }, { externalTrafficPolicy: 'Local', healthCheckNodePort: 32001 }));
    expect(plan.targetGroups[0]!.healthCheck).toMatchInlineSnapshot(`
      {
        "healthyThreshold": 2,
        "interval": {
          "effectiveMs": 10000,
          "seconds": 10,
        },
        "path": "/healthz",
        "port": 32001,
        "protocol": "HTTP",
        "successCodes": "200-399",
        "timeout": {
          "effectiveMs": 6000,
          "seconds": 6,
        },
        "unhealthyThreshold": 2,
      }
    `);
    expect(plan.targetGroups[0]!.targets.map((t) => t.healthCheckPort)).toEqual([32001, 32001]);
    expect(plan.scheme).toBe('internal');
  });

  it('ip targets: ready pod IPs on the target port, preserve_client_ip off, named targetPort resolved', () => {
    const plan = planOf(service({ [`${A}aws-load-balancer-type`]: 'external', [`${A}aws-load-balancer-nlb-target-type`]: 'ip' }, {
      ports: [{ name: 'http', port: 80, targetPort: 'http' as unknown as number, nodePort: 30080, protocol: 'TCP' }],
    }));
    expect(plan).toMatchSnapshot();
    expect(plan.targetGroups[0]!.attributes.preserveClientIp).toBe(false);
  });

  it('legacy nlb-ip means ip targets', () => {
    expect(planOf(service({ [`${A}aws-load-balancer-type`]: 'nlb-ip' })).targetGroups[0]!.targetType).toBe('ip');
  });

  it('PPv2, attributes, cross-zone, health-check annotations and the time scale', () => {
    const plan = planOf(service({
      [`${A}aws-load-balancer-type`]: 'external',
      [`${A}aws-load-balancer-nlb-target-type`]: 'ip',
      [`${A}aws-load-balancer-proxy-protocol`]: '*',
      [`${A}aws-load-balancer-target-group-attributes`]: 'deregistration_delay.timeout_seconds=60, deregistration_delay.connection_termination.enabled=true,stickiness.enabled=true,stickiness.type=source_ip',
      [`${A}aws-load-balancer-attributes`]: 'load_balancing.cross_zone.enabled=true',
      [`${A}aws-load-balancer-healthcheck-protocol`]: 'http',
      [`${A}aws-load-balancer-healthcheck-path`]: '/ready',
      [`${A}aws-load-balancer-healthcheck-interval`]: '5',
      [`${A}aws-load-balancer-healthcheck-timeout`]: '2',
      [`${A}aws-load-balancer-healthcheck-healthy-threshold`]: '2',
      [`${A}aws-load-balancer-healthcheck-success-codes`]: '200,204',
    }), { timeScale: 10 });
    expect(plan.crossZone).toBe(true);
    expect(plan.targetGroups[0]!.attributes).toMatchInlineSnapshot(`
      {
        "connectionTermination": true,
        "deregistrationDelay": {
          "effectiveMs": 6000,
          "seconds": 60,
        },
        "preserveClientIp": false,
        "proxyProtocolV2": true,
        "stickiness": {
          "enabled": true,
          "type": "source_ip",
        },
      }
    `);
    expect(plan.targetGroups[0]!.healthCheck).toMatchObject({ protocol: 'HTTP', path: '/ready', successCodes: '200,204', interval: { seconds: 5, effectiveMs: 500 }, timeout: { seconds: 2, effectiveMs: 200 }, healthyThreshold: 2, unhealthyThreshold: 3 });
  });

  it('the deprecated cross-zone annotation still works; cross-zone defaults to off', () => {
    expect(planOf(service({ [`${A}aws-load-balancer-type`]: 'external', [`${A}aws-load-balancer-cross-zone-load-balancing-enabled`]: 'true' })).crossZone).toBe(true);
    expect(planOf(service({ [`${A}aws-load-balancer-type`]: 'external' })).crossZone).toBe(false);
  });

  it('target-group names follow k8s-<ns8>-<svc8>-<hash10> and change with the settings that force replacement', () => {
    const base = planOf(service({ [`${A}aws-load-balancer-type`]: 'external' }));
    const other = planOf(service({ [`${A}aws-load-balancer-type`]: 'external', [`${A}aws-load-balancer-healthcheck-interval`]: '30' }));
    expect(base.targetGroups[0]!.name).toMatch(/^k8s-default-svcnlb-[0-9a-f]{10}$/);
    expect(other.targetGroups[0]!.name).not.toBe(base.targetGroups[0]!.name);
    expect(base.name).toMatch(/^k8s-default-svcnlb-[0-9a-f]{10}$/);
    expect(base.dnsName).toMatch(/^k8s-default-svcnlb-[0-9a-f]{10}-[0-9a-f]{16}\.elb\.lab-1\.amazonaws\.com$/);
  });

  it('a pod whose containers are ready but whose readiness gate is pending is still a target; an unready or terminating one is not', () => {
    const pods = [
      pod('gated', '10.244.1.8', 'worker', { ready: false, containersReady: true }),
      pod('starting', '10.244.1.9', 'worker', { ready: false }),
      { ...pod('leaving', '10.244.2.9', 'worker2'), metadata: { ...pod('leaving', '10.244.2.9', 'worker2').metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } },
    ];
    const plan = planOf(service({ [`${A}aws-load-balancer-type`]: 'nlb-ip' }), { pods });
    expect(plan.targetGroups[0]!.targets.map((t) => t.pod)).toEqual(['default/gated']);
  });

  it('bad annotations become Warning events naming the annotation, the value and what is allowed', () => {
    const r = planLoadBalancer(input(service({
      [`${A}aws-load-balancer-type`]: 'external',
      [`${A}aws-load-balancer-nlb-target-type`]: 'pod',
      [`${A}aws-load-balancer-proxy-protocol`]: 'v2',
      [`${A}aws-load-balancer-scheme`]: 'public',
      [`${A}aws-load-balancer-healthcheck-interval`]: 'ten',
      [`${A}aws-load-balancer-healthcheck-timeout`]: '1',
      [`${A}aws-load-balancer-target-group-attributes`]: 'preserve_client_ip.enabled=maybe,deregistration_delay.timeout_seconds=9999,foo.bar=1,junk',
      [`${A}aws-load-balancer-attributes`]: 'load_balancing.cross_zone.enabled=yes',
    })));
    expect(r.handled).toBe(true);
    if (!r.handled) return;
    expect(r.plan).toBeNull();
    expect(r.events).toMatchSnapshot();
    expect(r.events.every((e) => e.type === 'Warning' && !e.message.includes('\n'))).toBe(true);
  });
});

describe('readinessGatesForNewPod', () => {
  it('injects target-health gates for ip target groups in opted-in namespaces only', () => {
    const svc = service({ [`${A}aws-load-balancer-type`]: 'external', [`${A}aws-load-balancer-nlb-target-type`]: 'ip' });
    const plan = planOf(svc);
    const newPod = pod('echo-c', '10.244.1.10', 'worker');
    expect(readinessGatesForNewPod(newPod, { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' }, [plan], [svc]))
      .toEqual([`target-health.elbv2.k8s.aws/${plan.targetGroups[0]!.name}`]);
    expect(readinessGatesForNewPod(newPod, {}, [plan], [svc])).toEqual([]);
    const instancePlan = planOf(service({ [`${A}aws-load-balancer-type`]: 'external' }));
    expect(readinessGatesForNewPod(newPod, { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' }, [instancePlan], [svc])).toEqual([]);
  });
});
