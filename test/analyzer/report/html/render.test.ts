import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../../analyzer/analyze.js';
import type { ContractReport, ReportFlow, TargetHealthSample } from '../../../../analyzer/report/contract.js';
import { toContractJson } from '../../../../analyzer/report/json.js';
import { renderHtml, type HtmlScenario } from '../../../../analyzer/report/html/index.js';
import { launchChromium, type Browser } from '../../../helpers/chromium.js';

const ARTIFACTS = path.resolve('test-artifacts');

/** Real lab runs: the analyzer's committed captures (fixtures/analyze/<case>, see docs/analyze.md). */
async function fromLabCaptures(cases: string[]): Promise<HtmlScenario[]> {
  return Promise.all(cases.map(async (c) => ({ scenario: c, report: toContractJson(await analyze({ dir: `fixtures/analyze/${c}` })) as ContractReport })));
}

// SAMPLE FIXTURES: hand-written in the CONTRACT.md shape, not captured (see their README).
function handWritten(): HtmlScenario[] {
  const dir = 'fixtures/report/hand-written-sample';
  const read = (f: string) => JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
  const local = read('local-policy.json') as { report: ContractReport; timeline: TargetHealthSample[] };
  return [
    { scenario: 'instance-cluster', report: read('instance-cluster.json') },
    { scenario: 'local-policy', report: local.report, timeline: local.timeline },
    { scenario: 'ip-mode-ppv2', report: read('ip-mode-ppv2.json') },
  ];
}

interface DomArrow {
  direction: string;
  hop: number;
  from: string;
  to: string;
  label: string;
  rewritten: string[];
  lb: boolean;
  ppv2: boolean;
  inside: boolean;
}

interface DomShape {
  scenario: string;
  representative: string;
  flowIds: string[];
  lanes: string[];
  arrows: DomArrow[];
}

/** What the diagram must show for one flow, computed from the report alone. */
function expectedArrows(flow: ReportFlow): Array<Pick<DomArrow, 'direction' | 'hop' | 'from' | 'to' | 'label'>> {
  const request = flow.hops.filter((h) => h.direction !== 'reply');
  const out = request.map((h, i) => ({ direction: 'request', hop: i, from: i === 0 ? '' : request[i - 1]!.point, to: h.point, label: `${h.src} → ${h.dst}` }));
  const given = flow.replyHops ?? flow.hops.filter((h) => h.direction === 'reply');
  if (given.length > 0) {
    given.forEach((h, i) => out.push({ direction: 'reply', hop: i, from: i === 0 ? '' : given[i - 1]!.point, to: h.point, label: `${h.src} → ${h.dst}` }));
  } else {
    const n = request.length;
    for (let j = 0; j < n; j++) {
      const h = request[n - 1 - j]!;
      out.push({ direction: 'reply', hop: j, from: j === 0 ? '' : request[n - j]!.point, to: h.point, label: `${h.dst} → ${h.src}` });
    }
  }
  return out;
}

