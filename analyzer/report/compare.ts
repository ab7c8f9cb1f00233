/**
 * `netlab compare`: scenarios as columns, the hops of each one's most common path as rows, then
 * the verdict rows. Works from CONTRACT.md reports, so saved report.json files compare too.
 */
import Table from 'cli-table3';
import { clientFlows, type ContractReport, type ReportFlow } from './contract.js';

export interface CompareColumn {
  scenario: string;
  report: ContractReport;
  lessonOk: boolean | null;
}

/** The flows of the most common hop sequence (points and translations). */
export function dominantPath(flows: readonly ReportFlow[]): { flows: ReportFlow[]; share: number } {
  const groups = new Map<string, ReportFlow[]>();
  for (const f of flows) {
    const key = f.hops.map((h) => `${h.point}|${h.translation}`).join('>');
    const g = groups.get(key);
    if (g) g.push(f);
    else groups.set(key, [f]);
  }
  const best = [...groups.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  return { flows: best, share: flows.length ? best.length / flows.length : 0 };
}

function top(c: Record<string, number>, n: number): string {
  return Object.entries(c).sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${k} ×${v}`).join('\n') || '-';
}

export function renderCompare(columns: readonly CompareColumn[]): string {
  const paths = columns.map((c) => dominantPath(clientFlows(c.report)));
  const depth = Math.max(0, ...paths.map((p) => p.flows[0]?.hops.length ?? 0));
  const table = new Table({ head: ['', ...columns.map((c) => c.scenario)], style: { head: [], border: [] }, wordWrap: true });
  table.push(['path', ...paths.map((p) => (p.flows.length ? `${p.flows.length} flows (${(p.share * 100).toFixed(0)}%) take it` : 'no flow'))]);
  for (let i = 0; i < depth; i++) {
    table.push([`hop ${i + 1}`, ...paths.map((p) => {
      const h = p.flows[0]?.hops[i];
      if (!h) return '';
      const change = h.translation === 'none' || h.translation === 'routed' ? h.translation : `${h.translation.toUpperCase()}${h.by ? ` by ${h.by}` : ''}`;
      return `${h.point}\n${h.src} → ${h.dst}\n${change}`;
    })]);
  }
  const verdicts = columns.map((c) => {
    const v = c.report.summary.clientIpAtBackend;
    return Object.entries(v).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}/${c.report.summary.flows}`).join(', ') || '-';
  });
  table.push(['client IP at backend', ...verdicts]);
  table.push(['LB decisions', ...columns.map((c) => top(count(clientFlows(c.report).map((f) => String(f.verdict.lbDecisions))), 2))]);
  table.push(['crossed nodes', ...columns.map((c) => `${clientFlows(c.report).filter((f) => f.verdict.crossNode).length}/${clientFlows(c.report).length}`)]);
  table.push(['source seen by backend', ...columns.map((c) => top(c.report.summary.sourceSeenByBackend, 3))]);
  table.push(['backends', ...columns.map((c) => top(c.report.summary.backends, 3))]);
  if (columns.some((c) => c.lessonOk !== null)) table.push(['lesson shown', ...columns.map((c) => (c.lessonOk === null ? '' : c.lessonOk ? 'yes' : 'NO'))]);
  return table.toString();
}

function count(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i] = (out[i] ?? 0) + 1;
  return out;
}
