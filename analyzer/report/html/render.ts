/**
 * The HTML report: one self-contained file (inline CSS and SVG, no script, no fetches) with a
 * sequence diagram per path shape, the scenarios side by side, distribution bar charts and the
 * target-health timeline. Everything is drawn here from the CONTRACT.md JSON.
 */
import type { ContractReport, DescribeTargetHealth, ReportFlow, TargetHealthSample } from '../contract.js';
import { renderBarChart, renderHealthTimeline } from './charts.js';
import { el, leaf, slug, text } from './markup.js';
import { describeArrow } from './sequence-svg.js';
import { renderSequenceSvg } from './sequence-svg.js';
import { planPathShapes, type PathShape } from './sequence.js';
import { CSS, patternDefs } from './style.js';

export interface HtmlScenario {
  /** Heading; defaults to the scenario name, then "analysis N". */
  title?: string;
  scenario?: string;
  report: ContractReport;
  /** describe-target-health at the end of the run (defaults to `report.targetHealth`). */
  targetHealth?: DescribeTargetHealth;
  /** describe-target-health polled during the run. */
  timeline?: TargetHealthSample[];
}

export interface HtmlReportInput {
  title?: string;
  reports: HtmlScenario[];
  /** Shown in the header; pass a fixed string for reproducible output. */
  generatedAt?: string;
}

const VERDICT_ORDER = ['peer', 'ppv2', 'xff', 'lost'];

function titleOf(s: HtmlScenario, i: number): string {
  return s.title ?? s.scenario ?? s.report.scenario ?? `analysis ${i + 1}`;
}

/** The dominant client-IP verdict in words, e.g. "lost" with "100 of 100 flows". */
function verdictWords(report: ContractReport): string {
  const counts = report.summary.clientIpAtBackend;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a, na], [b, nb]) => nb - na || VERDICT_ORDER.indexOf(a) - VERDICT_ORDER.indexOf(b))
    .map(([k, n]) => `${el('span', { class: `verdict-word ${k}` }, text(k))} ${n} of ${total}`);
  return parts.length > 0 ? parts.join(', ') : 'no flows';
}

function meaning(verdict: string): string {
  switch (verdict) {
    case 'peer':
      return 'the backend sees the client IP as its TCP peer';
    case 'ppv2':
      return 'the client IP reaches the backend in a PROXY v2 header';
    case 'xff':
      return 'the client IP reaches the backend in X-Forwarded-For';
    case 'lost':
      return 'the backend does not see the client IP';
    default:
      return verdict;
  }
}

function lbDecisionText(flows: ReportFlow[]): string {
  const values = [...new Set(flows.map((f) => f.verdict.lbDecisions))].sort((a, b) => a - b);
  return values.length === 0 ? '–' : values.join(' or ');
}

function pathText(shape: PathShape): string {
  return shape.arrows
    .filter((a) => a.direction === 'request')
    .map((a) => (a.from === null ? a.to : `${a.to} [${describeArrow({ ...a, ppv2: a.ppv2 ? 'PPv2' : null })}]`))
    .join(' → ');
}

function mainShape(shapes: PathShape[]): PathShape | undefined {
  return [...shapes].sort((a, b) => b.flowIds.length - a.flowIds.length)[0];
}

function legend(): string {
  return el(
    'div',
    { class: 'legend' },
    el('strong', {}, 'How to read the diagrams: '),
    'one lane per capture point; each arrow is the same packet arriving at the next point, labelled ',
    el('code', {}, 'src → dst'),
    ' as captured there. Solid arrows: request; dashed: reply (dotted = derived from the request). ',
    el('span', { class: 'sample-rw' }, 'Bold underlined'),
    ' = a field rewritten at that hop. ◆ = load-balancing decision. ▣ PPv2 = a PROXY protocol v2 header on that packet.',
  );
}

function hopTable(shape: PathShape): string {
  const row = (a: PathShape['arrows'][number]) =>
    el(
      'tr',
      {},
      el('td', {}, text(a.direction)),
      el('td', {}, text(String(a.hop))),
      el('td', {}, text(a.to)),
      el('td', { class: 'mono' }, text(`${a.src.ip}${a.src.port === null ? '' : `:${a.src.port}`}`)),
      el('td', { class: 'mono' }, text(`${a.dst.ip}${a.dst.port === null ? '' : `:${a.dst.port}`}`)),
      el('td', {}, text(describeArrow(a))),
    );
  return el(
    'details',
    { class: 'hop-table' },
    el('summary', {}, 'hops as a table'),
    el('table', {}, el('thead', {}, el('tr', {}, ...['direction', 'hop', 'point', 'source', 'destination', 'what happened'].map((h) => el('th', {}, h)))), el('tbody', {}, ...shape.arrows.map(row))),
  );
}

function flowList(ids: string[]): string {
  return ids.length <= 12 ? ids.join(', ') : `${ids.slice(0, 12).join(', ')} … (+${ids.length - 12})`;
}

