/** `netlab scenarios`, `netlab capture`, `netlab compare`. */
import Table from 'cli-table3';
import { UsageError } from '../../analyzer/errors.js';
import { renderText } from '../../analyzer/report/table.js';
import { runCapture, type Capturer, type CaptureRun, type Source } from '../../cluster/capture/run.js';
import { checkLabName } from '../../cluster/lab/names.js';
import { listScenarios } from '../../cluster/scenarios/catalog.js';
import { renderCompare } from '../../analyzer/report/compare.js';
import { reportExtras, writeExtraReports, writeHtmlReport } from '../../analyzer/report/extra.js';
import type { RemoteCaptureCliOptions } from './capture-remote.js';

/** Options that only mean something on an existing cluster (--service). */
const REMOTE_ONLY = ['kubeconfig', 'context', 'duration', 'captureImage', 'nodes', 'client'] as const;
const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export async function scenarios(opts: { json?: boolean }): Promise<number> {
  const all = listScenarios();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(all.map((s) => ({ name: s.name, summary: s.summary, expect: s.expect, dir: s.dir })), null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...all.map((s) => s.name.length));
  for (const s of all) process.stdout.write(`${s.name.padEnd(width)}  ${s.summary}\n`);
  return 0;
}

interface CaptureCliOptions extends Omit<RemoteCaptureCliOptions, 'service'> {
  scenario?: string;
  service?: string;
  requests?: string;
  out?: string;
  source: Source;
  capturer?: Capturer;
  name: string;
  json?: boolean;
  html?: string;
  pcapng?: string;
  keep?: boolean;
  provider?: 'netns' | 'kind';
}

function requestsOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--requests '${v}' is not a positive whole number`);
  return Number(v);
}

/** Progress goes to stderr so stdout stays the report (and --json stays parseable). */
export function progressPrinter(quiet: boolean): (m: string) => void {
  const t0 = Date.now();
  return quiet ? () => undefined : (m) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${m}\n`);
}

function counts(title: string, c: Record<string, number>): string {
  const rows = Object.entries(c).sort((a, b) => b[1] - a[1]);
  return rows.length ? `${title}\n${rows.map(([k, n]) => `  ${String(n).padStart(5)} ${k}`).join('\n')}\n` : '';
}

export function renderCaptureRun(r: CaptureRun): string {
  const out: string[] = [`netlab capture --scenario ${r.scenario.name}: ${r.scenario.summary}`, ''];
  // A capture run is about the client's requests: probes and health checks are only counted.
  out.push(renderText(r.analysis, { healthChecks: false }));
  out.push('');
  out.push(`What the client saw (${r.requests.answered}/${r.requests.sent} answered), like the write-up's for i in {1..100}; curl | grep Hostname | sort | uniq -c:`);
  out.push(counts('  Hostname', r.requests.hostnames) + counts('  client the app reported (client_address, or the PROXY header\'s client for PPv2-aware apps)', r.requests.clientAddresses));
  if (r.report.targetHealth) {
    const t = new Table({ head: ['target', 'port', 'zone', 'health-check port', 'state', 'reason'], style: { head: [], border: [] } });
    for (const d of r.report.targetHealth.TargetHealthDescriptions) t.push([d.Target.Id, String(d.Target.Port), d.Target.AvailabilityZone ?? '', d.HealthCheckPort, d.TargetHealth.State, d.TargetHealth.Reason ?? '']);
    out.push(`NLB target health at the end of the run:\n${t.toString()}`);
  }
  const dropped = r.captures.reduce((a, c) => a + (c.dropped ?? 0), 0);
  const unknown = r.captures.filter((c) => c.dropped === null).length;
  out.push(`Captured ${r.captures.reduce((a, c) => a + c.packets, 0)} packets at ${r.captures.length} capture points; kernel drops: ${dropped}${unknown ? ` (${unknown} points cannot count drops)` : ''}.`);
  if (r.ebpf) {
    out.push(`eBPF probe: ${r.ebpf.events} events, ${r.ebpf.lost} lost${r.ebpf.lateEvents ? `, ${r.ebpf.lateEvents} out of time order` : ''}${r.ebpf.learnedNamespaces.length ? `; traced from birth: ${r.ebpf.learnedNamespaces.join(', ')}` : ''}.${r.ebpf.agreesWithPcap === null ? '' : r.ebpf.agreesWithPcap ? ` Same paths and verdicts as the pcap capture${r.ebpf.differences.length ? ` (within 5%: ${r.ebpf.differences.join('; ')})` : ''}.` : ` Differs from the pcap capture:\n  ${r.ebpf.differences.join('\n  ')}`}`);
  }
  const lt = new Table({ head: ['lesson check', 'expected', 'seen', ''], style: { head: [], border: [] } });
  for (const c of r.checks) lt.push([c.what, c.expected, c.seen, c.ok ? 'ok' : 'FAIL']);
  out.push(lt.toString());
  out.push(`Verdict: ${r.verdict}`);
  out.push(r.checks.every((c) => c.ok) ? `Lesson shown: yes (${r.checks.length} checks)` : `Lesson shown: NO (${r.checks.filter((c) => !c.ok).length} of ${r.checks.length} checks failed)`);
  // The kind provider records no conntrack/iptables ground truth (docs/kind.md).
  const saved = r.report.provider === 'kind' ? 'pcaps, manifest.json, report.json, report.md' : 'pcaps, manifest.json, conntrack and iptables ground truth, report.json, report.md';
  out.push(`Saved in ${r.outDir} (${saved}); ${r.totalSeconds.toFixed(1)} s.`);
  return `${out.join('\n')}\n`;
}

