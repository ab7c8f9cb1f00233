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
  /** Failed checks beyond the scenario's expectations (an event that could not run, a capture that did not start). */
  failures: LessonCheck[];
  /** Fields report.json carries besides the contract, the scenario and the folder. */
  reportFields: Record<string, unknown>;
  captures: CaptureRun['captures'];
  ebpf: CaptureRun['ebpf'];
  timeline: TargetHealthSample[];
  labSeconds: number;
  started: number;
}

export async function concludeRun(e: RunEnd): Promise<CaptureRun> {
  const observed = { ...e.observed, drainedConnectionKept: e.long.length > 0 ? e.long.every((r) => r.error === null && r.status === 200) : null };
  const checks = [...checkLesson(e.scenario, { report: e.contract, requests: e.requests, targetHealth: e.targetHealth, addresses: e.addresses, observed }), ...e.failures];
  const report = { ...e.contract, scenario: e.scenario.name, outDir: e.outDir, ...e.reportFields, ...(e.targetHealth ? { targetHealth: e.targetHealth } : {}) };
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
    captures: e.captures,
    ebpf: e.ebpf,
    labSeconds: e.labSeconds,
    totalSeconds: (Date.now() - e.started) / 1000,
  };
}
