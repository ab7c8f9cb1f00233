/** Renders a planned path shape (sequence.ts) as an inline SVG sequence diagram. */
import { scalePoint } from 'd3-scale';
import type { ReportPoint } from '../contract.js';
import { el, fmt, leaf, text } from './markup.js';
import { formatAddress, type PathShape, type PlannedArrow } from './sequence.js';

const GUTTER = 96;
const HEADER = 64;
const ROW = 50;
const SECTION_GAP = 30;
/** Width of one character of the 12 px monospace label font, for keeping labels inside the SVG. */
const CHAR_W = 7.3;
const STUB = 64;
/** Room for the lane titles and labels at 1280 px; wider paths scroll inside their figure. */
const TARGET_WIDTH = 1180;

function laneSpacing(lanes: number): number {
  if (lanes < 2) return 0;
  return Math.min(330, Math.max(180, (TARGET_WIDTH - 2 * GUTTER) / (lanes - 1)));
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function laneTitle(point: ReportPoint | undefined, name: string, x: number, maxChars: number): string {
  const where = point ? [point.node, point.pod].filter(Boolean).join(' / ') : '';
  const lines = [name, point ? `${point.role}${where ? `: ${where}` : ''}` : 'point not in report', point?.interface ? `if ${point.interface}` : ''];
  return el(
    'g',
    { class: 'lane-title', 'data-lane': name },
    el('title', {}, text(lines.filter(Boolean).join(' — '))),
    ...lines.map((line, i) =>
      line ? el('text', { x, y: 16 + i * 15, 'text-anchor': 'middle', class: i === 0 ? 'lane-name' : 'lane-detail' }, text(clip(line, maxChars))) : '',
    ),
  );
}

/** "src → dst" with the rewritten parts in their own tspans (bold, underlined: not colour alone). */
function addressLabel(a: PlannedArrow): { markup: string; plain: string } {
  const part = (value: string, rewritten: boolean) =>
    rewritten ? el('tspan', { class: 'rw' }, text(value)) : text(value);
  const side = (ip: string, port: string | null, ipRw: boolean, portRw: boolean) => {
    const shownIp = ip.includes(':') ? `[${ip}]` : ip;
    return port === null ? part(shownIp, ipRw) : `${part(shownIp, ipRw)}:${part(port, portRw)}`;
  };
  const r = a.rewritten;
  return {
    markup: `${side(a.src.ip, a.src.port, r.srcIp, r.srcPort)} → ${side(a.dst.ip, a.dst.port, r.dstIp, r.dstPort)}`,
    plain: `${formatAddress(a.src)} → ${formatAddress(a.dst)}`,
  };
}

/** The line under the addresses: what happened at this hop, in words. */
export function describeArrow(a: PlannedArrow): string {
  const parts: string[] = [];
  if (a.from === null) parts.push(a.direction === 'request' ? 'sent' : 'reply sent');
  else if (a.translation === 'none' || a.translation === 'routed') parts.push(a.translation === 'none' ? 'unchanged' : 'routed');
  else parts.push(a.translation.toUpperCase());
  if (a.by && a.from !== null && a.translation !== 'none') parts.push(`by ${a.by}`);
  const rw = a.rewritten;
  const changed = [rw.srcIp || rw.srcPort ? 'src' : '', rw.dstIp || rw.dstPort ? 'dst' : ''].filter(Boolean);
  if (changed.length > 0) parts.push(`(${changed.join('+')} rewritten)`);
  if (a.lbDecision) parts.push('◆ LB decision');
  if (a.ppv2) parts.push(`▣ ${a.ppv2}`);
  if (a.tunnel) parts.push(`[outer: ${a.tunnel}]`);
  if (a.derived) parts.push('[derived]');
  return parts.join(' ');
}

function arrowMarkup(a: PlannedArrow, x: (lane: string) => number, y: number, width: number, idPrefix: string): string {
  const x2 = x(a.to);
  const x1 = a.from === null ? x2 + (a.direction === 'request' ? -STUB : STUB) : x(a.from);
  const cls = ['arrow', a.direction, a.derived ? 'derived' : '', a.lbDecision ? 'lb' : '', a.ppv2 ? 'ppv2' : '']
    .filter(Boolean)
    .join(' ');
  const marker = `url(#${idPrefix}-head-${a.direction})`;
  const shape =
    a.from === a.to
      ? leaf('path', { class: 'shaft', d: `M${fmt(x1)},${fmt(y - 12)} h30 v12 h-26`, 'marker-end': marker })
      : leaf('line', { class: 'shaft', x1, y1: y, x2: x1 < x2 ? x2 - 3 : x2 + 3, y2: y, 'marker-end': marker });
  const label = addressLabel(a);
  const description = describeArrow(a);
  const longest = Math.max(label.plain.length, description.length) * CHAR_W;
  const mid = (x1 + x2) / 2;
  const labelX = Math.min(Math.max(mid, 4 + longest / 2), width - 4 - longest / 2);
  const badges: string[] = [];
  if (a.lbDecision) {
    badges.push(leaf('path', { class: 'lb-marker', d: `M${fmt(x2)},${fmt(y - 6)} l6,6 l-6,6 l-6,-6 z` }));
  }
  if (a.ppv2) {
    const bx = Math.min(x1, x2) + 6;
    badges.push(
      el('g', { class: 'ppv2-marker' }, leaf('rect', { x: bx, y: y + 3, width: 38, height: 14, rx: 2 }), el('text', { x: bx + 19, y: y + 14, 'text-anchor': 'middle' }, 'PPv2')),
    );
  }
  return el(
    'g',
    {
      class: cls,
      'data-direction': a.direction,
      'data-hop': a.hop,
      'data-from': a.from ?? '',
      'data-to': a.to,
      'data-translation': a.translation,
      'data-lb': a.lbDecision ? 'yes' : 'no',
      'data-ppv2': a.ppv2 ? 'yes' : 'no',
    },
    el('title', {}, text(`${a.direction} hop ${a.hop} at ${a.to}: ${label.plain} — ${description}`)),
    shape,
    ...badges,
    el('text', { class: 'label', x: labelX, y: y - 22, 'text-anchor': 'middle' }, label.markup),
    el('text', { class: 'what', x: labelX, y: y - 9, 'text-anchor': 'middle' }, text(description)),
  );
}

/** One path shape as an SVG: lanes across, hops down, request arrows then reply arrows. */
export function renderSequenceSvg(shape: PathShape, points: ReportPoint[], idPrefix: string): string {
  const spacing = laneSpacing(shape.lanes.length);
  const width = 2 * GUTTER + spacing * Math.max(0, shape.lanes.length - 1);
  const lanePos = scalePoint<string>().domain(shape.lanes).range([GUTTER, width - GUTTER]).align(0.5);
  const x = (lane: string) => lanePos(lane) ?? GUTTER;
  const request = shape.arrows.filter((a) => a.direction === 'request');
  const reply = shape.arrows.filter((a) => a.direction === 'reply');
  const replyTop = HEADER + 20 + request.length * ROW + SECTION_GAP;
  const height = replyTop + reply.length * ROW + 16;
  const byName = new Map(points.map((p) => [p.name, p]));
  const titleChars = Math.max(12, Math.floor((spacing || 2 * GUTTER) / 7.6));

  const defs = el(
    'defs',
    {},
    ...(['request', 'reply'] as const).map((dir) =>
      el(
        'marker',
        { id: `${idPrefix}-head-${dir}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' },
        leaf('path', { d: 'M0,0 L10,5 L0,10 z', class: `head ${dir}` }),
      ),
    ),
  );
  const lifelines = shape.lanes.map((lane) =>
    el('g', { class: 'lane', 'data-lane': lane }, leaf('line', { class: 'lifeline', x1: x(lane), y1: HEADER - 6, x2: x(lane), y2: height - 8 })),
  );
  const titles = shape.lanes.map((lane) => laneTitle(byName.get(lane), lane, x(lane), titleChars));
  const rows = [
    el('text', { class: 'section', x: 8, y: HEADER + 12 }, 'request ↓'),
    ...request.map((a, i) => arrowMarkup(a, x, HEADER + 20 + i * ROW + 36, width, idPrefix)),
    leaf('line', { class: 'divider', x1: 0, y1: replyTop - SECTION_GAP / 2, x2: width, y2: replyTop - SECTION_GAP / 2 }),
    el('text', { class: 'section', x: 8, y: replyTop + 2 }, reply.some((a) => a.derived) ? 'reply ↑ (derived from the request: conntrack reverses each NAT)' : 'reply ↑'),
    ...reply.map((a, i) => arrowMarkup(a, x, replyTop + i * ROW + 36, width, idPrefix)),
  ];
  return el(
    'svg',
    {
      class: 'sequence',
      xmlns: 'http://www.w3.org/2000/svg',
      viewBox: `0 0 ${fmt(width)} ${fmt(height)}`,
      width,
      height,
      role: 'img',
      'aria-label': `sequence diagram of ${shape.flowIds.length} flow(s) across ${shape.lanes.length} capture points`,
    },
    defs,
    ...lifelines,
    ...titles,
    ...rows,
  );
}
