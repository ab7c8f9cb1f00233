import { describe, expect, it } from 'vitest';
import type { ContractReport, ReportFlow as ContractFlow } from '../../../analyzer/report/contract.js';
import { checkLesson, readyHeldByGates, verdictLine } from '../../../cluster/capture/lesson.js';
import { loadScenario } from '../../../cluster/scenarios/catalog.js';

function flow(i: number, verdict: ContractFlow['verdict']['clientIpAtBackend'], lbDecisions: number, crossNode: boolean): ContractFlow {
  return {
    id: `f${i}`,
    client: { ip: '198.51.100.10', port: 40000 + i },
    frontend: { ip: '203.0.113.10', port: 80 },
    backend: { ip: '10.244.1.5', port: 8080, pod: 'deploy-echo-a', node: 'worker' },
    hops: [],
    verdict: { clientIpAtBackend: verdict, lbDecisions, crossNode },
  };
}

function report(flows: ContractFlow[], sources: Record<string, number>): ContractReport {
  const c: Record<string, number> = { peer: 0, ppv2: 0, xff: 0, lost: 0 };
  for (const f of flows) c[f.verdict.clientIpAtBackend] = (c[f.verdict.clientIpAtBackend] ?? 0) + 1;
  return { points: [], flows, summary: { flows: flows.length, clientIpAtBackend: c, backends: {}, sourceSeenByBackend: sources } };
}

const ctx = (r: ContractReport) => ({ report: r, requests: 100, targetHealth: null, addresses: { lb: ['172.18.1.10'], node: ['172.18.0.3'], client: ['198.51.100.10'] }, observed: { readinessGateHeld: null, drainingSeen: null, drainedConnectionKept: null } });

describe('lesson checks', () => {
  it('passes local-policy only when the packets show peer, one decision and no cross-node flow', () => {
    const s = loadScenario('local-policy');
    const good = report(Array.from({ length: 100 }, (_, i) => flow(i, 'peer', 1, false)), { '198.51.100.10': 100 });
    const checks = checkLesson(s, { ...ctx(good), targetHealth: { TargetHealthDescriptions: [{ Target: { Id: 'i-worker3', Port: 31000 }, HealthCheckPort: '32000', TargetHealth: { State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch' } }] } });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    const snat = report(Array.from({ length: 100 }, (_, i) => flow(i, i < 5 ? 'peer' : 'lost', 2, true)), { '172.18.0.3': 100 });
    const failed = checkLesson(s, ctx(snat)).filter((c) => !c.ok).map((c) => c.what);
    expect(failed).toEqual(['client IP at the backend', 'load-balancing decisions per flow', 'flows crossing nodes', 'unhealthy NLB targets']);
  });

  it('judges ip-mode by the source address the backend saw', () => {
    const s = loadScenario('ip-mode');
    const fromLb = report(Array.from({ length: 100 }, (_, i) => flow(i, 'lost', 1, false)), { '172.18.1.10': 100 });
    expect(checkLesson(s, ctx(fromLb)).every((c) => c.ok)).toBe(true);
    const fromNode = report(Array.from({ length: 100 }, (_, i) => flow(i, 'lost', 1, false)), { '172.18.0.3': 100 });
    expect(checkLesson(s, ctx(fromNode)).find((c) => c.what === 'source the backend saw')?.ok).toBe(false);
  });

  it('fails when too few flows reached a backend', () => {
    const s = loadScenario('local-policy');
    const few = report(Array.from({ length: 50 }, (_, i) => flow(i, 'peer', 1, false)), {});
    expect(checkLesson(s, ctx(few))[0]).toMatchObject({ what: 'flows reaching a backend', ok: false, seen: '50' });
  });

  it('says in one line how the client IP arrives', () => {
    const r = report(Array.from({ length: 100 }, (_, i) => flow(i, 'peer', 1, false)), {});
    expect(verdictLine(r)).toBe('client IP reaches the pod: yes, as TCP peer, 100/100 flows; 1 load-balancing decision; 0/100 flows crossed nodes');
  });
});

describe('readyHeldByGates', () => {
  const pod = (containers: string, gate: string, ready: string) => ({
    spec: { containers: [], readinessGates: [{ conditionType: 'target-health.elbv2.k8s.aws/k8s-x' }] },
    status: { conditions: [
      { type: 'ContainersReady', status: 'True', lastTransitionTime: containers },
      { type: 'target-health.elbv2.k8s.aws/k8s-x', status: 'True', lastTransitionTime: gate },
      { type: 'Ready', status: 'True', lastTransitionTime: ready },
    ] },
  });
  it('holds when containers were ready first, the gate later and Ready not before the gate', () => {
    expect(readyHeldByGates(pod('2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.500Z', '2026-01-01T00:00:02.500Z'), false)).toBe(true);
    expect(readyHeldByGates(pod('2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.500Z', '2026-01-01T00:00:01.000Z'), false)).toBe(false);
  });
  it('counts the same second as later only for one-second clocks', () => {
    const same = pod('2026-01-01T00:00:01Z', '2026-01-01T00:00:01Z', '2026-01-01T00:00:01Z');
    expect(readyHeldByGates(same, true)).toBe(true);
    expect(readyHeldByGates(same, false)).toBe(false);
  });
});
