/**
 * The plug-in surface of the lab: what a controller (MetalLB, the NLB emulator, …) sees and may
 * change during one reconcile pass. Controllers are listed in controllers.ts and run in order,
 * under the lab's lock, by the lab's controller process (and by CLI commands that change objects).
 */
import * as exec from '../exec/exec.js';
import * as names from './names.js';
import { setCondition } from '../model/pods.js';
import { builtScript, startProcess, stopProcesses, isLabProcess, type StartOptions } from './processes.js';
import { writeState, type Endpoints, type LabNode, type LabPod, type LabState, type Pod, type Service } from './state.js';
import { NetlabError } from '../../analyzer/errors.js';

export interface LabContext {
  readonly lab: string;
  /** The whole state; prefer the helpers below, which keep it consistent. */
  readonly state: LabState;
  /** This pass's clock (RFC 3339), used for condition transition times. */
  readonly now: string;
  /** Divide timers (health-check intervals, drain delays) by this (`up --time-scale`). */
  readonly timeScale: number;
  nodes(): LabNode[];
  /** Every pod, including ones being deleted (`deleting`). */
  pods(): LabPod[];
  services(): Service[];
  endpoints(): Endpoints[];
  /** Replace a Service's status (e.g. status.loadBalancer.ingress). */
  setServiceStatus(namespace: string, name: string, status: NonNullable<Service['status']>): void;
  /** Set a pod condition, e.g. a readiness gate `target-health.elbv2.k8s.aws/<tg>`; Ready follows in the same pass. */
  setPodCondition(namespace: string, name: string, type: string, status: 'True' | 'False', reason?: string, message?: string): void;
  /** A finalizer keeps a deleted pod (process and namespace) alive until it is removed (used for draining). */
  addPodFinalizer(namespace: string, name: string, finalizer: string): void;
  removePodFinalizer(namespace: string, name: string, finalizer: string): void;
  /** Record a namespace (and write the state) BEFORE creating it, so `down` removes it even after a crash. */
  recordNamespace(netns: string): Promise<void>;
  /** Forget a namespace after deleting it. */
  forgetNamespace(netns: string): void;
  /** Start a detached lab process (recorded; `down` stops it). */
  startProcess(opts: Omit<StartOptions, 'lab'> & { role: string }): number;
  stopProcess(pid: number): Promise<void>;
  /** Record a file or folder before writing it outside /run/netlab/L (removed by `down`). */
  recordFile(path: string): Promise<void>;
  exec: typeof exec;
  names: typeof names;
  /** Absolute path of a script under dist/, to run with process.execPath. */
  builtScript: typeof builtScript;
  /** A controller's own persistent slot in the state file. */
  extension<T>(name: string, init: () => T): T;
  log(message: string): void;
}

export interface LabController {
  name: string;
  /** Called for each new pod before it is stored, like a mutating admission webhook (add readiness gates here). */
  admitPod?(pod: Pod, ctx: LabContext): void;
  reconcile(ctx: LabContext): Promise<void>;
  /** Called by `down` before processes and namespaces are removed. */
  teardown?(ctx: LabContext): Promise<void>;
}

function findPod(state: LabState, namespace: string, name: string): LabPod {
  const p = state.pods.find((x) => x.object.metadata?.namespace === namespace && x.object.metadata?.name === name);
  if (!p) throw new NetlabError(`no pod ${namespace}/${name} in lab '${state.name}'`);
  return p;
}

export function makeContext(state: LabState, log: (m: string) => void): LabContext {
  const now = new Date().toISOString();
  return {
    lab: state.name,
    state,
    now,
    timeScale: state.options.timeScale,
    nodes: () => state.nodes,
    pods: () => state.pods,
    services: () => state.objects.services,
    endpoints: () => state.endpoints,
    setServiceStatus(namespace, name, status) {
      const svc = state.objects.services.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name);
      if (!svc) throw new NetlabError(`no Service ${namespace}/${name} in lab '${state.name}'`);
      svc.status = status;
    },
    setPodCondition(namespace, name, type, status, reason, message) {
      setCondition(findPod(state, namespace, name).object, type, status, now, reason, message);
    },
    addPodFinalizer(namespace, name, finalizer) {
      const meta = (findPod(state, namespace, name).object.metadata ??= {});
      meta.finalizers = [...new Set([...(meta.finalizers ?? []), finalizer])];
    },
    removePodFinalizer(namespace, name, finalizer) {
      const p = state.pods.find((x) => x.object.metadata?.namespace === namespace && x.object.metadata?.name === name);
      if (!p?.object.metadata?.finalizers) return;
      p.object.metadata.finalizers = p.object.metadata.finalizers.filter((f) => f !== finalizer);
      if (p.object.metadata.finalizers.length === 0) delete p.object.metadata.finalizers;
    },
    async recordNamespace(netns) {
      if (!state.resources.namespaces.includes(netns)) {
        state.resources.namespaces.push(netns);
        await writeState(state);
      }
    },
    forgetNamespace(netns) {
      state.resources.namespaces = state.resources.namespaces.filter((n) => n !== netns);
    },
    startProcess(opts) {
      const pid = startProcess({ ...opts, lab: state.name });
      state.resources.processes.push({ pid, role: opts.role, netns: opts.netns });
      return pid;
    },
    async stopProcess(pid) {
      if (await isLabProcess(state.name, pid)) await stopProcesses([pid]);
      state.resources.processes = state.resources.processes.filter((p) => p.pid !== pid);
    },
    async recordFile(path) {
      if (!state.resources.files.includes(path)) {
        state.resources.files.push(path);
        await writeState(state);
      }
    },
    exec,
    names,
    builtScript,
    extension<T>(name: string, init: () => T): T {
      if (!(name in state.extensions)) state.extensions[name] = init();
      return state.extensions[name] as T;
    },
    log,
  };
}
