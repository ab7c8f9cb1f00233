/**
 * `netlab compare`: scenarios as columns, the hops of each one's most common path as rows, then
 * the verdict rows. Works from CONTRACT.md reports, so saved report.json files compare too.
 * Scenarios that do not fit the terminal's width side by side are split into several tables,
 * each repeating the row labels, rather than wrapped line by line into an unreadable grid.
 */
import Table from 'cli-table3';
import { clientFlows, type ContractReport, type ReportFlow } from './contract.js';

export interface CompareColumn {
  scenario: string;
  report: ContractReport;
  lessonOk: boolean | null;
}

export interface CompareOptions {
  /** Characters per line; default 160 (the CLI passes the terminal's width). */
  width?: number;
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

function count(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i] = (out[i] ?? 0) + 1;
  return out;
}

/** Rows of cells: [label, one cell per column]. */
function compareRows(columns: readonly CompareColumn[]): string[][] {
  const paths = columns.map((c) => dominantPath(clientFlows(c.report)));
  const depth = Math.max(0, ...paths.map((p) => p.flows[0]?.hops.length ?? 0));
  const rows: string[][] = [['', ...columns.map((c) => c.scenario)]];
  rows.push(['path', ...paths.map((p) => (p.flows.length ? `${p.flows.length} flows (${(p.share * 100).toFixed(0)}%) take it` : 'no flow'))]);
  for (let i = 0; i < depth; i++) {
    rows.push([`hop ${i + 1}`, ...paths.map((p) => {
      const h = p.flows[0]?.hops[i];
      if (!h) return '';
      const change = h.translation === 'none' || h.translation === 'routed' ? h.translation : `${h.translation.toUpperCase()}${h.by ? ` by ${h.by}` : ''}`;
      return `${h.point}\n${h.src} → ${h.dst}\n${change}`;
    })]);
  }
  rows.push(['client IP at backend', ...columns.map((c) => {
    const v = c.report.summary.clientIpAtBackend;
    return Object.entries(v).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}/${c.report.summary.flows}`).join(', ') || '-';
  })]);
  rows.push(['LB decisions', ...columns.map((c) => top(count(clientFlows(c.report).map((f) => String(f.verdict.lbDecisions))), 2))]);
  rows.push(['crossed nodes', ...columns.map((c) => `${clientFlows(c.report).filter((f) => f.verdict.crossNode).length}/${clientFlows(c.report).length}`)]);
  rows.push(['source seen by backend', ...columns.map((c) => top(c.report.summary.sourceSeenByBackend, 3))]);
  rows.push(['backends', ...columns.map((c) => top(c.report.summary.backends, 3))]);
  if (columns.some((c) => c.lessonOk !== null)) rows.push(['lesson shown', ...columns.map((c) => (c.lessonOk === null ? '' : c.lessonOk ? 'yes' : 'NO'))]);
  return rows;
}

/** Widest line of a cell, plus cli-table3's padding and border. */
const cellWidth = (text: string) => Math.max(...text.split('\n').map((l) => l.length)) + 3;

/** Greedy groups of column indexes whose widths, with the label column, fit `width`. */
function fitGroups(widths: readonly number[], labelWidth: number, width: number): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let used = labelWidth + 1;
  widths.forEach((w, i) => {
    if (current.length > 0 && used + w > width) {
      groups.push(current);
      current = [];
      used = labelWidth + 1;
    }
    current.push(i);
    used += w;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

export function renderCompare(columns: readonly CompareColumn[], opts: CompareOptions = {}): string {
  const rows = compareRows(columns);
  const labelWidth = Math.max(...rows.map((r) => cellWidth(r[0])));
  const widths = columns.map((_, i) => Math.max(...rows.map((r) => cellWidth(r[i + 1]))));
  return fitGroups(widths, labelWidth, opts.width ?? 160).map((group) => {
    const [head, ...body] = rows.map((r) => [r[0], ...group.map((i) => r[i + 1])]);
    const table = new Table({ head, style: { head: [], border: [] } });
    table.push(...body);
    return table.toString();
  }).join('\n\n');
}
