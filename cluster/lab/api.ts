/**
 * The lab's operations as functions, for the CLI and for `netlab capture`: apply and delete
 * Kubernetes YAML, delete one pod, wait for pods. Each change is made under the lab's lock and
 * reconciled at once; the controller process carries on with the timed work (probes, NLB health).
 */
import { NetlabError } from '../../analyzer/errors.js';
import { parseManifests } from '../model/parse.js';
import { deploymentKey, ownerOf } from '../model/pods.js';
import { applyModel, deleteModel, deletePod } from './objects.js';
import { isAlive } from './processes.js';
import { reconcile } from './reconcile.js';
import { readState, updateState, type LabState } from './state.js';

function requireReady(state: LabState): void {
  if (state.phase !== 'ready') throw new NetlabError(`lab '${state.name}' is ${state.phase}`, { hint: `wait for netlab up to finish, or run netlab down --name ${state.name}` });
}

export interface ApplyResult {
  /** kubectl-style lines: "deployment.apps/x created". */
  lines: string[];
  /** namespace/name of every Deployment in the file. */
  deployments: string[];
}

export async function applyManifests(lab: string, text: string, file: string): Promise<ApplyResult> {
  const model = parseManifests(text, file);
  const lines = await updateState(lab, async (state) => {
    requireReady(state);
    const out = applyModel(state, model, new Date().toISOString());
    await reconcile(state, () => undefined);
    return out;
  });
  const deployments = model.deployments.map((d) => deploymentKey({ ...d.object, metadata: { ...d.object.metadata, namespace: d.object.metadata?.namespace ?? 'default' } }));
  return { lines, deployments };
}

export async function deleteManifests(lab: string, text: string, file: string): Promise<string[]> {
  const model = parseManifests(text, file);
  return updateState(lab, async (state) => {
    requireReady(state);
    const out = deleteModel(state, model);
    await reconcile(state, () => undefined);
    return out;
  });
}

export async function deletePodNow(lab: string, namespace: string, name: string): Promise<void> {
  await updateState(lab, async (state) => {
    deletePod(state, namespace, name, new Date().toISOString());
    await reconcile(state, () => undefined);
  });
}

/**
 * Wait until every pod of these Deployments exists and its containers are ready (the
 * controller's probes). Returns null when they are, else what is still pending.
 */
export async function waitForPods(lab: string, deployments: string[], timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const state = await readState(lab);
    if (!state) return 'the lab went away';
    // Readiness comes from the controller's probes: without it nothing would ever turn ready.
    if (!state.controller.pid || !isAlive(state.controller.pid)) return `the lab's controller is not running (netlab up --name ${lab} restarts it)`;
    const pending: string[] = [];
    for (const key of deployments) {
      const d = state.objects.deployments.find((x) => deploymentKey(x) === key);
      if (!d) continue;
      const pods = state.pods.filter((p) => !p.deleting && ownerOf(p) === key);
      const ready = pods.filter((p) => p.object.status?.conditions?.some((c) => c.type === 'ContainersReady' && c.status === 'True'));
      if (pods.length !== (d.spec?.replicas ?? 1) || ready.length !== pods.length) pending.push(`${key} ${ready.length}/${d.spec?.replicas ?? 1} ready`);
    }
    if (pending.length === 0) return null;
    last = pending.join(', ');
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}
