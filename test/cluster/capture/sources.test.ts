import { describe, expect, it } from 'vitest';
import type { ContractReport, ReportFlow } from '../../../analyzer/report/contract.js';
import { compareSources } from '../../../cluster/capture/sources.js';

const flow = (points: string[], verdict: string): ReportFlow => ({
  id: 'f', client: null, frontend: null, backend: null,
  hops: points.map((p, i) => ({ point: p, src: 'a:1', dst: 'b:2', translation: i === 0 ? 'none' : 'dnat' })),
  verdict: { clientIpAtBackend: verdict, lbDecisions: 1, crossNode: false },
});
const report = (flows: ReportFlow[]): ContractReport => {
  const c: Record<string, number> = {};
  for (const f of flows) c[f.verdict.clientIpAtBackend] = (c[f.verdict.clientIpAtBackend] ?? 0) + 1;
  return { points: [], flows, summary: { flows: flows.length, clientIpAtBackend: c, backends: {}, sourceSeenByBackend: {} } };
};
const many = (n: number, points: string[], v: string) => Array.from({ length: n }, () => flow(points, v));

describe('compareSources', () => {
  const path = ['client:eth0', 'nlb-a:eth0', 'pod:eth0'];
  it('agrees on the same paths and verdicts', () => {
    expect(compareSources(report(many(50, path, 'peer')), report(many(50, path, 'peer')))).toEqual({ agree: true, differences: [] });
  });
  it('tolerates one cut flow in fifty, and lists it', () => {
    const r = compareSources(report(many(50, path, 'peer')), report([...many(49, path, 'peer'), flow(['client:eth0'], 'lost')]));
    expect(r.agree).toBe(true);
    expect(r.differences).toHaveLength(3);
  });
  it('disagrees when a path of the lesson is missing', () => {
    const r = compareSources(report(many(50, path, 'peer')), report(many(50, ['client:eth0', 'pod:eth0'], 'lost')));
    expect(r.agree).toBe(false);
  });
});