function pairCounts(arrows: Array<{ direction: string; from: string; to: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of arrows) {
    const key = `${a.direction}: ${a.from || '(sender)'} → ${a.to}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe('renderHtml in headless chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function open(name: string, scenarios: HtmlScenario[]) {
    const html = renderHtml({ reports: scenarios, generatedAt: 'test run' });
    const file = path.join(ARTIFACTS, `${name}.html`);
    writeFileSync(file, html);
    const page = await browser.context.newPage();
    const outside: string[] = [];
    // Self-contained: anything but the file itself is recorded and refused.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url === `file://${file}`) return route.continue();
      outside.push(url);
      return route.abort();
    });
    await page.goto(`file://${file}`);
    return { page, html, outside, file };
  }

  async function readShapes(page: import('playwright-core').Page): Promise<DomShape[]> {
    return page.$$eval('section.scenario figure.path-shape', (figures) =>
      figures.map((fig) => {
        const svg = fig.querySelector('svg.sequence') as SVGSVGElement;
        const box = svg.getBoundingClientRect();
        return {
          scenario: (fig.closest('section') as HTMLElement).dataset.scenario ?? '',
          representative: (fig as HTMLElement).dataset.representative ?? '',
          flowIds: ((fig as HTMLElement).dataset.flowIds ?? '').split(' '),
          lanes: [...svg.querySelectorAll('g.lane')].map((g) => (g as SVGGElement).dataset.lane ?? ''),
          arrows: [...svg.querySelectorAll('g.arrow')].map((g) => {
            const d = (g as SVGGElement).dataset;
            const texts = [...g.querySelectorAll('text')].map((t) => t.getBoundingClientRect());
            return {
              direction: d.direction ?? '',
              hop: Number(d.hop),
              from: d.from ?? '',
              to: d.to ?? '',
              label: g.querySelector('text.label')?.textContent ?? '',
              rewritten: [...g.querySelectorAll('tspan.rw')].map((t) => t.textContent ?? ''),
              lb: g.querySelector('.lb-marker') !== null,
              ppv2: g.querySelector('.ppv2-marker') !== null,
              inside: texts.every((r) => r.left >= box.left - 0.5 && r.right <= box.right + 0.5),
            };
          }),
        };
      }),
    );
  }

  function checkAgainstReports(shapes: DomShape[], scenarios: HtmlScenario[]) {
    for (const s of scenarios) {
      const name = s.scenario ?? s.report.scenario ?? '';
      const mine = shapes.filter((d) => d.scenario === name);
      // Every flow is drawn in exactly one path shape.
      expect(mine.flatMap((d) => d.flowIds).sort()).toEqual(s.report.flows.map((f) => f.id).sort());
      for (const shape of mine) {
        const flow = s.report.flows.find((f) => f.id === shape.representative)!;
        const expected = expectedArrows(flow);
        expect(pairCounts(shape.arrows)).toEqual(pairCounts(expected));
        expect(shape.arrows.map(({ direction, hop, from, to, label }) => ({ direction, hop, from, to, label }))).toEqual(expected);
        expect(shape.arrows.every((a) => a.inside)).toBe(true);
        expect(shape.arrows.filter((a) => a.lb)).toHaveLength(flow.verdict.lbDecisions);
        expect(shape.arrows.filter((a) => a.ppv2)).toHaveLength(flow.hops.filter((h) => h.ppv2).length);
        // Each lane is a capture point the flow crossed.
        expect(new Set(shape.lanes)).toEqual(new Set(expected.map((a) => a.to)));
      }
    }
  }

  it('draws one arrow per hop with the analysis\'s addresses: real lab captures, scenarios side by side', async () => {
    const scenarios = await fromLabCaptures(['instance-cluster', 'local-policy', 'ppv2-proxy', 'vxlan']);
    const { page, outside } = await open('report-lab-captures', scenarios);
    const shapes = await readShapes(page);
    expect(shapes.length).toBeGreaterThanOrEqual(scenarios.length);
    checkAgainstReports(shapes, scenarios);
    // The lessons, read off the page: instance+Cluster loses the client IP, Local keeps it, PPv2 carries it.
    const verdicts = await page.$$eval('table.compare tr.verdict-row td', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(verdicts.map((v) => v.split(' ')[0])).toEqual(['lost', 'peer', 'ppv2', 'lost']);
    // PPv2 markers sit on the proxied hops of the ppv2 scenario only.
    const ppv2Arrows = shapes.flatMap((d) => d.arrows.filter((a) => a.ppv2).map(() => d.scenario));
    expect(new Set(ppv2Arrows)).toEqual(new Set(['ppv2-proxy']));
    // The VXLAN hop names its outer addresses, node to node.
    const encap = await page.$$eval('section[data-scenario="vxlan"] g.arrow[data-translation="encap"] text.what', (ts) => ts.map((t) => t.textContent));
    expect(encap.length).toBeGreaterThan(0);
    for (const what of encap) expect(what).toMatch(/\[outer: vxlan 172\.18\.0\.\d+ → 172\.18\.0\.\d+\]/);
    expect(outside).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    await page.screenshot({ path: path.join(ARTIFACTS, 'report-lab-captures.png'), fullPage: true });
    await page.close();
  });

  it('draws one arrow per hop with the report\'s addresses (hand-written sample reports)', async () => {
    const scenarios = handWritten();
    const { page, html, outside } = await open('report-sample', scenarios);
    const shapes = await readShapes(page);
    expect(shapes.length).toBe(5);
    checkAgainstReports(shapes, scenarios);

    // Rewritten fields are marked in the label itself: NLB DNAT rewrites the destination only.
    const cluster = shapes.find((d) => d.scenario === 'instance-cluster' && d.representative === 'f1')!;
    const atNlb = cluster.arrows.find((a) => a.direction === 'request' && a.to === 'nlb-a')!;
    expect(atNlb.rewritten).toEqual(['172.18.0.3', '31234']);

    // Side by side: one column per scenario, the verdict row reads the summaries.
    const verdicts = await page.$$eval('table.compare tr.verdict-row td', (tds) => tds.map((td) => td.textContent));
    expect(verdicts).toEqual(['lost 6 of 6', 'peer 4 of 4', 'ppv2 4 of 4']);
    // Bar charts carry the summary's numbers.
    const bars = await page.$$eval('section.scenario[data-scenario="instance-cluster"] figure[data-chart="source-seen"] g.bar', (gs) =>
      gs.map((g) => [(g as SVGGElement).dataset.key, Number((g as SVGGElement).dataset.value)]),
    );
    expect(Object.fromEntries(bars)).toEqual(scenarios[0]!.report.summary.sourceSeenByBackend);
    // The timeline shows each target's states in order.
    const spans = await page.$$eval('section[data-scenario="local-policy"] figure[data-chart="target-health"] g.health-row', (rows) =>
      rows.map((r) => [(r as SVGGElement).dataset.target, [...r.querySelectorAll('g.health-span')].map((s) => (s as SVGGElement).dataset.state)]),
    );
    expect(spans).toEqual([
      ['i-worker:31234', ['initial', 'unhealthy']],
      ['i-worker2:31234', ['initial', 'healthy', 'draining', 'gone']],
    ]);

    // Self-contained and sensible at 1280 px: no requests, no script, no horizontal scroll.
    expect(outside).toEqual([]);
    expect(html).not.toMatch(/<script|<link|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    await page.screenshot({ path: path.join(ARTIFACTS, 'report-sample.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    const pdf = await page.pdf({ format: 'A4', landscape: true });
    writeFileSync(path.join(ARTIFACTS, 'report-sample.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await page.close();
  });
});
