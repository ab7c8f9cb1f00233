import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../analyzer/analyze.js';
import { decodeFile, recordToContract } from '../../../analyzer/decode/index.js';
import type { AnalysisResult } from '../../../analyzer/hops/types.js';
import { annotate } from '../../../analyzer/report/annotate.js';
import { pcapngPointsFor, writeExtraReports } from '../../../analyzer/report/extra.js';
import type { PointInfo } from '../../../analyzer/hops/types.js';
import { toContractJson } from '../../../analyzer/report/json.js';
import { run } from '../../../cluster/exec/exec.js';
import { launchChromium } from '../../helpers/chromium.js';
import { captureMiniInstancePath } from '../../helpers/mini-path.js';
import { TestNetns } from '../../helpers/netns.js';

const ARTIFACTS = path.resolve('test-artifacts');
const REQUESTS = 4;

/**
 * Writes the annotated pcapng for `result` and checks, with tshark and with netlab's decoder, that
 * every hop of every flow (request and reply) has its comment on a packet of its point whose
 * addresses are that hop's, that tshark prints no warning, and that every point is one interface.
 */
async function checkAnnotatedPcapng(result: AnalysisResult, baseDir: string, out: string): Promise<number> {
  const written = await writeExtraReports(result, { pcapng: out, baseDir });
  expect(written.pcapng!.unmatched).toEqual([]);

  const t = await run('tshark', ['-n', '-r', out, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=|',
    '-e', 'frame.number', '-e', 'frame.interface_name', '-e', 'frame.comment', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.dstport']);
  expect(t.stderr.split('\n').filter((l) => l.trim() && !/^Running as user "root"/.test(l))).toEqual([]);
  const frames = t.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));

  // netlab's decoder does not surface opt_comment: its packets pair with tshark's by frame number.
  // A tunnelled packet is compared by its inner addresses, as the analysis reports them.
  type Addrs = { src: string; dst: string; sport: number; dport: number };
  const decoded: Array<{ iface: number; addr: string }> = [];
  const summary = await decodeFile(out, (rec) => {
    const outer = recordToContract(rec) as Addrs & { inner: Addrs | null };
    const c = outer.inner ?? outer;
    decoded.push({ iface: rec.interfaceId, addr: `${c.src}:${c.sport} → ${c.dst}:${c.dport}` });
  });
  expect(decoded).toHaveLength(frames.length);
  expect(summary.interfaces.map((i) => i.name).sort()).toEqual(result.points.map((p) => p.name).sort());

  // Comment → the packets carrying it (a PPv2 comment repeats at every point the header passes).
  const byTshark = new Map<string, Array<{ iface: string; addr: string }>>();
  const byDecoder = new Map<string, Array<{ iface: string; addr: string }>>();
  const add = (m: typeof byTshark, c: string, v: { iface: string; addr: string }) => m.set(c, [...(m.get(c) ?? []), v]);
  const innermost = (field: string | undefined) => (field ?? '').split('|').at(-1);
  frames.forEach(([, iface, comments, sip, sport, dip, dport], i) => {
    for (const c of comments ? comments.split('|') : []) {
      add(byTshark, c, { iface: iface!, addr: `${innermost(sip)}:${sport} → ${innermost(dip)}:${dport}` });
      add(byDecoder, c, { iface: summary.interfaces.find((x) => x.id === decoded[i]!.iface)?.name ?? '', addr: decoded[i]!.addr });
    }
  });

  const annotations = annotate(result);
  let checked = 0;
  for (const f of result.flows) {
    for (const [list, reply] of [[f.hops, false], [f.replyHops, true]] as const) {
      list.forEach((h, i) => {
        const prefix = `${f.id}${reply ? ' reply' : ''} hop ${i + 1}:`;
        const a = annotations.find((x) => x.point === h.point && x.comment.startsWith(prefix));
        expect(a, `${prefix} at ${h.point}`).toBeDefined();
        for (const seen of [byTshark.get(a!.comment), byDecoder.get(a!.comment)]) {
          expect(seen, a!.comment).toEqual([{ iface: h.point, addr: `${h.src} → ${h.dst}` }]);
        }
        checked++;
      });
      for (const h of list.filter((x) => x.ppv2)) {
        const a = annotations.find((x) => x.point === h.point && x.n === h.ppv2!.n && x.comment.startsWith(`${f.id}: PPv2`));
        expect(byTshark.get(a!.comment)?.map((x) => x.iface), a!.comment).toContain(h.point);
      }
    }
  }
  return checked;
}

