/**
 * `netlab down --provider kind`: remove netlab's containers (and any capture helper left by a
 * killed run), delete the kind cluster, remove the lab's folder. Every step tolerates "already
 * gone", so it is safe twice and after a half-failed `up`.
 */
import { run } from '../exec/exec.js';
import { LAB_LABEL } from './containers.js';
import { HELPER_LABEL } from './capture-plan.js';
import type { KindEnv } from './env.js';
import { readKindState, removeKindLabDir, writeKindState } from './state.js';

export async function teardown(lab: string, env: Pick<KindEnv, 'docker' | 'kind' | 'log'>): Promise<boolean> {
  const state = await readKindState(lab);
  if (!state) return false;
  state.phase = 'deleting';
  await writeKindState(state);
  const leftovers = new Set(state.resources.containers);
  for (const label of [`${LAB_LABEL}=${lab}`, `${HELPER_LABEL}=${lab}`]) {
    for (const name of await env.docker.containersWithLabel(label)) leftovers.add(name);
  }
  for (const c of leftovers) {
    env.log(`docker rm --force ${c}`);
    await env.docker.remove(c);
  }
  if (state.resources.cluster) {
    // kind deletes a cluster that does not exist without complaint; that is the idempotence we need.
    env.log(`kind delete cluster --name ${state.cluster}`);
    await run(env.kind, ['delete', 'cluster', '--name', state.cluster, '--kubeconfig', state.kubeconfig], { timeoutMs: 300_000 });
  }
  await removeKindLabDir(lab);
  return true;
}
