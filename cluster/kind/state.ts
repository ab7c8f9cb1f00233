/**
 * The kind lab's record, `~/.netlab/kind/<lab>/state.json` (NETLAB_KIND_DIR moves it; tests use a
 * temp dir). It lives in the home folder rather than /run/netlab because a kind cluster outlives a
 * reboot. Like the netns lab's state file, everything is recorded BEFORE it is created (the
 * cluster, each container), so `down` after a half-failed `up` knows what to remove.
 */
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NetlabError } from '../../analyzer/errors.js';
import { readStateFile, writeStateFile } from '../lab/state.js';
import type { KindAddressPlan } from './network.js';

export interface KindLabState {
  version: 1;
  provider: 'kind';
  name: string;
  /** kind's cluster name (`kind create cluster --name`); its node containers are `<cluster>-control-plane`, `<cluster>-worker`, … */
  cluster: string;
  phase: 'creating' | 'ready' | 'deleting';
  createdAt: string;
  options: { workers: number; zones: string[]; timeScale: number };
  nodeImage: string;
  /** Written by `kind create cluster --kubeconfig`: the API server as the host reaches it. */
  kubeconfig: string;
  /** `kind get kubeconfig --internal`: the API server as containers on the kind network reach it. */
  internalKubeconfig: string;
  network: { name: string; subnet: string; ipv6Subnets: string[] } | null;
  addresses: KindAddressPlan | null;
  metallb: { version: string; pool: { start: string; end: string } } | null;
  /** netlab's image as loaded into the nodes. */
  image: { tag: string; root: string } | null;
  /** Node container names, control plane first. */
  nodes: string[];
  /** What `down` removes: whether a cluster may exist, and every container netlab started. */
  resources: { cluster: boolean; containers: string[] };
}

export function kindHome(): string {
  return process.env.NETLAB_KIND_DIR ?? path.join(os.homedir(), '.netlab', 'kind');
}

export const kindLabDir = (lab: string): string => path.join(kindHome(), lab);
const statePath = (lab: string): string => path.join(kindLabDir(lab), 'state.json');

export function readKindState(lab: string): Promise<KindLabState | null> {
  return readStateFile<KindLabState>(statePath(lab), `the kind lab's state file`, `run netlab down --provider kind --name ${lab}`);
}

export async function requireKindState(lab: string): Promise<KindLabState> {
  const state = await readKindState(lab);
  if (!state) throw new NetlabError(`no kind lab named '${lab}' is up`, { hint: `run netlab up --provider kind --name ${lab}` });
  return state;
}

export async function writeKindState(state: KindLabState): Promise<void> {
  await mkdir(kindLabDir(state.name), { recursive: true });
  await writeStateFile(statePath(state.name), state);
}

export async function removeKindLabDir(lab: string): Promise<void> {
  await rm(kindLabDir(lab), { recursive: true, force: true });
}
