/**
 * Pure planning of the sequence diagrams: flows grouped by path shape, one lane per capture point
 * on that path, one arrow per hop (request and reply). Rendering to SVG lives in svg.ts; tests
 * snapshot this plan.
 */
import type { ContractReport, ReportFlow, ReportHop } from '../contract.js';

export interface Address {
  ip: string;
  port: string | null;
}

export interface Rewritten {
  srcIp: boolean;
  srcPort: boolean;
  dstIp: boolean;
  dstPort: boolean;
}

export interface PlannedArrow {
  direction: 'request' | 'reply';
  /** Index of the hop within its direction's hop list. */
  hop: number;
  /** The lane the packet came from; null for the first hop (the sender itself, outside the captures). */
  from: string | null;
  to: string;
  src: Address;
  dst: Address;
  /** Fields that differ from the same packet at the previous point. */
  rewritten: Rewritten;
  translation: string;
  by: string | null;
  lbDecision: boolean;
  /** "PPv2 PROXY client 198.51.100.10:41234" when the packet carries a PROXY v2 header. */
  ppv2: string | null;
  /** A reply reconstructed from the request hops (conntrack reverses each translation). */
  derived: boolean;
  /** "vxlan 172.18.0.3 → 172.18.0.4" when the packet travelled inside a tunnel here. */
  tunnel: string | null;
}

export interface PathShape {
  key: string;
  flowIds: string[];
  representative: ReportFlow;
  lanes: string[];
  arrows: PlannedArrow[];
}

/** Splits "ip:port" or "[v6]:port"; a bare address has no port. */
export function parseAddress(text: string): Address {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { ip: v6[1]!, port: v6[2] ?? null };
  const colon = text.lastIndexOf(':');
  if (colon > 0 && text.indexOf(':') === colon) return { ip: text.slice(0, colon), port: text.slice(colon + 1) };
  return { ip: text, port: null };
}

export function formatAddress(a: Address): string {
  const ip = a.ip.includes(':') ? `[${a.ip}]` : a.ip;
  return a.port === null ? ip : `${ip}:${a.port}`;
}

function shapeKey(flow: ReportFlow): string {
  const hops = flow.hops.map((h) => `${h.point}/${h.translation}/${h.by ?? ''}/${h.ppv2 ? 'ppv2' : ''}`).join('>');
  return `${hops}|${flow.verdict.clientIpAtBackend}|${flow.healthCheck ? 'health-check' : ''}`;
}

/** A translation changes the destination: the places where a backend can be chosen. */
function choosesDestination(translation: string): boolean {
  return translation.includes('dnat') || translation === 'proxy';
}

const NO_CHANGE: Rewritten = { srcIp: false, srcPort: false, dstIp: false, dstPort: false };

function compare(prev: { src: Address; dst: Address } | null, src: Address, dst: Address): Rewritten {
  if (!prev) return NO_CHANGE;
  return {
    srcIp: prev.src.ip !== src.ip,
    srcPort: prev.src.port !== src.port,
    dstIp: prev.dst.ip !== dst.ip,
    dstPort: prev.dst.port !== dst.port,
  };
}

function ppv2Text(hop: ReportHop): string | null {
  if (!hop.ppv2) return null;
  const command = hop.ppv2.command === 0 || hop.ppv2.command === 'LOCAL' || hop.ppv2.command === 'local' ? 'LOCAL' : 'PROXY';
  if (command === 'LOCAL' || hop.ppv2.src === null) return `PPv2 ${command}`;
  const client = hop.ppv2.sport === undefined ? hop.ppv2.src : formatAddress({ ip: hop.ppv2.src, port: String(hop.ppv2.sport) });
  return `PPv2 PROXY client ${client}`;
}

/** The reverse translation a reply meets where the request met `translation`. */
export function replyTranslation(translation: string): string {
  switch (translation) {
    case 'dnat':
      return 'un-dnat';
    case 'snat':
      return 'un-snat';
    case 'dnat+snat':
      return 'un-dnat+snat';
    case 'encap':
      return 'decap';
    case 'decap':
      return 'encap';
    default:
      return translation;
  }
}

