/**
 * The human reports: one table per distinct path shape (with a representative flow), then the
 * summary. Text (default) and Markdown share the same rows.
 */
import Table from 'cli-table3';
import type { AnalysisResult, FlowResult, HopResult, PointInfo } from '../hops/types.js';

export interface PathGroup {
  shape: string;
  flows: FlowResult[];
  representative: FlowResult;
}

/** Flows grouped by path shape, biggest group first; health checks last. */
export function groupByShape(flows: readonly FlowResult[]): PathGroup[] {
  const groups = new Map<string, FlowResult[]>();
  for (const f of flows) {
    const key = `${f.healthCheck ? 'hc' : 'client'}|${f.shape}`;
    const g = groups.get(key);
    if (g) g.push(f);
    else groups.set(key, [f]);
  }
  return [...groups.values()]
    .map((fs) => ({ shape: fs[0]!.shape, flows: fs, representative: fs[0]! }))
    .sort((a, b) => Number(a.representative.healthCheck) - Number(b.representative.healthCheck) || b.flows.length - a.flows.length);
}

const HEAD = ['#', 'point', 'role', 'src', 'dst', 'ttl', 'change', 'by'];

function hopRows(hops: readonly HopResult[], points: Map<string, PointInfo>): string[][] {
  return hops.map((h, i) => {
    const notes: string[] = [];
    // The PROXY header travels with its connection: say so where it first appears.
    const ppv2New = h.ppv2 && !(i > 0 && hops[i - 1]!.connection === h.connection && hops[i - 1]!.ppv2);
    if (h.ppv2 && ppv2New) notes.push(h.ppv2.command === 'PROXY' ? `PPv2 PROXY client ${h.ppv2.src}` : 'PPv2 LOCAL');
    if (h.xff && !(i > 0 && hops[i - 1]!.connection === h.connection && hops[i - 1]!.xff === h.xff)) notes.push(`XFF ${h.xff}`);
    if (h.tunnel) notes.push(`${h.tunnel.kind} ${h.tunnel.src} → ${h.tunnel.dst}`);
    if (h.retransmissions > 0) notes.push(`${h.retransmissions} retrans`);
    const change = i === 0 ? '-' : h.translation;
    const by = h.by ? `${h.by}${h.at && h.at !== h.by ? ` @${h.at}` : ''}` : '';
    return [String(i + 1), h.point, points.get(h.point)?.role ?? '', h.src, h.dst, String(h.ttl),
      notes.length ? `${change} (${notes.join('; ')})` : change, by];
  });
}

/** On the reply path, rewrites undo the request's NAT: a source rewrite there is the DNAT reversed. */
const REPLY_WORDS: Record<string, string> = {
  snat: 'reverse DNAT', dnat: 'reverse SNAT', 'dnat+snat': 'reverse DNAT+SNAT', proxy: 'proxy', encap: 'encap', decap: 'decap',
};

function flowList(fs: readonly FlowResult[]): string {
  const ids = fs.map((f) => f.id);
  return ids.length <= 8 ? ids.join(', ') : `${ids.slice(0, 8).join(', ')}, … (${ids.length})`;
}

function verdictLine(f: FlowResult): string {
  const v = f.verdict;
  const ip = { peer: 'the backend sees the client IP as its TCP peer', ppv2: 'the client IP reaches the backend in a PROXY v2 header',
    xff: 'the client IP reaches the backend in X-Forwarded-For', lost: 'the backend does NOT see the client IP' }[v.clientIpAtBackend];
  const parts = [`${ip} (${v.clientIpAtBackend})`, `${v.lbDecisions} load-balancing decision${v.lbDecisions === 1 ? '' : 's'}`,
    v.crossNode ? 'crosses nodes' : 'stays on one node'];
  if (v.replyFromFrontend === false) parts.push('the reply reaches the client from a different address (reverse NAT missing)');
  return parts.join('; ');
}

function countsLine(r: Record<string, number>): string {
  const e = Object.entries(r);
  return e.length ? e.map(([k, v]) => `${k} ${v}`).join(', ') : '-';
}

