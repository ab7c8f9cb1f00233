/**
 * Per-packet comments for the annotated, merged pcapng (the report stage writes them as
 * opt_comment): for each hop of each flow, the first packet matched at that point; for packets
 * carrying a PROXY header, what it says.
 */
import type { AnalysisResult, HopResult, PointInfo } from '../hops/types.js';

export interface PacketAnnotation {
  /** Point name (as in result.points). */
  point: string;
  /** The capture file holding the packet (a `-i any` file holds several points). */
  file: string;
  /** 1-based packet number within that file. */
  n: number;
  comment: string;
}

const WORDS: Record<string, string> = {
  none: 'seen', routed: 'routed', dnat: 'DNAT', snat: 'SNAT', 'dnat+snat': 'DNAT+SNAT', proxy: 'proxied', encap: 'encapsulated', decap: 'decapsulated',
};

function stepComment(flowId: string, i: number, hops: HopResult[], reply: boolean): string {
  const h = hops[i]!;
  const head = `${flowId}${reply ? ' reply' : ''} hop ${i + 1}`;
  if (i === 0) return `${head}: ${h.src} → ${h.dst} at ${h.point}`;
  const prev = hops[i - 1]!;
  const by = h.by ? ` by ${h.by}${h.at && h.at !== h.by ? ` (${h.at})` : ''}` : '';
  const what = WORDS[h.translation] ?? h.translation;
  if (h.translation === 'dnat') return `${head}: DNAT ${prev.dst} → ${h.dst}${by}`;
  if (h.translation === 'snat') return `${head}: SNAT ${prev.src} → ${h.src}${by}`;
  return `${head}: ${what} ${prev.src} → ${prev.dst} becomes ${h.src} → ${h.dst}${by}`;
}

export function annotate(result: AnalysisResult): PacketAnnotation[] {
  const points = new Map<string, PointInfo>(result.points.map((p) => [p.name, p]));
  const out: PacketAnnotation[] = [];
  const push = (point: string, n: number, comment: string) => {
    if (n > 0) out.push({ point, file: points.get(point)?.file ?? '', n, comment });
  };
  for (const f of result.flows) {
    f.hops.forEach((h, i) => push(h.point, h.n, stepComment(f.id, i, f.hops, false)));
    f.replyHops.forEach((h, i) => push(h.point, h.n, stepComment(f.id, i, f.replyHops, true)));
    for (const h of [...f.hops, ...f.replyHops]) {
      if (h.ppv2) push(h.point, h.ppv2.n, h.ppv2.command === 'PROXY' ? `${f.id}: PPv2 PROXY client ${h.ppv2.src} → ${h.ppv2.dst}` : `${f.id}: PPv2 LOCAL (health check)`);
    }
  }
  return out;
}
