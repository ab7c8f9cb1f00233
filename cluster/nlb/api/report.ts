/** Reading what an API-mode emulator published (for `describe-target-health` against a cluster). */
import type { KubeClient } from '../../kube/client.js';
import type { ServiceReport } from './plan.js';

export const STATUS_CONFIGMAP = { namespace: 'kube-system', name: 'netlab-nlb-status' } as const;

/** The emulator's report on one Service, or null when it has published none (no emulator, not an NLB Service). */
export async function readServiceReport(kube: KubeClient, namespace: string, name: string, from: { namespace: string; name: string } = STATUS_CONFIGMAP): Promise<ServiceReport | null> {
  const cm = await kube.get('ConfigMap', from.name, from.namespace);
  const text = cm?.data?.[`${namespace}.${name}`];
  return text ? (JSON.parse(text) as ServiceReport) : null;
}