export function renderText(result: AnalysisResult): string {
  const points = new Map(result.points.map((p) => [p.name, p]));
  const out: string[] = [];
  const groups = groupByShape(result.flows);
  groups.forEach((g, i) => {
    const f = g.representative;
    out.push(`Path ${i + 1}${f.healthCheck ? ' (health checks)' : ''}: ${g.flows.length} flow${g.flows.length === 1 ? '' : 's'} (${flowList(g.flows)}); representative ${f.id}: ${f.client.ip}:${f.client.port} → ${f.frontend.ip}:${f.frontend.port} → backend ${f.backend.pod ?? ''}${f.backend.pod ? ' ' : ''}${f.backend.ip}:${f.backend.port}`);
    const t = new Table({ head: HEAD, style: { head: [], border: [], compact: true } });
    for (const row of hopRows(f.hops, points)) t.push(row);
    out.push(t.toString());
    if (f.replyHops.length > 0) {
      out.push(`  reply: ${f.replyHops.map((h) => `${h.point} ${h.src} → ${h.dst}${REPLY_WORDS[h.translation] ? ` [${REPLY_WORDS[h.translation]}]` : ''}`).join('  ⇒  ')}`);
    }
    out.push(`  verdict: ${verdictLine(f)}`);
    out.push('');
  });
  out.push(...summaryLines(result));
  return `${out.join('\n')}\n`;
}

function summaryLines(result: AnalysisResult): string[] {
  const s = result.summary;
  const lines = [
    `Summary: ${s.flows} client flow${s.flows === 1 ? '' : 's'}${s.healthChecks ? ` (+${s.healthChecks} health checks)` : ''} over ${result.points.length} points, ${result.stats.packets} packets`,
    `  client IP at backend: peer ${s.clientIpAtBackend.peer}, ppv2 ${s.clientIpAtBackend.ppv2}, xff ${s.clientIpAtBackend.xff}, lost ${s.clientIpAtBackend.lost}`,
    `  backends: ${countsLine(s.backends)}`,
    `  source seen by backend: ${countsLine(s.sourceSeenByBackend)}`,
  ];
  if (result.stats.retransmissions || result.stats.duplicates) {
    lines.push(`  retransmitted segments (counted at each point): ${result.stats.retransmissions}, duplicate copies: ${result.stats.duplicates}; neither adds hops`);
  }
  const gt = result.groundTruth;
  if (gt) {
    lines.push(`  conntrack ground truth: ${gt.checked} NAT steps checked against ${gt.entries} kernel entries: ${gt.agree} agree, ${gt.disagree} disagree`);
    for (const c of gt.checks.filter((x) => !x.agree).slice(0, 5)) lines.push(`    ${c.flow} @${c.host}: packets show ${c.inferred}, conntrack says ${c.conntrack}`);
  }
  return lines;
}

function mdEscape(s: string): string {
  return s.replaceAll('|', '\\|');
}

export function renderMarkdown(result: AnalysisResult): string {
  const points = new Map(result.points.map((p) => [p.name, p]));
  const out: string[] = ['# netlab analyze', ''];
  groupByShape(result.flows).forEach((g, i) => {
    const f = g.representative;
    out.push(`## Path ${i + 1}${f.healthCheck ? ' (health checks)' : ''}: ${g.flows.length} flow${g.flows.length === 1 ? '' : 's'}`, '');
    out.push(`Flows: ${flowList(g.flows)}. Representative **${f.id}**: \`${f.client.ip}:${f.client.port}\` → \`${f.frontend.ip}:${f.frontend.port}\` → backend ${f.backend.pod ? `**${f.backend.pod}** ` : ''}\`${f.backend.ip}:${f.backend.port}\``, '');
    out.push(`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`);
    for (const row of hopRows(f.hops, points)) out.push(`| ${row.map(mdEscape).join(' | ')} |`);
    out.push('', `Verdict: ${verdictLine(f)}.`, '');
  });
  out.push('## Summary', '', ...summaryLines(result).map((l) => `- ${l.trim()}`), '');
  return out.join('\n');
}
