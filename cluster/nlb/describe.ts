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
