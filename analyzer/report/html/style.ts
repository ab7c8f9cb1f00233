/** The report's inline stylesheet and the shared SVG fill patterns (hatching reads without colour). */
import { el, leaf } from './markup.js';

export const CSS = `
:root { --ink: #1b1f24; --muted: #57606a; --line: #8c959f; --accent: #0550ae; --rw: #a40e26; --paper: #fff; }
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 16px 20px 40px; max-width: 1260px; color: var(--ink); background: var(--paper);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
h1 { font-size: 22px; margin: 4px 0 2px; } h2 { font-size: 19px; margin: 28px 0 6px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 15px; margin: 18px 0 4px; }
code, .mono, td.mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
nav ul { display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 0; list-style: none; }
.legend { border: 1px solid var(--line); padding: 6px 10px; font-size: 13px; }
.legend span.sample-rw { font-weight: 700; text-decoration: underline; color: var(--rw); font-family: monospace; }
figure { margin: 8px 0 16px; overflow-x: auto; } figcaption { font-weight: 600; margin-bottom: 4px; }
table { border-collapse: collapse; margin: 6px 0 12px; } th, td { border: 1px solid var(--line); padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #eef1f4; }
table.compare { width: 100%; table-layout: fixed; } table.compare td { overflow-x: auto; }
.verdict-word { font-weight: 700; text-transform: uppercase; letter-spacing: .04em; }
.verdict-word.lost { text-decoration: line-through; } .verdict-word.peer::before { content: "✓ "; } .verdict-word.ppv2::before { content: "✓ "; } .verdict-word.xff::before { content: "✓ "; }
figure.chart svg { max-width: 100%; height: auto; }
.charts { display: flex; flex-wrap: wrap; gap: 8px 28px; }
svg text { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; fill: var(--ink); }
svg .lane-name { font-weight: 700; } svg .lane-detail { fill: var(--muted); font-size: 11px; }
svg .lifeline { stroke: var(--line); stroke-dasharray: 2 3; }
svg .divider { stroke: var(--line); } svg .section { font-style: italic; fill: var(--muted); }
svg .arrow .shaft { stroke: var(--ink); stroke-width: 1.6; fill: none; }
svg .arrow.reply .shaft { stroke-dasharray: 7 4; stroke: var(--accent); }
svg .arrow.derived .shaft { stroke-dasharray: 2 3; }
svg .head.request { fill: var(--ink); } svg .head.reply { fill: var(--accent); }
svg .arrow text { paint-order: stroke; stroke: var(--paper); stroke-width: 4px; stroke-linejoin: round; }
svg .arrow .what { fill: var(--muted); font-size: 11px; }
svg tspan.rw { font-weight: 700; text-decoration: underline; fill: var(--rw); }
svg .lb-marker { fill: var(--paper); stroke: var(--ink); stroke-width: 2; }
svg .ppv2-marker rect { fill: var(--paper); stroke: var(--ink); stroke-width: 1.2; } svg .ppv2-marker text { font-size: 10px; font-weight: 700; }
svg .bar-fill, svg .span-fill { stroke: var(--ink); stroke-width: 1; }
svg .tick line { stroke: #d0d7de; } svg .tick text, svg text.tick { fill: var(--muted); font-size: 11px; }
svg .bar-value { font-weight: 600; }
svg .span-label { font-size: 11px; paint-order: stroke; stroke: var(--paper); stroke-width: 3px; stroke-linejoin: round; }
ul.transitions { font-size: 12.5px; columns: 2; margin: 4px 0; }
.note { color: var(--muted); font-size: 13px; }
@media print {
  :root { --rw: #000; --accent: #000; --muted: #333; }
  body { max-width: none; padding: 0; font-size: 11pt; }
  nav, .screen-only { display: none; }
  h2 { break-before: page; } h2.first { break-before: auto; }
  figure, table.compare, .chart { break-inside: avoid; overflow: visible; }
  svg.sequence { max-width: 100%; height: auto; }
  th { background: none; }
}
`;

/** Hatch patterns referenced by bars and health spans (`fill="url(#pat-…)"`). */
export function patternDefs(): string {
  const pattern = (id: string, ...shapes: string[]) =>
    el('pattern', { id, width: 8, height: 8, patternUnits: 'userSpaceOnUse' }, leaf('rect', { width: 8, height: 8, fill: '#fff' }), ...shapes);
  const line = (x1: number, y1: number, x2: number, y2: number, color = '#1b1f24') => leaf('line', { x1, y1, x2, y2, stroke: color, 'stroke-width': 1.3 });
  return el(
    'svg',
    { xmlns: 'http://www.w3.org/2000/svg', width: 0, height: 0, style: 'position:absolute', 'aria-hidden': 'true' },
    el(
      'defs',
      {},
      pattern('pat-diag', line(0, 8, 8, 0, '#0550ae'), line(-2, 2, 2, -2, '#0550ae'), line(6, 10, 10, 6, '#0550ae')),
      pattern('pat-back', line(0, 0, 8, 8, '#8250df'), line(-2, 6, 2, 10, '#8250df'), line(6, -2, 10, 2, '#8250df')),
      pattern('pat-dots', leaf('circle', { cx: 4, cy: 4, r: 1.6, fill: '#bc4c00' })),
      pattern('pat-cross', line(0, 0, 8, 8, '#a40e26'), line(0, 8, 8, 0, '#a40e26')),
      pattern('pat-horiz', line(0, 4, 8, 4, '#1a7f37')),
      pattern('pat-vert', line(4, 0, 4, 8, '#6e7781')),
      el('pattern', { id: 'pat-solid', width: 8, height: 8, patternUnits: 'userSpaceOnUse' }, leaf('rect', { width: 8, height: 8, fill: '#aceebb' })),
      el('pattern', { id: 'pat-none', width: 8, height: 8, patternUnits: 'userSpaceOnUse' }, leaf('rect', { width: 8, height: 8, fill: '#fff' })),
    ),
  );
}
