/**
 * `netlab apply` / `netlab delete` on the stored objects, as the API server would take them:
 * create or update by namespace/name, keep what the server filled in (cluster IP, node ports,
 * status), answer with kubectl's lines ("deployment.apps/x created"). Pure on the state object.
 */
import { NetlabError } from '../../analyzer/errors.js';
import type { LabModel } from '../model/parse.js';
import { markDeleting } from '../model/pods.js';
import type { Deployment, LabState, Namespace, Service } from './state.js';

type Obj = Namespace | Deployment | Service;

const resourceName: Record<string, string> = { Namespace: 'namespace', Deployment: 'deployment.apps', Service: 'service' };

function sameKey(a: Obj, b: Obj, namespaced: boolean): boolean {
  return a.metadata?.name === b.metadata?.name && (!namespaced || (a.metadata?.namespace ?? 'default') === (b.metadata?.namespace ?? 'default'));
}

/** Compare what the user wrote, ignoring what the server adds. */
function specOf(o: Obj): string {
  const { status: _s, ...rest } = o as Obj & { status?: unknown };
  return JSON.stringify({ ...rest, metadata: { name: rest.metadata?.name, namespace: rest.metadata?.namespace, labels: rest.metadata?.labels, annotations: rest.metadata?.annotations } });
}

function upsert<T extends Obj>(list: T[], incoming: T, namespaced: boolean, now: string, merge: (old: T, next: T) => T): 'created' | 'configured' | 'unchanged' {
  const obj = structuredClone(incoming);
  const meta = (obj.metadata ??= {});
  if (namespaced) meta.namespace ??= 'default';
  const i = list.findIndex((o) => sameKey(o, obj, namespaced));
  if (i < 0) {
    meta.creationTimestamp = now;
    meta.uid = `${meta.namespace ?? ''}-${meta.name}-${Date.parse(now).toString(36)}`;
    meta.generation = 1;
    list.push(obj);
    return 'created';
  }
  const old = list[i]!;
  const before = specOf(old);
  const next = merge(old, obj);
  next.metadata = { ...next.metadata, creationTimestamp: old.metadata?.creationTimestamp, uid: old.metadata?.uid, generation: old.metadata?.generation };
  if (specOf(next) === before) return 'unchanged';
  next.metadata.generation = (old.metadata?.generation ?? 1) + 1;
  list[i] = next;
  return 'configured';
}

/** Keep the allocations of an existing Service the new manifest leaves open, as `kubectl apply` does. */
function mergeService(old: Service, next: Service): Service {
  const spec = (next.spec ??= {});
  spec.clusterIP ??= old.spec?.clusterIP;
  for (const p of spec.ports ?? []) {
    const prev = old.spec?.ports?.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
    p.nodePort ??= prev?.nodePort;
  }
  if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local') spec.healthCheckNodePort ??= old.spec?.healthCheckNodePort;
  next.status = old.status;
  return next;
}

function checkNamespace(state: LabState, model: LabModel, ns: string, where: string): void {
  const known = state.objects.namespaces.some((n) => n.metadata?.name === ns) || model.namespaces.some((n) => n.object.metadata?.name === ns);
  if (!known) throw new NetlabError(`namespace "${ns}" not found`, { where, hint: 'add a Namespace object to the file or apply one first' });
}

export function applyModel(state: LabState, model: LabModel, now: string): string[] {
  for (const { object, where } of [...model.deployments, ...model.services]) checkNamespace(state, model, object.metadata?.namespace ?? 'default', where);
  const lines: string[] = [];
  for (const { object } of model.namespaces) {
    const labels = { ...(object.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': object.metadata!.name! };
    const r = upsert(state.objects.namespaces, { ...object, metadata: { ...object.metadata, labels }, status: { phase: 'Active' } }, false, now, (_old, next) => next);
    lines.push(`namespace/${object.metadata?.name} ${r}`);
  }
  for (const { object } of model.deployments) lines.push(`${resourceName.Deployment}/${object.metadata?.name} ${upsert(state.objects.deployments, object, true, now, (_o, n) => n)}`);
  for (const { object } of model.services) lines.push(`service/${object.metadata?.name} ${upsert(state.objects.services, object, true, now, mergeService)}`);
  state.generation++;
  return lines;
}

export function deleteModel(state: LabState, model: LabModel): string[] {
  const lines: string[] = [];
  const drop = <T extends Obj>(list: T[], o: Obj, namespaced: boolean, kind: string): T[] => {
    const i = list.findIndex((x) => sameKey(x, { ...o, metadata: { ...o.metadata, namespace: o.metadata?.namespace ?? 'default' } }, namespaced));
    if (i < 0) {
      lines.push(`Error from server (NotFound): ${resourceName[kind]} "${o.metadata?.name}" not found`);
      return list;
    }
    lines.push(`${resourceName[kind]} "${o.metadata?.name}" deleted`);
    return list.filter((_, j) => j !== i);
  };
  for (const { object } of model.deployments) state.objects.deployments = drop(state.objects.deployments, object, true, 'Deployment');
  for (const { object } of model.services) state.objects.services = drop(state.objects.services, object, true, 'Service');
  for (const { object } of model.namespaces) {
    const ns = object.metadata?.name;
    if (ns === 'default' || ns?.startsWith('kube-')) {
      lines.push(`Error from server (Forbidden): namespaces "${ns}" is forbidden: this namespace may not be deleted`);
      continue;
    }
    state.objects.namespaces = drop(state.objects.namespaces, object, false, 'Namespace');
    // Deleting a namespace deletes what is in it.
    state.objects.deployments = state.objects.deployments.filter((d) => d.metadata?.namespace !== ns);
    state.objects.services = state.objects.services.filter((s) => s.metadata?.namespace !== ns);
  }
  state.generation++;
  return lines;
}

/** `kubectl delete pod`: the pod starts terminating and its Deployment makes a replacement on the next pass. */
export function deletePod(state: LabState, namespace: string, name: string, now: string): void {
  const p = state.pods.find((x) => x.object.metadata?.namespace === namespace && x.object.metadata?.name === name && !x.deleting);
  if (!p) throw new NetlabError(`pods "${name}" not found in namespace ${namespace}`, { exitCode: 1, hint: 'netlab get pods -A lists them' });
  markDeleting(p, now);
  state.generation++;
}
