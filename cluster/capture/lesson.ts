/**
 * Does a run show its scenario's lesson? Each expectation of scenario.yaml becomes one check,
 * judged from the analyzed packets (the report) and the NLB's target health — never from the
 * scenario's own configuration.
 */
import type { AnalysisResult } from '../../analyzer/hops/types.js';
import { renderMarkdown } from '../../analyzer/report/table.js';
import type { Pod } from '../lab/state.js';
import type { Scenario } from '../scenarios/catalog.js';
import { clientFlows, type ContractReport, type DescribeTargetHealth } from '../../analyzer/report/contract.js';

export interface LessonCheck {
  what: string;
  expected: string;
  seen: string;
  ok: boolean;
}

export interface LessonContext {
  report: ContractReport;
  /** Requests the client sent in this run. */
  requests: number;
  targetHealth: DescribeTargetHealth | null;
  /** IPs the load balancer sends from (NLB nodes' private IPs), node IPs and the client's IP. */
  addresses: { lb: string[]; node: string[]; client: string[] };
  /** What the run observed beyond packets: readiness-gate transitions, draining targets. */
  observed: { readinessGateHeld: boolean | null; drainingSeen: boolean | null; drainedConnectionKept: boolean | null };
}

function mostCommon(counts: Record<string, number>): [string, number] | null {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries[0] ?? null;
}

export function checkLesson(scenario: Scenario, ctx: LessonContext): LessonCheck[] {
  const { report } = ctx;
  const e = scenario.expect;
  const flows = clientFlows(report).filter((f) => f.backend !== null);
  const total = flows.length;
  const checks: LessonCheck[] = [];
  const share = (n: number) => (total === 0 ? 0 : n / total);
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

  checks.push({ what: 'flows reaching a backend', expected: `≥ ${Math.ceil(ctx.requests * e.share)}`, seen: String(total), ok: total >= Math.ceil(ctx.requests * e.share) });

  const v = report.summary.clientIpAtBackend[e.clientIpAtBackend] ?? 0;
  checks.push({ what: 'client IP at the backend', expected: `${e.clientIpAtBackend} in ≥ ${pct(e.share)}`, seen: `${e.clientIpAtBackend} in ${v}/${total} (${pct(share(v))})`, ok: total > 0 && share(v) >= e.share });

  if (e.lbDecisions !== null) {
    const n = flows.filter((f) => f.verdict.lbDecisions === e.lbDecisions).length;
    checks.push({ what: 'load-balancing decisions per flow', expected: `${e.lbDecisions}`, seen: `${e.lbDecisions} in ${n}/${total}`, ok: total > 0 && share(n) >= e.share });
  }
  if (e.crossNode !== null) {
    const n = flows.filter((f) => f.verdict.crossNode === e.crossNode).length;
    checks.push({ what: 'flows crossing nodes', expected: e.crossNode ? 'all' : 'none', seen: `${e.crossNode ? n : total - n}/${total}`, ok: total > 0 && share(n) >= e.share });
  }
  if (e.sourceSeenByBackend !== null) {
    const wanted = new Set(ctx.addresses[e.sourceSeenByBackend]);
    const seen = Object.entries(report.summary.sourceSeenByBackend);
    const n = seen.filter(([ip]) => wanted.has(ip)).reduce((a, [, c]) => a + c, 0);
    const top = mostCommon(report.summary.sourceSeenByBackend);
    checks.push({ what: 'source the backend saw', expected: `the ${e.sourceSeenByBackend}'s IP`, seen: top ? `${top[0]} (${n}/${total} from the ${e.sourceSeenByBackend})` : 'nothing', ok: total > 0 && share(n) >= e.share });
  }
  if (e.unhealthyTargets !== null) {
    const th = ctx.targetHealth?.TargetHealthDescriptions ?? [];
    const bad = th.filter((t) => t.TargetHealth.State === 'unhealthy');
    checks.push({ what: 'unhealthy NLB targets', expected: String(e.unhealthyTargets), seen: bad.length ? bad.map((t) => `${t.Target.Id} (${t.TargetHealth.Reason})`).join(', ') : '0', ok: bad.length === e.unhealthyTargets });
  }
  if (e.readinessGate) {
    checks.push({ what: 'new pod held not-Ready until its target was healthy', expected: 'yes', seen: ctx.observed.readinessGateHeld === null ? 'not observed' : ctx.observed.readinessGateHeld ? 'yes' : 'no', ok: ctx.observed.readinessGateHeld === true });
  }
  if (e.draining) {
    checks.push({ what: 'deleted pod\'s target went draining', expected: 'yes', seen: ctx.observed.drainingSeen ? 'yes' : 'no', ok: ctx.observed.drainingSeen === true });
    checks.push({ what: 'open connection kept working while draining', expected: 'yes', seen: ctx.observed.drainedConnectionKept ? 'yes' : 'no', ok: ctx.observed.drainedConnectionKept === true });
  }
  return checks;
}

