/**
 * `netlab describe-target-health` against a lab state folder written by the test (NETLAB_RUN_DIR):
 * AWS's JSON on success, one line and exit 2 for every way the Service can have no NLB.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZoneStatus } from '../../../cluster/nlb/agent/files.js';
import { planLoadBalancer } from '../../../cluster/nlb/plan/build.js';
import type { LoadBalancerPlan } from '../../../cluster/nlb/plan/types.js';
import { NODES, PODS, service } from '../../cluster/nlb/plan/fixtures.js';

const BIN = path.resolve('dist/cli/main.js');
const runDir = mkdtempSync(path.join(tmpdir(), 'netlab-run-'));
const A = 'service.beta.kubernetes.io/';

function dth(...args: string[]) {
  return spawnSync('node', [BIN, 'describe-target-health', ...args, '--name', 'demo'], { encoding: 'utf8', env: { ...process.env, NETLAB_RUN_DIR: runDir } });
}

beforeAll(() => {
  const good = service({ [`${A}aws-load-balancer-type`]: 'external', [`${A}aws-load-balancer-nlb-target-type`]: 'ip' });
  const r = planLoadBalancer({ clusterName: 'demo', region: 'lab-1', timeScale: 1, service: good, nodes: NODES, pods: PODS });
  const plan = (r as { plan: LoadBalancerPlan }).plan;
  const badBase = service({ [`${A}aws-load-balancer-type`]: 'external', [`${A}aws-load-balancer-proxy-protocol`]: 'v2' });
  const bad = { ...badBase, metadata: { ...badBase.metadata, name: 'bad' } };
  const plain = { ...service({}), metadata: { name: 'plain', namespace: 'default' } };
  mkdirSync(path.join(runDir, 'demo', 'nlb'), { recursive: true });
  writeFileSync(path.join(runDir, 'demo', 'state.json'), JSON.stringify({
    name: 'demo',
    objects: { services: [good, bad, plain], namespaces: [], deployments: [] },
    extensions: {
      nlb: {
        zones: ['lab-1a', 'lab-1b'], addresses: {}, agents: {}, configHashes: {},
        plans: { 'default/svc-nlb': plan },
        events: { 'default/svc-nlb': [], 'default/bad': [{ type: 'Warning', reason: 'FailedBuildModel', message: 'Failed build model due to annotation service.beta.kubernetes.io/aws-load-balancer-proxy-protocol="v2": invalid value' }] },
      },
    },
  }));
  const tg = plan.targetGroups[0]!;
  const status: ZoneStatus = {
    zone: 'lab-1a', pid: 1, updatedAt: '2026-01-01T00:00:00.000Z', listeners: [], errors: [],
    targets: [{ loadBalancer: plan.name, targetGroup: tg.name, id: '10.244.1.5', ip: '10.244.1.5', port: 8080, healthCheckPort: 8080, availabilityZone: 'lab-1a', node: 'worker', pod: 'default/echo-a', state: 'healthy', reason: null, description: null, connections: null, drainUntil: null }],
  };
  writeFileSync(path.join(runDir, 'demo', 'nlb', 'a.status.json'), JSON.stringify(status));
});

afterAll(() => rmSync(runDir, { recursive: true, force: true }));

describe('netlab describe-target-health', () => {
  it('prints the aws elbv2 describe-target-health JSON (4-space indented)', () => {
    const r = dth('svc-nlb');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('\n    "TargetHealthDescriptions": [');
    expect(JSON.parse(r.stdout)).toEqual({
      TargetHealthDescriptions: [
        { Target: { Id: '10.244.1.5', Port: 8080, AvailabilityZone: 'lab-1a' }, HealthCheckPort: '8080', TargetHealth: { State: 'healthy' } },
        { Target: { Id: '10.244.2.7', Port: 8080, AvailabilityZone: 'lab-1b' }, HealthCheckPort: '8080', TargetHealth: { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' } },
      ],
    });
  });

  it.each([
    [['nope'], /no Service default\/nope in lab 'demo'/],
    [['plain'], /Service default\/plain has no NLB: it is not type LoadBalancer with loadBalancerClass service\.k8s\.aws\/nlb/],
    [['bad'], /Service default\/bad has no NLB yet: FailedBuildModel: .*proxy-protocol="v2"/],
    [['svc-nlb', '-n', 'other'], /no Service other\/svc-nlb/],
  ])('%j: one line, exit 2', (args, message) => {
    const r = dth(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a lab that is not up: exit 2 and says to run netlab up', () => {
    const r = spawnSync('node', [BIN, 'describe-target-health', 'x', '--name', 'absent'], { encoding: 'utf8', env: { ...process.env, NETLAB_RUN_DIR: runDir } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no lab named 'absent' is up.*netlab up --name absent/);
  });
});
