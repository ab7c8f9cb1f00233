/**
 * Target health as the AWS API reports it, merged from the zone agents' status files: the agent of
 * a target's own zone speaks for it (every zone node checks it with cross-zone on; they agree).
 * Pure: plans + statuses in, `describe-target-health` JSON and readiness-gate conditions out.
 */
import type { TargetStatus, ZoneStatus } from '../agent/files.js';
import type { AddressBook } from '../dataplane/topology.js';
import type { LoadBalancerPlan, Pod, TargetGroupPlan, TargetPlan } from '../plan/types.js';
import { readinessGateType } from '../plan/build.js';
import { REASONS, type TargetHealthFields, type TargetState } from './state.js';

export interface TargetView extends TargetPlan, TargetHealthFields {
  targetGroup: string;
  /** Which zone's NLB node reported it (null: no report yet). */
  reportedBy: string | null;
}

function pickReport(reports: TargetStatus[], zoneOf: Map<TargetStatus, string>, az: string): TargetStatus | undefined {
  return reports.find((r) => zoneOf.get(r) === az) ?? reports[0];
}

export function targetViews(plan: LoadBalancerPlan, statuses: readonly ZoneStatus[]): TargetView[] {
  const zoneOf = new Map<TargetStatus, string>();
  const byKey = new Map<string, TargetStatus[]>();
  for (const s of statuses) {
    for (const t of s.targets) {
      if (t.loadBalancer !== plan.name) continue;
      zoneOf.set(t, s.zone);
      const key = `${t.targetGroup}|${t.ip}|${t.port}`;
      const list = byKey.get(key) ?? [];
      list.push(t);
      byKey.set(key, list);
    }
  }
  const views: TargetView[] = [];
  const seen = new Set<string>();
  for (const tg of plan.targetGroups) {
    for (const t of tg.targets) {
      const key = `${tg.name}|${t.ip}|${t.port}`;
      seen.add(key);
      const report = pickReport(byKey.get(key) ?? [], zoneOf, t.availabilityZone);
      let health: Pick<TargetView, 'state' | 'reason' | 'description' | 'reportedBy'>;
      if (!plan.zones.includes(t.availabilityZone)) {
        health = { state: 'unused', reason: REASONS.notInUse[0], description: REASONS.notInUse[1], reportedBy: null };
      } else if (report && report.state !== 'draining') {
        health = { state: report.state, reason: report.reason, description: report.description, reportedBy: zoneOf.get(report) ?? null };
      } else {
        // Registered, but no NLB node has picked it up yet.
        health = { state: 'initial', reason: REASONS.registration[0], description: REASONS.registration[1], reportedBy: null };
      }
      views.push({ targetGroup: tg.name, id: t.id, ip: t.ip, port: t.port, healthCheckPort: t.healthCheckPort, availabilityZone: t.availabilityZone, node: t.node, pod: t.pod, ...health });
    }
  }
  // Deregistered targets still draining somewhere.
  for (const [key, reports] of byKey) {
    if (seen.has(key)) continue;
    const r = reports.find((x) => x.state === 'draining');
    if (!r) continue;
    views.push({
      targetGroup: r.targetGroup, id: r.id, ip: r.ip, port: r.port, healthCheckPort: r.healthCheckPort, availabilityZone: r.availabilityZone,
      node: r.node, pod: r.pod, state: 'draining', reason: r.reason, description: r.description, reportedBy: zoneOf.get(r) ?? null,
    });
  }
  return views;
}

/** The JSON `aws elbv2 describe-target-health --target-group-arn ...` prints. */
export interface DescribeTargetHealthOutput {
  TargetHealthDescriptions: Array<{
    Target: { Id: string; Port: number; AvailabilityZone: string };
    HealthCheckPort: string;
    TargetHealth: { State: TargetState; Reason?: string; Description?: string };
  }>;
}

export function describeTargetHealth(views: readonly TargetView[], tg?: TargetGroupPlan): DescribeTargetHealthOutput {
  return {
    TargetHealthDescriptions: views
      .filter((v) => !tg || v.targetGroup === tg.name)
      .map((v) => ({
        Target: { Id: v.id, Port: v.port, AvailabilityZone: v.availabilityZone },
        HealthCheckPort: String(v.healthCheckPort),
        TargetHealth: {
          State: v.state,
          ...(v.reason ? { Reason: v.reason } : {}),
          ...(v.description ? { Description: v.description } : {}),
        },
      })),
  };
}

export interface GateCondition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
}

/**
 * The controller's readiness-gate conditions for one pod: True once its target in that target
 * group is healthy; otherwise False with the target's reason and description.
 */
export function readinessGateConditions(pod: Pod, plans: readonly LoadBalancerPlan[], views: ReadonlyMap<string, TargetView[]>): GateCondition[] {
  const gates = (pod.spec?.readinessGates ?? []).map((g) => g.conditionType).filter((t) => t.startsWith('target-health.elbv2.k8s.aws/'));
  const podIp = pod.status?.podIP;
  const out: GateCondition[] = [];
  for (const gate of gates) {
    let condition: GateCondition = { type: gate, status: 'False', reason: REASONS.registration[0], message: 'Target is not registered yet' };
    for (const plan of plans) {
      for (const tg of plan.targetGroups) {
        if (readinessGateType(tg.name) !== gate) continue;
        const view = (views.get(plan.name) ?? []).find((v) => v.targetGroup === tg.name && v.ip === podIp && v.state !== 'draining');
        if (!view) continue;
        condition = view.state === 'healthy'
          ? { type: gate, status: 'True' }
          : { type: gate, status: 'False', ...(view.reason ? { reason: view.reason } : {}), ...(view.description ? { message: view.description } : {}) };
      }
    }
    out.push(condition);
  }
  return out;
}

/** A load balancer's address in a zone as clients reach it: public when internet-facing (API mode has only one). */
function clientAddress(plan: LoadBalancerPlan, a: { privateIp: string; publicIp: string }): string {
  return plan.scheme === 'internet-facing' ? a.publicIp : a.privateIp;
}

/** The addresses a client should resolve the load balancer to: zones with a healthy target, or all (AWS DNS failover). */
export function dnsAddresses(plan: LoadBalancerPlan, book: AddressBook, statuses: readonly ZoneStatus[]): string[] {
  const byZone = book[plan.name] ?? {};
  const zones = Object.keys(byZone).sort();
  const healthy = zones.filter((z) => statuses.find((s) => s.zone === z)?.targets.some((t) => t.loadBalancer === plan.name && t.state === 'healthy'));
  return (healthy.length > 0 ? healthy : zones).map((z) => clientAddress(plan, byZone[z]!));
}

export interface Ingress {
  hostname?: string;
  ip?: string;
  ipMode?: string;
}

/** status.loadBalancer.ingress: the DNS name, then each zone's address (ipMode Proxy: kube-proxy must not capture it). */
export function serviceIngress(plan: LoadBalancerPlan | undefined, book: AddressBook): Ingress[] {
  if (!plan) return [];
  const byZone = book[plan.name] ?? {};
  return [{ hostname: plan.dnsName }, ...Object.keys(byZone).sort().map((z) => ({ ip: clientAddress(plan, byZone[z]!), ipMode: 'Proxy' }))];
}
