/**
 * Distribution bar charts and the target-health timeline, as inline SVG. Bars carry their numbers
 * and hatch patterns so they read without colour and in print.
 */
import { scaleLinear } from 'd3-scale';
import type { DescribeTargetHealth, TargetHealthSample } from '../contract.js';
import { el, fmt, leaf, text } from './markup.js';

/** Hatch patterns, defined once per document (see render.ts); bars cycle through them. */
export const BAR_PATTERNS = ['pat-diag', 'pat-dots', 'pat-cross', 'pat-horiz', 'pat-vert', 'pat-back'] as const;

export interface Bar {
  key: string;
  value: number;
  share: number;
}

/** Largest first; ties by name so the order is stable. */
export function planBars(counts: Record<string, number>): Bar[] {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return Object.entries(counts)
    .sort(([ka, a], [kb, b]) => b - a || ka.localeCompare(kb))
    .map(([key, value]) => ({ key, value, share: total > 0 ? value / total : 0 }));
}

/** `width` in px: 560 for a scenario's own section, less for a cell of the side-by-side table. */
export function renderBarChart(title: string, chart: string, counts: Record<string, number>, width = 560): string {
  const bars = planBars(counts);
  if (bars.length === 0) {
    return el('figure', { class: 'chart empty', 'data-chart': chart }, el('figcaption', {}, text(title)), el('p', {}, 'no flows'));
  }
  const labelW = Math.min(width * 0.45, Math.max(...bars.map((b) => b.key.length)) * 7.3 + 12);
  const barH = 20;
  const x = scaleLinear().domain([0, Math.max(...bars.map((b) => b.value))]).nice().range([labelW, width - 82]);
  const height = bars.length * (barH + 8) + 28;
  const ticks = x.ticks(width < 400 ? 3 : 4).filter((t) => Number.isInteger(t)).map((t) =>
    el('g', { class: 'tick' }, leaf('line', { x1: x(t), y1: 4, x2: x(t), y2: height - 20 }), el('text', { x: x(t), y: height - 6, 'text-anchor': 'middle' }, text(String(t)))),
  );
  const rows = bars.map((b, i) => {
    const y = 6 + i * (barH + 8);
    const keyShown = b.key.length * 7.3 > labelW - 12 ? `…${b.key.slice(-Math.floor((labelW - 20) / 7.3))}` : b.key;
    return el(
      'g',
      { class: 'bar', 'data-key': b.key, 'data-value': b.value },
      el('title', {}, text(`${b.key}: ${b.value} (${Math.round(b.share * 100)}%)`)),
      el('text', { class: 'bar-key', x: labelW - 8, y: y + 14, 'text-anchor': 'end' }, text(keyShown)),
      leaf('rect', { class: `bar-fill ${BAR_PATTERNS[i % BAR_PATTERNS.length]}`, x: labelW, y, width: Math.max(1, x(b.value) - labelW), height: barH, fill: `url(#${BAR_PATTERNS[i % BAR_PATTERNS.length]})` }),
      el('text', { class: 'bar-value', x: x(b.value) + 4, y: y + 14 }, text(`${b.value} (${Math.round(b.share * 100)}%)`)),
    );
  });
  return el(
    'figure',
    { class: 'chart', 'data-chart': chart },
    el('figcaption', {}, text(title)),
    el('svg', { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${width} ${fmt(height)}`, width, height, role: 'img', 'aria-label': title }, ...ticks, ...rows),
  );
}

export interface HealthSegment {
  from: number;
  to: number;
  state: string;
  reason: string | null;
}

export interface HealthRow {
  target: string;
  segments: HealthSegment[];
}

function targetName(t: DescribeTargetHealth['TargetHealthDescriptions'][number]['Target']): string {
  return t.Port === undefined ? t.Id : `${t.Id}:${t.Port}`;
}

/**
 * Per target, the spans of constant state between polls. A run with only the final
 * describe-target-health (no samples) gives one zero-length span per target at the end.
 */
export function planHealthTimeline(samples: TargetHealthSample[] | undefined, final: DescribeTargetHealth | undefined): { rows: HealthRow[]; end: number } {
  const polls = [...(samples ?? [])].sort((a, b) => a.t - b.t);
  if (polls.length === 0 && final) polls.push({ t: 0, health: final });
  const end = polls.length > 0 ? polls[polls.length - 1]!.t : 0;
  const rows = new Map<string, HealthRow>();
  for (const poll of polls) {
    const seen = new Set<string>();
    for (const d of poll.health.TargetHealthDescriptions) {
      const target = targetName(d.Target);
      seen.add(target);
      const row = rows.get(target) ?? { target, segments: [] };
      rows.set(target, row);
      const last = row.segments[row.segments.length - 1];
      if (last) last.to = poll.t;
      if (!last || last.state !== d.TargetHealth.State) {
        row.segments.push({ from: poll.t, to: poll.t, state: d.TargetHealth.State, reason: d.TargetHealth.Reason ?? null });
      }
    }
    // A target missing from a poll has left the target group: close its span there.
    for (const row of rows.values()) {
      const last = row.segments[row.segments.length - 1];
      if (!seen.has(row.target) && last && last.state !== 'gone') {
        last.to = poll.t;
        row.segments.push({ from: poll.t, to: poll.t, state: 'gone', reason: null });
      }
    }
  }
  return { rows: [...rows.values()], end };
}

const STATE_PATTERN: Record<string, string> = {
  healthy: 'pat-solid',
  initial: 'pat-dots',
  unhealthy: 'pat-cross',
  draining: 'pat-diag',
  unused: 'pat-back',
  unavailable: 'pat-horiz',
  gone: 'pat-none',
};

export function renderHealthTimeline(samples: TargetHealthSample[] | undefined, final: DescribeTargetHealth | undefined): string {
  const { rows, end } = planHealthTimeline(samples, final);
  if (rows.length === 0) return '';
  const labelW = Math.min(260, Math.max(...rows.map((r) => r.target.length)) * 7.3 + 12);
  const width = 720;
  const rowH = 26;
  const x = scaleLinear().domain([0, Math.max(end, 1)]).range([labelW, width - 16]);
  const height = rows.length * rowH + 30;
  const single = (samples ?? []).length === 0;
  const rowsMarkup = rows.map((row, i) => {
    const y = 4 + i * rowH;
    return el(
      'g',
      { class: 'health-row', 'data-target': row.target },
      el('text', { class: 'bar-key', x: labelW - 8, y: y + 15, 'text-anchor': 'end' }, text(row.target)),
      ...row.segments.map((s) => {
        // A lone final snapshot has no duration: it fills the row, labelled as the end state.
        const to = single ? Math.max(end, 1) : s.to;
        const w = Math.max(3, x(to) - x(s.from));
        const pattern = STATE_PATTERN[s.state] ?? 'pat-horiz';
        return el(
          'g',
          { class: 'health-span', 'data-state': s.state, 'data-from': s.from, 'data-to': to },
          el('title', {}, text(`${row.target}: ${s.state}${s.reason ? ` (${s.reason})` : ''} from ${s.from} s to ${to} s`)),
          leaf('rect', { class: `span-fill ${pattern}`, x: x(s.from), y, width: w, height: rowH - 6, fill: `url(#${pattern})` }),
          w > s.state.length * 7 + 6 ? el('text', { class: 'span-label', x: x(s.from) + 4, y: y + 14 }, text(s.state)) : '',
        );
      }),
    );
  });
  const axis = single
    ? el('text', { class: 'axis-note', x: labelW, y: height - 6 }, 'state at the end of the run (no polls recorded during it)')
    : x.ticks(6).map((t) => el('text', { class: 'tick', x: x(t), y: height - 6, 'text-anchor': 'middle' }, text(`${t} s`))).join('');
  const transitions = rows.flatMap((row) =>
    row.segments.map((s, i) => {
      const before = i > 0 ? `${row.segments[i - 1]!.state} → ` : '';
      return el('li', {}, text(`${row.target}: ${before}${s.state}${s.reason ? ` (${s.reason})` : ''} at ${s.from} s`));
    }),
  );
  return el(
    'figure',
    { class: 'chart health', 'data-chart': 'target-health' },
    el('figcaption', {}, 'Target health over the run'),
    el('svg', { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${width} ${fmt(height)}`, width, height, role: 'img', 'aria-label': 'target health timeline' }, ...rowsMarkup, axis),
    el('ul', { class: 'transitions' }, ...transitions),
  );
}