function scenarioSection(s: HtmlScenario, i: number, shapes: PathShape[]): string {
  const report = s.report;
  const title = titleOf(s, i);
  const id = `s${i}-${slug(title)}`;
  const figures = shapes.map((shape, k) => {
    const v = shape.representative.verdict;
    const b = shape.representative.backend;
    return el(
      'figure',
      { class: 'path-shape', 'data-shape': k, 'data-representative': shape.representative.id, 'data-flow-ids': shape.flowIds.join(' ') },
      el(
        'figcaption',
        {},
        text(`Path ${k + 1}${shape.representative.healthCheck ? ' (load-balancer health checks)' : ''}: ${shape.flowIds.length} flow${shape.flowIds.length === 1 ? '' : 's'} (${flowList(shape.flowIds)}); showing ${shape.representative.id}`),
        leaf('br'),
        el('span', { class: 'note' }, text(`client IP at backend: ${v.clientIpAtBackend} — ${meaning(v.clientIpAtBackend)}; LB decisions: ${v.lbDecisions}; cross-node: ${v.crossNode ? 'yes' : 'no'}${b?.pod ? `; backend pod ${b.pod}${b.node ? ` on ${b.node}` : ''}` : ''}`)),
      ),
      renderSequenceSvg(shape, report.points, `${id}-p${k}`),
      hopTable(shape),
    );
  });
  const health = renderHealthTimeline(s.timeline, s.targetHealth ?? report.targetHealth);
  return el(
    'section',
    { class: 'scenario', id, 'data-scenario': title },
    el('h2', { class: i === 0 ? 'first' : null }, text(title)),
    el('p', {}, `${report.summary.flows} flows${text(healthCheckNote(report))}. Client IP at the backend: ${verdictWords(report)}.`),
    ...figures,
    el('h3', {}, 'Distribution'),
    el(
      'div',
      { class: 'charts' },
      renderBarChart('Backend pods (requests per pod)', 'backends', report.summary.backends),
      renderBarChart('Source IP seen by the backend', 'source-seen', report.summary.sourceSeenByBackend),
    ),
    health ? el('h3', {}, 'Target health') + health : '',
  );
}

const clientFlows = (report: ContractReport) => report.flows.filter((f) => !f.healthCheck);

function healthCheckNote(report: ContractReport): string {
  const n = report.flows.length - clientFlows(report).length;
  return n > 0 ? ` (+ ${n} health-check connection${n === 1 ? '' : 's'})` : '';
}

function comparison(scenarios: HtmlScenario[], shapes: PathShape[][]): string {
  // Charts sized for their cell, so their text stays at reading size instead of being scaled down.
  const cellWidth = Math.max(240, Math.min(560, Math.floor(1060 / scenarios.length) - 16));
  const head = el('tr', {}, el('th', { style: 'width:150px' }, ''), ...scenarios.map((s, i) => el('th', { 'data-scenario': titleOf(s, i) }, text(titleOf(s, i)))));
  const row = (label: string, cls: string, cells: string[]) =>
    el('tr', { class: cls }, el('th', {}, text(label)), ...cells.map((c) => el('td', {}, c)));
  const shapeOf = (i: number) => mainShape(shapes[i]!);
  return el(
    'section',
    { id: 'comparison' },
    el('h2', { class: 'first' }, 'Side by side'),
    el(
      'table',
      { class: 'compare' },
      el('thead', {}, head),
      el(
        'tbody',
        {},
        row('verdict: client IP at backend', 'verdict-row', scenarios.map((s) => verdictWords(s.report))),
        row('LB decisions per flow', 'lb-row', scenarios.map((s) => text(lbDecisionText(clientFlows(s.report))))),
        row('cross-node flows', 'cross-row', scenarios.map((s) => {
          const flows = clientFlows(s.report);
          return text(`${flows.filter((f) => f.verdict.crossNode).length} of ${flows.length}${healthCheckNote(s.report)}`);
        })),
        row('most common path', 'path-row', scenarios.map((_, i) => {
          const shape = mainShape(shapes[i]!.filter((sh) => !sh.representative.healthCheck)) ?? shapeOf(i);
          return shape ? el('span', { class: 'mono' }, text(pathText(shape))) : '–';
        })),
        row('backend pods', 'backends-row', scenarios.map((s) => renderBarChart('requests per pod', 'backends', s.report.summary.backends, cellWidth))),
        row('source IP seen by backend', 'source-row', scenarios.map((s) => renderBarChart('source IP', 'source-seen', s.report.summary.sourceSeenByBackend, cellWidth))),
      ),
    ),
  );
}

/** Renders one self-contained HTML document for one or more analyses. */
export function renderHtml(input: HtmlReportInput): string {
  const title = input.title ?? (input.reports.length === 1 ? `netlab: ${titleOf(input.reports[0]!, 0)}` : 'netlab: scenarios compared');
  const shapes = input.reports.map((s) => planPathShapes(s.report));
  const nav =
    input.reports.length > 1
      ? el('nav', {}, el('ul', {}, el('li', {}, el('a', { href: '#comparison' }, 'side by side')), ...input.reports.map((s, i) => el('li', {}, el('a', { href: `#s${i}-${slug(titleOf(s, i))}` }, text(titleOf(s, i)))))))
      : '';
  const body = [
    patternDefs(),
    el('header', {}, el('h1', {}, text(title)), input.generatedAt ? el('p', { class: 'note' }, text(`generated ${input.generatedAt} by netlab`)) : ''),
    nav,
    legend(),
    input.reports.length > 1 ? comparison(input.reports, shapes) : '',
    ...input.reports.map((s, i) => scenarioSection(s, i, shapes[i]!)),
  ];
  return `<!doctype html>\n${el(
    'html',
    { lang: 'en' },
    el('head', {}, leaf('meta', { charset: 'utf-8' }), leaf('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }), el('title', {}, text(title)), el('style', {}, CSS)),
    el('body', {}, ...body),
  )}\n`;
}
