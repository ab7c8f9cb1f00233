/**
 * The end of a scenario run, the same on every provider: the lesson judged from the analyzed
 * packets, report.json and report.md written next to the captures, and the run's summary.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AnalysisResult } from '../../analyzer/hops/types.js';
import type { ContractReport, DescribeTargetHealth, TargetHealthSample } from '../../analyzer/report/contract.js';
import type { Scenario } from '../scenarios/catalog.js';
import type { RequestResult } from '../traffic/http-client.js';
import { requestSummary } from '../traffic/results.js';
import { checkLesson, reportMarkdown, verdictLine, type LessonCheck, type LessonContext } from './lesson.js';
import type { CapturedFile } from './points.js';
import type { CaptureRun } from './run.js';

export interface RunEnd {
  scenario: Scenario;
  outDir: string;
  /** The command line report.md names. */
  command: string;
  requests: number;
  analysis: AnalysisResult;
  contract: ContractReport;
  short: RequestResult[];
  long: RequestResult[];
  targetHealth: DescribeTargetHealth | null;
  addresses: LessonContext['addresses'];
  observed: Omit<LessonContext['observed'], 'drainedConnectionKept'>;
  /** Scenario events that could not run, one line each. */
  eventErrors: readonly string[];
  /** Pods born mid-run whose capture did not start. */
  captureAddFailures: readonly string[];
  /** Named in report.json for runs outside the netns lab. */
  provider: 'netns' | 'kind';
  files: readonly CapturedFile[];
  ebpf: CaptureRun['ebpf'];
  timeline: TargetHealthSample[];
  labSeconds: number;
  started: number;
}

export async function concludeRun(e: RunEnd): Promise<CaptureRun> {
  const observed = { ...e.observed, drainedConnectionKept: e.long.length > 0 ? e.long.every((r) => r.error === null && r.status === 200) : null };
  const checks: LessonCheck[] = [
    ...checkLesson(e.scenario, { report: e.contract, requests: e.requests, targetHealth: e.targetHealth, addresses: e.addresses, observed }),
    ...e.eventErrors.map((seen) => ({ what: 'scenario event', expected: 'ran', seen, ok: false })),
    ...e.captureAddFailures.map((seen) => ({ what: 'capture in a pod born mid-run', expected: 'started', seen, ok: false })),
  ];
  const report = { ...e.contract, scenario: e.scenario.name, outDir: e.outDir, ...(e.provider === 'kind' ? { provider: 'kind' as const } : {}), ...(e.targetHealth ? { targetHealth: e.targetHealth } : {}) };
  await writeFile(path.join(e.outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(e.outDir, 'report.md'), reportMarkdown(e.command, e.scenario.summary, e.analysis, checks));
  return {
    scenario: e.scenario,
    outDir: e.outDir,
    report,
    timeline: e.timeline,
    analysis: e.analysis,
    checks,
    verdict: verdictLine(e.contract),
    requests: requestSummary(e.short),
    captures: e.files.map((f) => ({ point: f.interface ? `${f.target.name}:${f.interface}` : f.target.name, file: path.relative(e.outDir, f.file), packets: f.packets, dropped: f.dropped })),
    ebpf: e.ebpf,
    labSeconds: e.labSeconds,
    totalSeconds: (Date.now() - e.started) / 1000,
  };
}
