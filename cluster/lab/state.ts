/**
 * The lab's state file, /run/netlab/L/state.json: the single record of what the lab is (nodes,
 * Kubernetes objects, pods and their processes) and of every namespace, process and file it made.
 * Anything the lab creates is written here BEFORE it is created, so `down` after a crash (even
 * `kill -9` in the middle of `up`) finds it. Every write is atomic (temp file + rename) and made
 * under the lab's lock (state.lock, holding the writer's pid).
 */
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type {
  V1Deployment,
  V1Endpoints,
  V1Namespace,
  V1Node,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import { NetlabError } from '../../analyzer/errors.js';
import { labDir, lockPath, statePath } from './names.js';
import { isAlive } from './processes.js';

/** A @kubernetes/client-node type as it reads back from JSON: its Date fields are RFC 3339 strings. */
export type Json<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

export type Node = Json<V1Node>;
export type Pod = Json<V1Pod>;
export type Service = Json<V1Service>;
export type Deployment = Json<V1Deployment>;
export type Namespace = Json<V1Namespace>;
export type Endpoints = Json<V1Endpoints>;

export interface RecordedProcess {
  pid: number;
  /** What it is: 'controller', 'pod default/x', 'node-agent worker'. */
  role: string;
  /** The namespace it runs in, or null for the root namespace (the controller). */
  netns: string | null;
}

/** A node's place in the topology, as planned and as recorded. */
export interface NodePlacement {
  name: string;
  /** 0 for the control plane, then 1, 2, … ; picks the node IP and the pod CIDR. */
  index: number;
  role: 'control-plane' | 'worker';
  netns: string;
  /** eth0's address on the node network, e.g. 172.18.0.3. */
  ip: string;
  /** 10.244.N.0/24 */
  podCIDR: string;
  /** 10.244.N.1: the node side of every pod veth. */
  podGateway: string;
  zone: string | null;
}

export interface LabNode extends NodePlacement {
  /** `netlab node stop`: its eth0 is down and Kubernetes sees it NotReady. */
  stopped: boolean;
  object: Node;
}

/** What process a pod runs (cluster/workloads picks it from the container image). */
export interface WorkloadSpec {
  kind: string;
  /** Script under dist/. */
  script: string;
  args: string[];
}

export interface LabPod {
  netns: string;
  /** Node-side veth name. */
  veth: string;
  /** Each container port the workload serves. */
  ports: number[];
  workload: WorkloadSpec;
  pid: number | null;
  /** Times the process was found dead and started again (RESTARTS). */
  restarts: number;
  /** When the process was found dead and not yet restarted (restart back-off), else null. */
  diedAt?: string | null;
  logFile: string;
  /** The controller's last readiness-probe result for the containers (ContainersReady). */
  probeReady: boolean;
  /** Set when the pod is being removed; its process and namespace go after the grace period, once no finalizer is left. */
  deleting: boolean;
  object: Pod;
}

export interface MetallbState {
  /** First and last address of the pool (inclusive). */
  poolStart: string;
  poolEnd: string;
  /** VIP → the node answering ARP for it. */
  leaders: Record<string, string>;
}

export interface LabState {
  version: 1;
  name: string;
  provider: 'netns';
  phase: 'creating' | 'ready' | 'deleting';
  createdAt: string;
  /** buildStamp() of the netlab that made the lab (absent in labs made before it was recorded). */
  build?: string;
  options: { nodes: number; zones: string[]; timeScale: number };
  /** Everything made outside the state file's own folder; `down` removes all of it. */
  resources: { namespaces: string[]; files: string[]; dirs: string[]; processes: RecordedProcess[] };
  nodes: LabNode[];
  router: { netns: string; nodeSideIp: string; clientSideIp: string };
  client: { netns: string; ip: string };
  objects: { namespaces: Namespace[]; deployments: Deployment[]; services: Service[] };
  pods: LabPod[];
  /** Computed by reconcile from pods and services: what `get ep` shows and kube-proxy programs. */
  endpoints: Endpoints[];
  metallb: MetallbState;
  controller: { pid: number | null; startedAt: string | null; heartbeat: string | null };
  /** Bumped on every change of desired objects; the controller copies it once realized. */
  generation: number;
  realizedGeneration: number;
  /** Hashes of what was last applied per node (rules, agent config), so unchanged nodes are skipped. */
  applied: { rules: Record<string, string>; agents: Record<string, string> };
  /** Free-form state of plug-in controllers (e.g. the NLB emulator), keyed by controller name. */
  extensions: Record<string, unknown>;
}

/** A state file (netns or kind lab): null when absent, one clear line when it is not JSON. */
export async function readStateFile<T>(file: string, what: string, hint: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new NetlabError(`${what} is not valid JSON`, { where: file, hint, cause: err });
  }
}

/** Written whole or not at all: readers never see half a state. */
export async function writeStateFile(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 1)}\n`);
  await rename(tmp, file);
}

export function readState(lab: string): Promise<LabState | null> {
  return readStateFile<LabState>(statePath(lab), `the lab's state file`, `run netlab down --name ${lab} (it also cleans up from the namespaces' names)`);
}

/** The state, or a clear error telling the user to run `up`. */
export async function requireState(lab: string): Promise<LabState> {
  const state = await readState(lab);
  if (!state) throw new NetlabError(`no lab named '${lab}' is up`, { hint: `run netlab up --name ${lab}` });
  return state;
}

export function writeState(state: LabState): Promise<void> {
  return writeStateFile(statePath(state.name), state);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run `fn` holding the lab's lock. A lock whose holder died (kill -9) is taken over; a live holder
 * is waited for up to `timeoutMs`.
 */
export async function withLock<T>(lab: string, fn: () => Promise<T>, opts: { timeoutMs?: number; create?: boolean } = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  // Only `up` creates the lab's folder; anyone else finding it gone must not bring it back.
  if (opts.create) await mkdir(labDir(lab), { recursive: true });
  const file = lockPath(lab);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fh = await open(file, 'wx');
      await fh.write(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new NetlabError(`no lab named '${lab}' is up`, { hint: `run netlab up --name ${lab}` });
      if (code !== 'EEXIST') throw err;
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (!holder || !isAlive(holder)) {
        // The holder died (or had not written its pid yet and we lost a race; retrying resolves it).
        if (holder && !isAlive(holder)) await rm(file, { force: true });
        else await sleep(20);
        continue;
      }
      if (Date.now() > deadline) {
        throw new NetlabError(`lab '${lab}' is locked by process ${holder}`, { where: file, hint: 'wait for it to finish, or stop that process' });
      }
      await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}

/** Read, change and write the state under the lock. */
export async function updateState<T>(lab: string, fn: (state: LabState) => Promise<T> | T): Promise<T> {
  return withLock(lab, async () => {
    const state = await requireState(lab);
    const result = await fn(state);
    await writeState(state);
    return result;
  });
}