function lessonJson(r: CaptureRun) {
  return { ok: r.checks.every((c) => c.ok), checks: r.checks };
}

const ebpfJson = (r: CaptureRun) => (r.ebpf ? { ebpf: r.ebpf } : {});

export async function capture(opts: CaptureCliOptions): Promise<number> {
  if (opts.scenario === undefined && opts.service === undefined) throw new UsageError('capture needs --scenario NAME or --service NS/NAME', 'netlab capture --scenario local-policy, or netlab capture --kubeconfig K --service default/echo');
  if (opts.scenario !== undefined && opts.service !== undefined) throw new UsageError('give --scenario or --service, not both', 'a scenario runs in the local lab; --service captures on an existing cluster');
  if (opts.service !== undefined && opts.provider === 'kind') throw new UsageError('--provider kind runs a scenario in netlab\'s kind lab, not --service', 'to capture a Service on a kind cluster, give its --kubeconfig/--context');
  if (opts.service !== undefined) return (await import('./capture-remote.js')).captureRemote({ ...opts, service: opts.service });
  const remoteOnly = REMOTE_ONLY.filter((k) => opts[k] !== undefined);
  if (remoteOnly.length) throw new UsageError(`${remoteOnly.map(flag).join(', ')} only work with --service`, 'a scenario runs in the local lab');
  const r = await runCapture({
    scenario: opts.scenario!,
    lab: checkLabName(opts.name),
    requests: requestsOption(opts.requests),
    outDir: opts.out,
    capturer: opts.capturer,
    source: opts.source,
    keep: opts.keep,
    provider: opts.provider,
    onProgress: progressPrinter(!!opts.json),
  });
  if (opts.json) process.stdout.write(`${JSON.stringify({ ...r.report, lesson: lessonJson(r), ...ebpfJson(r) }, null, 2)}\n`);
  else process.stdout.write(renderCaptureRun(r));
  if (opts.html || opts.pcapng) {
    reportExtras(await writeExtraReports(r.analysis, { html: opts.html, pcapng: opts.pcapng, baseDir: r.outDir, scenario: r.scenario.name, targetHealth: r.report.targetHealth, timeline: r.timeline }));
  }
  return 0;
}

export async function compare(names: string[], opts: { requests?: string; name: string; json?: boolean; html?: string }): Promise<number> {
  if (names.length < 2) throw new UsageError('compare needs at least two scenarios', 'e.g. netlab compare instance-cluster ip-mode');
  const lab = checkLabName(opts.name);
  const progress = progressPrinter(!!opts.json);
  const runs: CaptureRun[] = [];
  for (const scenario of names) {
    progress(`— scenario ${scenario}`);
    runs.push(await runCapture({ scenario, lab, requests: requestsOption(opts.requests), onProgress: progress }));
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ scenarios: runs.map((r) => ({ ...r.report, lesson: lessonJson(r) })) }, null, 2)}\n`);
  } else {
    process.stdout.write(`${renderCompare(runs.map((r) => ({ scenario: r.scenario.name, report: r.report, lessonOk: r.checks.every((c) => c.ok) })), { width: process.stdout.columns || undefined })}\n`);
  }
  if (opts.html) {
    await writeHtmlReport(opts.html, { title: `netlab compare ${names.join(' ')}`, reports: runs.map((r) => ({ scenario: r.scenario.name, report: r.report, targetHealth: r.report.targetHealth, timeline: r.timeline })), generatedAt: new Date().toISOString() });
    reportExtras({ html: opts.html });
  }
  return 0;
}
