/**
 * `--html FILE` and `--pcapng FILE` for analyze/capture/compare: the HTML report and the
 * annotated, merged pcapng, both from one analysis result.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NetlabError } from '../errors.js';
import type { AnalysisResult } from '../hops/types.js';
import { annotate } from './annotate.js';
import type { ContractReport, DescribeTargetHealth, TargetHealthSample } from './contract.js';
import { renderHtml, type HtmlReportInput } from './html/index.js';
import { toContractJson } from './json.js';
import { writeAnnotatedPcapng, type PcapngPoint, type PcapngWriteResult } from './pcapng/index.js';

const LINKTYPE_LINUX_SLL2 = 276;

export interface ExtraReportOptions {
  html?: string;
  pcapng?: string;
  /** The folder the result's point files are relative to (the capture folder; cwd for NAME=FILE). */
  baseDir?: string;
  scenario?: string;
  targetHealth?: DescribeTargetHealth;
  timeline?: TargetHealthSample[];
}

export interface ExtraReportsWritten {
  html?: string;
  pcapng?: PcapngWriteResult & { path: string };
}

/** Which file, and which part of it, each analysed point's packets come from. */
export function pcapngPointsFor(result: AnalysisResult, baseDir: string): PcapngPoint[] {
  const sharers = new Map<string, number>();
  for (const p of result.points) sharers.set(p.file, (sharers.get(p.file) ?? 0) + 1);
  return result.points.map((p) => {
    const shared = (sharers.get(p.file) ?? 0) > 1;
    const sll2 = p.linktype === LINKTYPE_LINUX_SLL2;
    // The analyzer splits a multi-interface pcapng by interface id and leaves interface 0 unsplit.
    const interfaceId = !sll2 && shared ? (p.part ?? 0) : null;
    return {
      name: p.name,
      file: path.resolve(baseDir, p.file),
      role: p.role,
      node: p.node,
      pod: p.pod,
      interface: p.interface,
      ifindex: sll2 && p.part !== null ? p.part : null,
      interfaceId,
    };
  });
}

/** Writes an HTML report for one or more analyses (compare passes several). */
export async function writeHtmlReport(file: string, input: HtmlReportInput): Promise<void> {
  try {
    await writeFile(file, renderHtml(input));
  } catch (err) {
    throw new NetlabError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { hint: 'choose a writable path for --html', cause: err });
  }
}

export async function writeExtraReports(result: AnalysisResult, opts: ExtraReportOptions): Promise<ExtraReportsWritten> {
  const written: ExtraReportsWritten = {};
  if (opts.html) {
    const report: ContractReport = toContractJson(result);
    await writeHtmlReport(opts.html, {
      reports: [{ scenario: opts.scenario, report, targetHealth: opts.targetHealth, timeline: opts.timeline }],
      generatedAt: new Date().toISOString(),
    });
    written.html = opts.html;
  }
  if (opts.pcapng) {
    const points = pcapngPointsFor(result, opts.baseDir ?? '.');
    const r = await writeAnnotatedPcapng(opts.pcapng, points, annotate(result));
    written.pcapng = { ...r, path: opts.pcapng };
  }
  return written;
}

/** One stderr line per file written, and a warning for comments that found no packet. */
export function reportExtras(written: ExtraReportsWritten): void {
  if (written.html) process.stderr.write(`netlab: wrote ${written.html}\n`);
  const p = written.pcapng;
  if (!p) return;
  process.stderr.write(`netlab: wrote ${p.path} (${p.packets} packets on ${p.interfaces} interfaces, ${p.commented} with hop comments)\n`);
  for (const t of p.truncated) process.stderr.write(`netlab: note: ${t.file}: byte ${t.at}: the last packet was cut mid-write; merged the packets before it\n`);
  if (p.unmatched.length > 0) {
    const first = p.unmatched[0]!;
    process.stderr.write(`netlab: warning: ${p.unmatched.length} hop comments name no packet (first: ${first.point} packet ${first.n}) — the capture files changed since the analysis?\n`);
  }
}
