/**
 * `netlab describe-target-health SERVICE`: the Service's plan from the lab's state file, the zone
 * agents' reports, merged into the JSON `aws elbv2 describe-target-health` prints.
 */
import { NetlabError } from '../../analyzer/errors.js';
import { NLB_EXTENSION, readZoneStatuses, type NlbExtension } from './controller.js';
import { describeTargetHealth, targetViews, type DescribeTargetHealthOutput, type TargetView } from './health/view.js';
import type { LoadBalancerPlan, Service } from './plan/types.js';
import { isNlbService } from './plan/build.js';

/** The slice of the lab's state this needs. */
export interface NlbStateView {
  name: string;
  objects: { services: Service[] };
  extensions: Record<string, unknown>;
}

export interface TargetHealthReport {
  plan: LoadBalancerPlan;
  views: TargetView[];
  aws: DescribeTargetHealthOutput;
}

export async function serviceTargetHealth(state: NlbStateView, labDir: string, namespace: string, name: string): Promise<TargetHealthReport> {
  const key = `${namespace}/${name}`;
  const svc = state.objects.services.find((s) => (s.metadata?.namespace ?? 'default') === namespace && s.metadata?.name === name);
  if (!svc) {
    throw new NetlabError(`no Service ${key} in lab '${state.name}'`, { hint: `list them with: netlab get svc -A --name ${state.name}` });
  }
  if (!isNlbService(svc)) {
    throw new NetlabError(`Service ${key} has no NLB: it is not type LoadBalancer with loadBalancerClass service.k8s.aws/nlb or annotation service.beta.kubernetes.io/aws-load-balancer-type: external`, {
      hint: 'add one of them to the Service and apply it again',
    });
  }
  const ext = state.extensions[NLB_EXTENSION] as NlbExtension | undefined;
  const plan = ext?.plans[key];
  if (!plan) {
    const warning = ext?.events[key]?.find((e) => e.type === 'Warning');
    throw new NetlabError(`Service ${key} has no NLB yet${warning ? `: ${warning.reason}: ${warning.message}` : ' (the controller has not reconciled it)'}`, {
      hint: warning ? 'fix the annotation and apply the Service again' : 'wait a second and retry',
    });
  }
  const statuses = await readZoneStatuses(labDir, ext.zones);
  const views = targetViews(plan, statuses);
  return { plan, views, aws: describeTargetHealth(views) };
}

export interface NlbSummary {
  service: string;
  loadBalancer: string | null;
  dnsName: string | null;
  scheme: string | null;
  crossZone: boolean | null;
  addresses: Record<string, { privateIp: string; publicIp: string }>;
  targetGroups: Array<{ name: string; targetType: string; protocol: string; port: number; ppv2: boolean; preserveClientIp: boolean; targets: TargetView[] }>;
  events: Array<{ type: string; reason: string; message: string }>;
}

/** Every NLB Service of the lab with its load balancer, targets and events (for `netlab status`). */
export async function nlbSummaries(state: NlbStateView, labDir: string): Promise<NlbSummary[]> {
  const ext = state.extensions[NLB_EXTENSION] as NlbExtension | undefined;
  if (!ext) return [];
  const statuses = await readZoneStatuses(labDir, ext.zones);
  return Object.keys(ext.events).sort().map((key) => {
    const plan = ext.plans[key];
    const views = plan ? targetViews(plan, statuses) : [];
    return {
      service: key,
      loadBalancer: plan?.name ?? null,
      dnsName: plan?.dnsName ?? null,
      scheme: plan?.scheme ?? null,
      crossZone: plan?.crossZone ?? null,
      addresses: plan ? (ext.addresses[plan.name] ?? {}) : {},
      targetGroups: (plan?.targetGroups ?? []).map((tg) => ({
        name: tg.name,
        targetType: tg.targetType,
        protocol: tg.protocol,
        port: tg.port,
        ppv2: tg.attributes.proxyProtocolV2,
        preserveClientIp: tg.attributes.preserveClientIp,
        targets: views.filter((v) => v.targetGroup === tg.name),
      })),
      events: ext.events[key] ?? [],
    };
  });
}

/** Plain-text lines for `netlab status`. */
export function nlbStatusLines(summaries: readonly NlbSummary[], timeScale: number): string[] {
  if (summaries.length === 0) return [];
  const lines = ['', `NLB load balancers${timeScale !== 1 ? ` (timers divided by --time-scale ${timeScale})` : ''}:`];
  for (const s of summaries) {
    if (!s.loadBalancer) {
      const warning = s.events.find((e) => e.type === 'Warning');
      lines.push(`  ${s.service}: no load balancer${warning ? ` — ${warning.reason}: ${warning.message}` : ''}`);
      continue;
    }
    const ips = Object.entries(s.addresses).map(([z, a]) => `${z} ${s.scheme === 'internet-facing' ? a.publicIp : a.privateIp}`).join(', ');
    lines.push(`  ${s.service}: ${s.dnsName} (${s.scheme}, cross-zone ${s.crossZone ? 'on' : 'off'}; ${ips})`);
    for (const tg of s.targetGroups) {
      lines.push(`    ${tg.name} ${tg.protocol}:${tg.port} ${tg.targetType} targets${tg.ppv2 ? ', proxy protocol v2' : ''}, client IP ${tg.preserveClientIp ? 'preserved' : 'not preserved'}`);
      for (const t of tg.targets) {
        const what = t.pod ?? t.node;
        lines.push(`      ${t.id}:${t.port} ${t.availabilityZone} ${what} ${t.state}${t.reason ? ` (${t.reason})` : ''}`);
      }
    }
  }
  return lines;
}
