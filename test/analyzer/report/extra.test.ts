import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../analyzer/analyze.js';
import { decodeFile, recordToContract } from '../../../analyzer/decode/index.js';
import type { AnalysisResult } from '../../../analyzer/hops/types.js';
import { annotate } from '../../../analyzer/report/annotate.js';
import { writeExtraReports } from '../../../analyzer/report/extra.js';
import { toContractJson } from '../../../analyzer/report/json.js';
import { run } from '../../../cluster/exec/exec.js';
import { launchChromium } from '../../helpers/chromium.js';
import { captureMiniInstancePath } from '../../helpers/mini-path.js';
import { TestNetns } from '../../helpers/netns.js';

const ARTIFACTS = path.resolve('test-artifacts');
const REQUESTS = 4;

describe('writeExtraReports on a real lab run (client → nlb DNAT → node DNAT+SNAT → pod)', () => {
  const lab = new TestNetns();
  const dir = mkdtempSync(path.join(tmpdir(), 'netlab-extra-'));
  let result: AnalysisResult;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await captureMiniInstancePath(lab, dir, REQUESTS);
    result = await analyze({ dir });
    writeFileSync(path.join(ARTIFACTS, 'mini-instance.report.json'), `${JSON.stringify(toContractJson(result), null, 2)}\n`);
  });

  afterAll(async () => {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the analysis sees the lesson: two DNATs, SNAT at the node, the pod loses the client IP', () => {
    const clientFlows = result.flows.filter((f) => !f.healthCheck);
    expect(clientFlows).toHaveLength(REQUESTS);
    for (const f of clientFlows) {
      expect(f.hops.map((h) => h.translation).filter((t) => t.includes('nat'))).toEqual(['dnat', 'dnat+snat']);
      expect(f.verdict.clientIpAtBackend).toBe('lost');
    }
  });

  it('the pcapng carries every hop comment on the packet with that hop\'s addresses, per tshark and netlab decode', async () => {
    const out = path.join(dir, 'annotated.pcapng');
    const written = await writeExtraReports(result, { pcapng: out, baseDir: dir });
    expect(written.pcapng!.unmatched).toEqual([]);
    copyFileSync(out, path.join(ARTIFACTS, 'mini-instance.annotated.pcapng'));

    const t = await run('tshark', ['-n', '-r', out, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=|',
      '-e', 'frame.number', '-e', 'frame.interface_name', '-e', 'frame.comment', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.dstport']);
    expect(t.stderr.split('\n').filter((l) => l.trim() && !/^Running as user "root"/.test(l))).toEqual([]);
    const byTshark = new Map<string, { iface: string; addr: string }>();
    for (const line of t.stdout.split('\n').filter(Boolean)) {
      const [, iface, comments, sip, sport, dip, dport] = line.split('\t');
      for (const c of comments ? comments.split('|') : []) byTshark.set(c, { iface: iface!, addr: `${sip}:${sport} → ${dip}:${dport}` });
    }

    const byDecoder = new Map<string, { iface: string; addr: string }>();
    const comments: Array<{ ifaceId: number; comments: string[]; addr: string }> = [];
    const summary = await decodeFile(out, (rec) => {
      const c = recordToContract(rec) as { src: string; dst: string; sport: number; dport: number };
      comments.push({ ifaceId: rec.interfaceId, comments: [], addr: `${c.src}:${c.sport} → ${c.dst}:${c.dport}` });
    });
    // netlab's decoder does not surface opt_comment: pair its packets with tshark's by frame number.
    const frames = t.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
    expect(frames).toHaveLength(comments.length);
    frames.forEach((f, i) => {
      for (const c of f[2] ? f[2].split('|') : []) {
        const name = summary.interfaces.find((x) => x.id === comments[i]!.ifaceId)?.name ?? '';
        byDecoder.set(c, { iface: name, addr: comments[i]!.addr });
      }
    });

    const annotations = annotate(result);
    expect(annotations.length).toBeGreaterThanOrEqual(REQUESTS * 4);
    let checked = 0;
    for (const f of result.flows) {
      for (const [list, reply] of [[f.hops, false], [f.replyHops, true]] as const) {
        list.forEach((h, i) => {
          const prefix = `${f.id}${reply ? ' reply' : ''} hop ${i + 1}:`;
          const a = annotations.find((x) => x.point === h.point && x.comment.startsWith(prefix));
          expect(a, `${prefix} at ${h.point}`).toBeDefined();
          for (const seen of [byTshark.get(a!.comment), byDecoder.get(a!.comment)]) {
            expect(seen, a!.comment).toEqual({ iface: h.point, addr: `${h.src} → ${h.dst}` });
          }
          checked++;
        });
      }
    }
    expect(checked).toBeGreaterThanOrEqual(REQUESTS * 8);
    // The worker's -i any capture became two interfaces, as the analysis split it.
    expect(summary.interfaces.map((i) => i.name).sort()).toEqual(result.points.map((p) => p.name).sort());
  });

  it('the HTML draws each flow\'s hops as arrows with the analysis\'s addresses, in headless chromium', async () => {
    const html = path.join(ARTIFACTS, 'mini-instance.html');
    await writeExtraReports(result, { html, scenario: 'mini-instance (live lab run)' });
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const outside: string[] = [];
      await page.route('**/*', (route) => {
        if (route.request().url() === `file://${html}`) return route.continue();
        outside.push(route.request().url());
        return route.abort();
      });
      await page.goto(`file://${html}`);
      const figures = await page.$$eval('figure.path-shape', (figs) =>
        figs.map((fig) => ({
          representative: (fig as HTMLElement).dataset.representative,
          flowIds: ((fig as HTMLElement).dataset.flowIds ?? '').split(' '),
          arrows: [...fig.querySelectorAll('svg.sequence g.arrow')].map((g) => ({
            direction: (g as SVGGElement).dataset.direction,
            from: (g as SVGGElement).dataset.from,
            to: (g as SVGGElement).dataset.to,
            label: g.querySelector('text.label')?.textContent,
          })),
        })),
      );
      expect(figures.flatMap((f) => f.flowIds).sort()).toEqual(result.flows.map((f) => f.id).sort());
      for (const fig of figures) {
        const flow = result.flows.find((f) => f.id === fig.representative)!;
        const expected = [
          ...flow.hops.map((h, i) => ({ direction: 'request', from: i === 0 ? '' : flow.hops[i - 1]!.point, to: h.point, label: `${h.src} → ${h.dst}` })),
          ...flow.replyHops.map((h, i) => ({ direction: 'reply', from: i === 0 ? '' : flow.replyHops[i - 1]!.point, to: h.point, label: `${h.src} → ${h.dst}` })),
        ];
        expect(fig.arrows).toEqual(expected);
      }
      const verdict = await page.$eval('section.scenario > p', (p) => p.textContent);
      expect(verdict).toContain(`lost ${REQUESTS} of ${REQUESTS}`);
      expect(outside).toEqual([]);
      await page.screenshot({ path: path.join(ARTIFACTS, 'mini-instance.png'), fullPage: true });
      expect(readFileSync(path.join(ARTIFACTS, 'mini-instance.png')).length).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
