/**
 * `netlab capture --kubeconfig K [--context C] --service NS/NAME [--duration 30s]`: capture on an
 * existing cluster. Ctrl-C (or SIGTERM) ends the capture early and still removes what netlab
 * deployed; a second Ctrl-C exits at once and prints the command that removes it.
 */
import { UsageError } from '../../analyzer/errors.js';
import { renderText } from '../../analyzer/report/table.js';
import { reportExtras, writeExtraReports } from '../../analyzer/report/extra.js';
import type { RemoteCaptureRun } from '../../cluster/remote/run.js';
import { progressPrinter } from './capture.js';

export interface RemoteCaptureCliOptions {
  service: string;
  kubeconfig?: string;
  context?: string;
  duration?: string;
  captureImage?: string;
  nodes?: string;
  client?: string;
  out?: string;
  json?: boolean;
  html?: string;
  pcapng?: string;
  keep?: boolean;
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** `30s`, `2m`, `1m30s`, `90` (seconds). */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)?/g)];
  const whole = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || whole !== text || (parts.length > 1 && parts.some((p) => !p[2]))) {
    throw new UsageError(`--duration '${text}' is not a duration`, 'e.g. --duration 30s, 2m or 1m30s');
  }
  const seconds = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2] ?? 's']!, 0);
  if (seconds < 1) throw new UsageError(`--duration '${text}' is shorter than one second`, 'e.g. --duration 30s');
  return Math.round(seconds);
}

function list(v: string | undefined): string[] | undefined {
  const items = v?.split(',').map((s) => s.trim()).filter(Boolean);
  return items && items.length ? items : undefined;
}

export function renderRemoteRun(r: RemoteCaptureRun): string {
  const out: string[] = [`netlab capture --service ${r.report.service} (context ${r.context}): ${r.plan.service.type} Service, ${r.plan.nodes.length} node(s), ${r.plan.pods.length} pod(s)${r.interrupted ? ' — interrupted, analysing what was captured' : ''}`, ''];
  out.push(renderText(r.analysis, { healthChecks: false }));
  out.push('');
  out.push('Inferred (no capture point there on a real cluster):');
  for (const l of r.report.inferred) out.push(`  - ${l}`);
  if (r.report.notes.length) {
    out.push('Notes:');
    for (const l of r.report.notes) out.push(`  - ${l}`);
  }
  const dropped = r.captures.reduce((a, c) => a + (c.dropped ?? 0), 0);
  const unknown = r.captures.filter((c) => c.dropped === null).length;
  out.push(`Captured ${r.captures.reduce((a, c) => a + c.packets, 0)} packets (${r.captures.reduce((a, c) => a + c.bytes, 0)} bytes streamed) at ${r.captures.length} capture points; kernel drops: ${dropped}${unknown ? ` (${unknown} stopped early cannot count drops)` : ''}.`);
  out.push(`${r.kept ? `Kept namespace ${r.captureNamespace} (--keep).` : `Removed namespace ${r.captureNamespace}.`} Saved in ${r.outDir} (pcaps, manifest.json, cluster.json, report.json, report.md); ${r.totalSeconds.toFixed(1)} s.`);
  return `${out.join('\n')}\n`;
}

export async function captureRemote(opts: RemoteCaptureCliOptions): Promise<number> {
  const durationSec = parseDuration(opts.duration ?? '30s');
  const { runRemoteCapture } = await import('../../cluster/remote/run.js');
  const progress = progressPrinter(!!opts.json);
  const abort = new AbortController();
  let deployed: string | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!abort.signal.aborted) {
      process.stderr.write(`netlab: ${signal}: stopping the capture and removing ${deployed ?? 'what was deployed'} (again to exit at once)\n`);
      abort.abort();
      return;
    }
    process.stderr.write(`netlab: exiting without cleanup${deployed ? `; remove it with: kubectl${opts.context ? ` --context ${opts.context}` : ''} delete namespace ${deployed}` : ''}\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const r = await runRemoteCapture({
      kubeconfig: opts.kubeconfig,
      context: opts.context,
      service: opts.service,
      durationSec,
      outDir: opts.out,
      image: opts.captureImage,
      nodes: list(opts.nodes),
      clients: list(opts.client),
      keep: opts.keep,
      signal: abort.signal,
      onDeployed: (ns) => (deployed = ns),
      onProgress: progress,
    });
    if (opts.json) process.stdout.write(`${JSON.stringify(r.report, null, 2)}\n`);
    else process.stdout.write(renderRemoteRun(r));
    if (opts.html || opts.pcapng) reportExtras(await writeExtraReports(r.analysis, { html: opts.html, pcapng: opts.pcapng, baseDir: r.outDir, scenario: r.report.service }));
    // Ctrl-C during the capture is "stop now" (as with tcpdump): what arrived was analysed.
    return 0;
  } catch (err) {
    if (abort.signal.aborted) {
      process.stderr.write(`netlab: interrupted before the capture started${deployed ? (opts.keep ? `; ${deployed} kept (--keep)` : `; ${deployed} removed`) : ''}\n`);
      return 130;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