/**
 * The reply as seen at each point, server side first. Without reply hops from the analyzer it is
 * rebuilt from the request: conntrack maps each reply through the inverse of the request's NAT, so
 * at every point the reply carries the request's addresses swapped.
 */
function replyHopsOf(flow: ReportFlow): { hops: ReportHop[]; derived: boolean } {
  if (flow.replyHops && flow.replyHops.length > 0) return { hops: flow.replyHops, derived: false };
  const explicit = flow.hops.filter((h) => h.direction === 'reply');
  if (explicit.length > 0) return { hops: explicit, derived: false };
  const req = flow.hops;
  const hops: ReportHop[] = [];
  for (let i = req.length - 1; i >= 0; i--) {
    const seen = req[i]!;
    const crossed = i < req.length - 1 ? req[i + 1]! : null;
    hops.push({
      point: seen.point,
      src: seen.dst,
      dst: seen.src,
      translation: crossed ? replyTranslation(crossed.translation) : 'none',
      by: crossed?.by ?? null,
      ppv2: null,
    });
  }
  return { hops, derived: true };
}

function arrowsFor(hops: ReportHop[], direction: 'request' | 'reply', derived: boolean, lbHops: Set<number>): PlannedArrow[] {
  let prev: { src: Address; dst: Address; point: string } | null = null;
  return hops.map((hop, i) => {
    const src = parseAddress(hop.src);
    const dst = parseAddress(hop.dst);
    const arrow: PlannedArrow = {
      direction,
      hop: i,
      from: prev ? prev.point : null,
      to: hop.point,
      src,
      dst,
      rewritten: compare(prev, src, dst),
      translation: hop.translation,
      by: hop.by ?? null,
      lbDecision: lbHops.has(i),
      ppv2: ppv2Text(hop),
      derived,
      tunnel: hop.tunnel ? `${hop.tunnel.kind} ${hop.tunnel.src} → ${hop.tunnel.dst}` : null,
    };
    prev = { src, dst, point: hop.point };
    return arrow;
  });
}

/**
 * Which request hops to mark as load-balancing decisions. The analyzer's verdict says how many
 * decisions the flow met; they are the first that many destination-changing hops (the NLB picks a
 * target before kube-proxy picks an endpoint).
 */
function lbDecisionHops(flow: ReportFlow, hops: ReportHop[]): Set<number> {
  const marked = new Set<number>();
  let left = flow.verdict.lbDecisions;
  hops.forEach((hop, i) => {
    if (left > 0 && i > 0 && choosesDestination(hop.translation)) {
      marked.add(i);
      left--;
    }
  });
  return marked;
}

/** Groups flows whose hops cross the same points with the same translations; report order is kept. */
export function planPathShapes(report: ContractReport): PathShape[] {
  const pointOrder = new Map(report.points.map((p, i) => [p.name, i]));
  const shapes = new Map<string, PathShape>();
  for (const flow of report.flows) {
    const key = shapeKey(flow);
    const existing = shapes.get(key);
    if (existing) {
      existing.flowIds.push(flow.id);
      continue;
    }
    const request = flow.hops.filter((h) => h.direction !== 'reply');
    const reply = replyHopsOf(flow);
    const arrows = [
      ...arrowsFor(request, 'request', false, lbDecisionHops(flow, request)),
      ...arrowsFor(reply.hops, 'reply', reply.derived, new Set()),
    ];
    // Lanes follow the report's point order; a hop at a point the report does not list goes last.
    const used = [...new Set(arrows.map((a) => a.to))];
    const rank = (point: string) => pointOrder.get(point) ?? pointOrder.size + used.indexOf(point);
    const lanes = used.sort((a, b) => rank(a) - rank(b));
    shapes.set(key, { key, flowIds: [flow.id], representative: flow, lanes, arrows });
  }
  return [...shapes.values()];
}