describe('pcapngPointsFor', () => {
  const point = (over: Partial<PointInfo>): PointInfo => ({
    name: 'x', role: 'node', node: null, pod: null, namespace: null, interface: null, file: 'x.pcap', part: null,
    linktype: 1, actor: 'kube-proxy', host: 'x', packets: 1, ...over,
  });

  it('reads each point from its file, keeping only its part of a shared -i any or multi-interface file', () => {
    const points = pcapngPointsFor(
      {
        points: [
          point({ name: 'client', role: 'client', file: 'client.pcap' }),
          point({ name: 'worker:eth0', node: 'worker', interface: 'eth0', file: 'worker.pcap', linktype: 276, part: 2 }),
          point({ name: 'worker:veth-a', node: 'worker', interface: 'veth-a', file: 'worker.pcap', linktype: 276, part: 5 }),
          point({ name: 'gw', file: 'gw.pcapng', part: null }),
          point({ name: 'gw:if1', file: 'gw.pcapng', part: 1 }),
        ],
      } as AnalysisResult,
      '/caps',
    );
    expect(points.map(({ name, file, ifindex, interfaceId }) => ({ name, file, ifindex, interfaceId }))).toEqual([
      { name: 'client', file: '/caps/client.pcap', ifindex: null, interfaceId: null },
      { name: 'worker:eth0', file: '/caps/worker.pcap', ifindex: 2, interfaceId: null },
      { name: 'worker:veth-a', file: '/caps/worker.pcap', ifindex: 5, interfaceId: null },
      // The analyzer leaves a multi-interface pcapng's interface 0 unsplit: it is that point's part.
      { name: 'gw', file: '/caps/gw.pcapng', ifindex: null, interfaceId: 0 },
      { name: 'gw:if1', file: '/caps/gw.pcapng', ifindex: null, interfaceId: 1 },
    ]);
  });
});

describe.each(['instance-cluster', 'local-policy', 'ppv2-proxy', 'vxlan', 'dnat-only'])('annotated pcapng of the lab captures in fixtures/analyze/%s', (name) => {
  it('has every hop comment on the right packet, per tshark and netlab decode', async () => {
    const dir = `fixtures/analyze/${name}`;
    const result = await analyze({ dir });
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'netlab-annotated-')), `${name}.pcapng`);
    try {
      const checked = await checkAnnotatedPcapng(result, dir, out);
      expect(checked).toBeGreaterThanOrEqual(result.flows.length * 4);
    } finally {
      rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });
});

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
    await checkAnnotatedPcapng(result, dir, out);
    copyFileSync(out, path.join(ARTIFACTS, 'mini-instance.annotated.pcapng'));
  });

  it('netlab analyze DIR --html F --pcapng F writes both and says so on stderr', async () => {
    const html = path.join(dir, 'cli.html');
    const pcapng = path.join(dir, 'cli.pcapng');
    const r = await run('node', ['dist/cli/main.js', 'analyze', dir, '--html', html, '--pcapng', pcapng], { allowFailure: true });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(`netlab: wrote ${html}`);
    expect(r.stderr).toMatch(new RegExp(`netlab: wrote ${pcapng} \\(\\d+ packets on 5 interfaces, \\d+ with hop comments\\)`));
    expect(readFileSync(html, 'utf8')).toContain('<svg class="sequence"');
    const bad = await run('node', ['dist/cli/main.js', 'analyze', dir, '--pcapng', path.join(dir, 'no-such-dir', 'x.pcapng')], { allowFailure: true });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split('\n').at(-1)).toMatch(/^netlab: cannot write .*x\.pcapng: ENOENT — choose a writable path for --pcapng$/);
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
