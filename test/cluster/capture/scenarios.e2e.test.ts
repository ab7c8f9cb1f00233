/**
 * Every scenario of the catalogue, end to end on a real lab: real namespaces, kube-proxy rules,
 * NLB emulator, MetalLB, real HTTP requests and real captures. Each lesson is asserted from the
 * analyzed packets (the report), not from the scenario's configuration.
 */
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFlows } from '../../../analyzer/report/contract.js';
import { runCapture, type CaptureRun } from '../../../cluster/capture/run.js';
import { NetnsProvider } from '../../../cluster/netns/provider.js';
import { DEFAULT_TIME_SCALE } from '../../../cluster/scenarios/catalog.js';
import { renderCompare } from '../../../analyzer/report/compare.js';
import { writeExtraReports } from '../../../analyzer/report/extra.js';
import { readFile } from 'node:fs/promises';

const LAB = `e2e${randomBytes(2).toString('hex')}`;
const REQUESTS = 50;
const root = process.getuid?.() === 0;

describe.skipIf(!root)('scenario catalogue end to end', () => {
  const outDirs: string[] = [];
  const runs = new Map<string, CaptureRun>();
  beforeAll(async () => {
    await new NetnsProvider().up({ name: LAB, nodes: 4, zones: ['a', 'b'], timeScale: DEFAULT_TIME_SCALE });
  });
  afterAll(async () => {
    await new NetnsProvider().down(LAB);
    // NETLAB_E2E_KEEP=1 keeps every run's captures and reports (to study a failure).
    if (!process.env.NETLAB_E2E_KEEP) for (const d of outDirs) await rm(d, { recursive: true, force: true });
  });

  // Every lesson is captured twice — tcpdump in every namespace and one eBPF probe — and both
  // captures must show the same paths and verdicts (issue 7): pods born mid-run (readiness-gate,
  // drain) are traced from the moment their namespace is made, and the gateway's
  // X-Forwarded-For is read from the request head the probe keeps for gateway scenarios.
  const BOTH = new Set(['local-policy', 'instance-cluster', 'ip-mode', 'ip-mode-ppv2', 'metallb-cluster', 'metallb-local', 'readiness-gate', 'drain', 'gateway-xff', 'nodeport', 'clusterip']);

  async function capture(scenario: string, requests = REQUESTS): Promise<CaptureRun> {
    const outDir = path.join(os.tmpdir(), `${LAB}-${scenario}`);
    outDirs.push(outDir);
    const r = await runCapture({ scenario, lab: LAB, requests, outDir, source: BOTH.has(scenario) ? 'both' : 'pcap' });
    if (BOTH.has(scenario)) {
      expect(r.ebpf?.agreesWithPcap, `${scenario} (${outDir}, ${r.ebpf?.lateEvents} events out of order, ${r.ebpf?.lost} lost): eBPF vs pcap: ${r.ebpf?.differences.join('; ')}`).toBe(true);
      expect(r.ebpf?.events).toBeGreaterThan(requests * 10);
    }
    expect(r.checks.filter((c) => !c.ok), `${scenario}: ${r.verdict}`).toEqual([]);
    expect(r.requests.answered).toBe(requests);
    expect(r.captures.filter((c) => c.dropped !== 0).map((c) => `${c.point}: ${c.dropped} dropped`), `${scenario}: tcpdump drops`).toEqual([]);
    runs.set(scenario, r);
    return r;
  }

  it('local-policy: one decision, client IP kept, the pod-less node unhealthy (503)', async () => {
    const r = await capture('local-policy');
    const flows = clientFlows(r.report);
    expect(flows.every((f) => f.verdict.clientIpAtBackend === 'peer' && f.verdict.lbDecisions === 1 && !f.verdict.crossNode)).toBe(true);
    expect(Object.keys(r.report.summary.sourceSeenByBackend)).toEqual(['198.51.100.10']);
    const unhealthy = r.report.targetHealth!.TargetHealthDescriptions.filter((t) => t.TargetHealth.State === 'unhealthy');
    expect(unhealthy.map((t) => t.TargetHealth.Reason)).toEqual(['Target.ResponseCodeMismatch']);
    // The NLB DNATs to a node's NodePort, then kube-proxy DNATs to the local pod: no SNAT anywhere.
    const steps = flows[0]!.hops.map((h) => `${h.translation}/${h.by ?? ''}`);
    expect(steps.filter((s) => s.startsWith('dnat'))).toHaveLength(2);
    expect(steps.some((s) => s.includes('snat'))).toBe(false);
    // Both pods serve: the client resolves both zonal addresses.
    expect(Object.keys(r.requests.hostnames)).toHaveLength(2);
    // --html / --pcapng of a real run: the health timeline polled during it, every hop comment placed.
    expect(r.timeline.length).toBeGreaterThan(0);
    const html = path.join(r.outDir, 'report.html');
    const written = await writeExtraReports(r.analysis, { html, pcapng: path.join(r.outDir, 'merged.pcapng'), baseDir: r.outDir, scenario: 'local-policy', targetHealth: r.report.targetHealth, timeline: r.timeline });
    expect(written.pcapng!.commented).toBeGreaterThan(REQUESTS * 4);
    expect(written.pcapng!.unmatched).toEqual([]);
    const page = await readFile(html, 'utf8');
    expect(page).toContain('target health timeline');
    expect(page).toContain('unhealthy');
  });

  it('instance-cluster: two decisions, SNAT at the node, client IP lost', async () => {
    const r = await capture('instance-cluster');
    const flows = clientFlows(r.report);
    expect(flows.every((f) => f.verdict.clientIpAtBackend === 'lost' && f.verdict.lbDecisions === 2)).toBe(true);
    expect(flows.some((f) => f.hops.some((h) => h.translation.includes('snat') && h.by === 'kube-proxy'))).toBe(true);
    expect(r.report.summary.sourceSeenByBackend['198.51.100.10']).toBeUndefined();
  });

  it('ip-mode: straight to the pod from the NLB private IP', async () => {
    const r = await capture('ip-mode');
    for (const src of Object.keys(r.report.summary.sourceSeenByBackend)) expect(src).toMatch(/^172\.18\.1\./);
  });

  it('ip-mode-ppv2: the pod stream starts with a PPv2 header carrying the client', async () => {
    const r = await capture('ip-mode-ppv2');
    const flows = clientFlows(r.report);
    expect(flows.every((f) => f.verdict.clientIpAtBackend === 'ppv2')).toBe(true);
    const ppv2 = flows[0]!.hops.find((h) => h.ppv2)!.ppv2 as { command: string; src: string };
    expect(ppv2.command).toBe('PROXY');
    expect(ppv2.src).toMatch(/^198\.51\.100\.10:\d+$/);
    // The PPv2-aware app reports the client, as Apache's RemoteIPProxyProtocol does.
    expect(Object.keys(r.requests.clientAddresses)).toEqual(['198.51.100.10']);
  });

  it('nodeport: DNAT to a pod on another node and SNAT to the node', async () => {
    const r = await capture('nodeport');
    expect(clientFlows(r.report).every((f) => f.verdict.crossNode && f.verdict.clientIpAtBackend === 'lost')).toBe(true);
  });

  it('clusterip: one DNAT by kube-proxy on the client pod’s node', async () => {
    const r = await capture('clusterip');
    for (const f of clientFlows(r.report)) expect(f.hops.filter((h) => h.translation === 'dnat')).toHaveLength(1);
  });

  it('metallb-cluster and metallb-local: the VIP answered by ARP, client IP kept only with Local', async () => {
    const cluster = await capture('metallb-cluster');
    expect(cluster.report.summary.clientIpAtBackend.lost).toBe(REQUESTS);
    const local = await capture('metallb-local');
    expect(local.report.summary.clientIpAtBackend.peer).toBe(REQUESTS);
  });

  /**
   * The replacement pod, born mid-run, is traced from its creation and captured by both sources;
   * returns its pod name.
   */
  async function expectBornPodCaptured(r: CaptureRun): Promise<string> {
    const born = r.ebpf!.learnedNamespaces.filter((n) => n.startsWith(`${LAB}-pod-`));
    expect(born).toHaveLength(1);
    const points = async (dir: string) => (JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { points: Array<{ namespace: string; pod: string | null }> }).points;
    const ebpfPoint = (await points(path.join(r.outDir, 'ebpf'))).find((p) => p.namespace === born[0]);
    expect(ebpfPoint?.pod).toBeTruthy();
    expect((await points(r.outDir)).map((p) => p.namespace)).toContain(born[0]);
    return ebpfPoint!.pod!;
  }

  it('readiness-gate: the replacement pod waits for its target to be healthy', async () => {
    const r = await capture('readiness-gate');
    expect(r.checks.find((c) => c.what.startsWith('new pod held'))?.ok).toBe(true);
    await expectBornPodCaptured(r);
  });

  it('drain: the deleted pod drains and its open connection keeps working', async () => {
    // Long enough for the replacement pod to turn healthy and serve: its flows, through a pod
    // born mid-run, must look the same to both sources.
    const r = await capture('drain', 300);
    expect(r.checks.find((c) => c.what.startsWith('open connection'))?.ok).toBe(true);
    const born = await expectBornPodCaptured(r);
    expect(r.report.summary.backends[born]).toBeGreaterThan(0);
  });

  it('gateway-xff: the app sees the client in X-Forwarded-For', async () => {
    const r = await capture('gateway-xff');
    expect(r.report.summary.clientIpAtBackend.xff).toBeGreaterThanOrEqual(REQUESTS * 0.99);
  });

  it('compare: instance mode and ip mode side by side, from the runs above', () => {
    const cols = ['instance-cluster', 'ip-mode'].map((scenario) => ({ scenario, report: runs.get(scenario)!.report, lessonOk: true }));
    const text = renderCompare(cols);
    const row = (label: string) => text.split('\n').find((l) => l.includes(label)) ?? '';
    expect(row('client IP at backend').match(/lost 50\/50/g)).toHaveLength(2);
    // Instance mode: the NLB DNATs to a NodePort and kube-proxy DNATs again; ip mode goes straight to the pod.
    expect(text).toMatch(/DNAT by nlb/);
    expect(text).toMatch(/DNAT\+SNAT by kube-proxy|SNAT by kube-proxy/);
    expect(row('lesson shown').match(/yes/g)).toHaveLength(2);
  });
});
