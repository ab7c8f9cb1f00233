/**
 * A scenario applied to the kind cluster through the API: Namespaces and Services first, then the
 * Deployments rewritten for netlab's image (cluster/kind/workloads.ts) with the readiness gates
 * the AWS controller's webhook would add (computed from the Services as the API returned them).
 */
import { NetlabError } from '../../analyzer/errors.js';
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/kinds.js';
import type { Deployment, Service } from '../lab/state.js';
import { parseManifests } from '../model/parse.js';
import type { Scenario } from '../scenarios/catalog.js';
import { workerZone } from './config.js';
import { allReady, readinessSummary } from './kube.js';
import type { KindLabState } from './state.js';
import { kindScenarioObjects, withReadinessGates, type NetlabImage } from './workloads.js';

export interface AppliedScenario {
  namespaces: string[];
  services: Service[];
  deployments: Deployment[];
}

const nsOf = (o: { metadata?: { namespace?: string } }, dflt: string) => o.metadata?.namespace ?? dflt;

export async function applyScenario(kube: KubeClient, scenario: Scenario, state: KindLabState, image: NetlabImage, progress: (m: string) => void): Promise<AppliedScenario> {
  const model = parseManifests(scenario.manifests, scenario.manifestsFile);
  const objs = kindScenarioObjects(model, image);
  const where = (i: number, list: Array<{ where: string }>) => list[i]?.where;
  for (const [i, n] of objs.namespaces.entries()) await kube.applyObject({ apiVersion: 'v1', kind: 'Namespace', ...n } as KubeObject, where(i, model.namespaces));
  const services: Service[] = [];
  for (const [i, s] of objs.services.entries()) {
    const applied = await kube.applyObject({ apiVersion: 'v1', kind: 'Service', ...s, metadata: { ...s.metadata, namespace: nsOf(s, scenario.namespace) } } as KubeObject, where(i, model.services));
    services.push(applied.object as Service);
  }
  const zones = [...new Set(Array.from({ length: state.options.workers }, (_, w) => workerZone(state.options.zones, w + 1)))];
  const deployments: Deployment[] = [];
  for (const [i, d] of objs.deployments.entries()) {
    const ns = nsOf(d, scenario.namespace);
    const labels = (await kube.get('Namespace', ns))?.metadata?.labels ?? {};
    const gated = withReadinessGates({ ...d, metadata: { ...d.metadata, namespace: ns } }, labels, services, { clusterName: state.name, zones });
    if (gated !== d && gated.spec?.template?.spec?.readinessGates?.length) progress(`readiness gates for ${ns}/${d.metadata?.name}: ${gated.spec.template.spec.readinessGates.map((g) => g.conditionType).join(', ')} (added by netlab, as the controller's webhook would)`);
    await kube.applyObject({ apiVersion: 'apps/v1', kind: 'Deployment', ...gated } as KubeObject, where(i, model.deployments));
    deployments.push(gated);
  }
  return { namespaces: objs.namespaces.map((n) => n.metadata!.name!), services, deployments };
}

const selectorOf = (d: Deployment) => Object.entries(d.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');

/** Wait until every Deployment has its replicas Running and Ready (readiness gates included, as kubelet judges). */
export async function waitForScenarioPods(kube: KubeClient, applied: AppliedScenario, timeoutMs: number): Promise<void> {
  for (const d of applied.deployments) {
    const ns = d.metadata?.namespace ?? 'default';
    const want = d.spec?.replicas ?? 1;
    let last: KubeObject[] = [];
    await kube
      .waitFor('Pod', (pods) => {
        last = pods.filter((p) => !p.metadata?.deletionTimestamp);
        return allReady(last, want);
      }, { timeoutMs, what: `${want} Ready pods of ${ns}/${d.metadata?.name}`, namespace: ns, labelSelector: selectorOf(d) })
      .catch((err: unknown) => {
        throw new NetlabError(`${err instanceof Error ? err.message : String(err)} (pods: ${readinessSummary(last)})`, { hint: `kubectl --kubeconfig <lab>/kubeconfig -n ${ns} describe pods -l ${selectorOf(d)}` });
      });
  }
}

/** Remove what the scenario made (Deployments, Services, then its own Namespaces). */
export async function deleteScenario(kube: KubeClient, applied: AppliedScenario): Promise<void> {
  for (const d of applied.deployments) await kube.delete('Deployment', d.metadata!.name!, d.metadata?.namespace ?? 'default');
  for (const s of applied.services) await kube.delete('Service', s.metadata!.name!, s.metadata?.namespace ?? 'default');
  for (const n of applied.namespaces) if (n !== 'default') await kube.delete('Namespace', n);
}