/** The one-line verdict printed under the tables. */
export function verdictLine(report: ContractReport): string {
  const s = report.summary;
  const total = s.flows;
  const c = s.clientIpAtBackend;
  const how = c.peer >= Math.max(c.ppv2, c.xff, c.lost) ? ['yes, as TCP peer', c.peer] : c.ppv2 >= Math.max(c.xff, c.lost) ? ['yes, in a PROXY v2 header', c.ppv2] : c.xff >= c.lost ? ['yes, in X-Forwarded-For', c.xff] : ['no', c.lost];
  const decisions = new Map<number, number>();
  const flows = clientFlows(report);
  for (const f of flows) decisions.set(f.verdict.lbDecisions, (decisions.get(f.verdict.lbDecisions) ?? 0) + 1);
  const d = [...decisions.entries()].sort((a, b) => b[1] - a[1])[0];
  const cross = flows.filter((f) => f.verdict.crossNode).length;
  return `client IP reaches the pod: ${how[0]}, ${how[1]}/${total} flows; ${d ? `${d[0]} load-balancing decision${d[0] === 1 ? '' : 's'}` : 'no decisions seen'}; ${cross}/${flows.length} flows crossed nodes`;
}

/** report.md of a capture run: the command, the scenario's summary, the hop tables, the lesson checks. */
export function reportMarkdown(command: string, summary: string, analysis: AnalysisResult, checks: readonly LessonCheck[]): string {
  return `# ${command}\n\n${summary}\n\n${renderMarkdown(analysis)}\n\n## Lesson\n\n| check | expected | seen | |\n|---|---|---|---|\n${checks.map((c) => `| ${c.what} | ${c.expected} | ${c.seen} | ${c.ok ? 'ok' : 'FAIL'} |`).join('\n')}\n`;
}

/** When a pod's condition last turned True, or null. */
export function conditionTime(p: Pod, type: string): number | null {
  const c = p.status?.conditions?.find((x) => x.type === type && x.status === 'True');
  return c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : null;
}

/**
 * Did Ready wait for the readiness gates? From the kubelet-style condition times: containers
 * ready first, the gates later, Ready not before the last gate. `sameInstantCounts` for clocks of
 * one-second resolution (a real API server), where "later" includes the same second.
 */
export function readyHeldByGates(p: Pod, sameInstantCounts: boolean): boolean {
  const gateOpen = Math.max(...(p.spec?.readinessGates ?? []).map((g) => conditionTime(p, g.conditionType) ?? Infinity));
  const containers = conditionTime(p, 'ContainersReady');
  const ready = conditionTime(p, 'Ready');
  return containers !== null && ready !== null && (sameInstantCounts ? gateOpen >= containers : gateOpen > containers) && ready >= gateOpen;
}

/**
 * Pods created since `since` that carry readiness gates: wait (up to `timeoutMs`) until they are
 * Ready, then tell from their condition times whether Ready waited for the gate. `pods` lists the
 * scenario namespace's pods that are not being deleted.
 */
export async function readinessGateHeld(pods: () => Promise<Pod[]>, since: number, o: { timeoutMs: number; intervalMs: number; sameInstantCounts: boolean }): Promise<boolean> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const fresh = (await pods()).filter((p) => Date.parse(p.metadata?.creationTimestamp ?? '') >= since && (p.spec?.readinessGates ?? []).length > 0);
    const ready = fresh.filter((p) => conditionTime(p, 'Ready') !== null);
    if ((fresh.length > 0 && ready.length === fresh.length) || Date.now() > deadline) {
      return ready.length > 0 && ready.every((p) => readyHeldByGates(p, o.sameInstantCounts));
    }
    await new Promise((r) => setTimeout(r, o.intervalMs));
  }
}
