/**
 * `netlab up` for the netns provider: record the plan in the state file, then create namespaces,
 * links, addresses, routes and sysctls in a few batched `ip` calls, program each node's base
 * kube-proxy rules, and start the node agents and the controller.
 */
import { mkdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NetlabError } from '../../analyzer/errors.js';
import { which } from '../exec/exec.js';
import { buildStamp } from '../exec/paths.js';
import { checkLabName, controllerLogPath, labDir, nodeDir } from '../lab/names.js';
import { isAlive, startProcess } from '../lab/processes.js';
import type { UpOptions } from '../lab/provider.js';
import { reconcile } from '../lab/reconcile.js';
import { readState, withLock, writeState, type LabState } from '../lab/state.js';
import { renderNodeRules } from '../kubeproxy/rules.js';
import { DEFAULT_POOL } from '../metallb/allocate.js';
import { existingNamespaces, runStages, setSysctls } from './apply.js';
import { nodeObject } from './node.js';
import { planTopology, type TopologyPlan } from './plan.js';

function initialState(plan: TopologyPlan, opts: UpOptions, now: string, build: string): LabState {
  return {
    version: 1,
    name: plan.lab,
    provider: 'netns',
    phase: 'creating',
    createdAt: now,
    build,
    options: { nodes: opts.nodes, zones: opts.zones, timeScale: opts.timeScale },
    resources: { namespaces: [...plan.namespaces], files: plan.files.map((f) => f.path), dirs: [...plan.dirs], processes: [] },
    nodes: plan.nodes.map((n) => ({
      name: n.name,
      index: n.index,
      role: n.role,
      netns: n.netns,
      ip: n.ip,
      podCIDR: n.podCIDR,
      podGateway: n.podGateway,
      zone: n.zone,
      stopped: false,
      object: nodeObject(n, now),
    })),
    router: plan.router,
    client: plan.client,
    objects: {
      namespaces: ['default', 'kube-node-lease', 'kube-public', 'kube-system'].map((name) => ({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: { 'kubernetes.io/metadata.name': name }, creationTimestamp: now },
        status: { phase: 'Active' },
      })),
      deployments: [],
      services: [],
    },
    pods: [],
    endpoints: [],
    metallb: { poolStart: DEFAULT_POOL.start, poolEnd: DEFAULT_POOL.end, leaders: {} },
    controller: { pid: null, startedAt: null, heartbeat: null },
    generation: 0,
    realizedGeneration: 0,
    applied: { rules: {}, agents: {} },
    extensions: {},
  };
}

export function validateUpOptions(opts: UpOptions): void {
  checkLabName(opts.name);
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 20) {
    throw new NetlabError(`--nodes ${opts.nodes} is out of range`, { exitCode: 1, hint: 'use 1 to 20 (control plane included)' });
  }
  if (opts.zones.some((z) => !/^[a-z0-9]{1,8}$/.test(z))) throw new NetlabError(`--zones ${opts.zones.join(',')} is not a list of short zone letters`, { exitCode: 1, hint: 'e.g. --zones a,b' });
  if (!(opts.timeScale > 0)) throw new NetlabError(`--time-scale ${opts.timeScale} must be a positive number`, { exitCode: 1 });
}

async function checkHost(lab: string, plan: TopologyPlan): Promise<void> {
  if (process.getuid?.() !== 0) throw new NetlabError('the netns lab needs root (network namespaces, iptables)', { hint: 'run with sudo; netlab doctor lists what else is needed' });
  for (const tool of ['ip', 'iptables-restore', 'sysctl']) {
    if (!(await which(tool))) throw new NetlabError(`${tool} is not installed`, { hint: 'run netlab doctor (or scripts/setup.sh) to install iproute2, iptables and procps' });
  }
  const present = await existingNamespaces();
  const clash = plan.namespaces.filter((n) => present.has(n));
  if (clash.length) {
    throw new NetlabError(`network namespace ${clash[0]} already exists but lab '${lab}' has no state recording it`, {
      hint: `choose another --name, or remove it with ip netns del ${clash[0]} if it is yours`,
    });
  }
}

/** Start the node agents and the controller that are not running (all of them on a new lab). */
export function startDaemons(state: LabState): void {
  const running = (role: string) => state.resources.processes.some((p) => p.role === role && isAlive(p.pid));
  for (const n of state.nodes) {
    const role = `node-agent ${n.name}`;
    if (running(role)) continue;
    const dir = nodeDir(state.name, n.name);
    mkdirSync(dir, { recursive: true });
    const pid = startProcess({ lab: state.name, netns: n.netns, script: 'cluster/lab/node-agent.js', args: ['--dir', dir, '--node', n.name], logFile: path.join(dir, 'agent.log') });
    state.resources.processes = state.resources.processes.filter((p) => p.role !== role);
    state.resources.processes.push({ pid, role, netns: n.netns });
  }
  if (!running('controller')) {
    const pid = startProcess({ lab: state.name, netns: null, script: 'cluster/lab/controller-main.js', args: ['--name', state.name], logFile: controllerLogPath(state.name) });
    state.resources.processes = state.resources.processes.filter((p) => p.role !== 'controller');
    state.resources.processes.push({ pid, role: 'controller', netns: null });
    state.controller = { pid, startedAt: new Date().toISOString(), heartbeat: null };
  }
}

/** A lab keeps running the code it was made with: refuse to reuse one made by another build. */
export async function checkLabBuild(state: LabState): Promise<void> {
  if (state.build === (await buildStamp())) return;
  throw new NetlabError(`lab '${state.name}' was made by another netlab build, whose code its controller and agents still run`, { hint: `netlab down --name ${state.name}, then run this again` });
}

/** Create the lab. The caller made sure no state exists for it. */
export async function provision(opts: UpOptions): Promise<LabState | null> {
  validateUpOptions(opts);
  const plan = planTopology({ lab: opts.name, nodes: opts.nodes, zones: opts.zones });
  if (opts.dryRun) {
    const out = opts.dryRun;
    out(`mkdir -p ${labDir(opts.name)}   # state.json, logs, node-agent files`);
    await runStages(plan.stages, out);
    for (const s of plan.sysctls) await setSysctls(s.netns, s.settings, out);
    for (const f of plan.files) out(`write ${f.path}:\n${f.content.trimEnd().replace(/^/gm, '    ')}`);
    for (const n of plan.nodes) {
      const { text } = renderNodeRules({ node: { name: n.name, ip: n.ip }, services: [], endpoints: [] });
      out(`ip netns exec ${n.netns} iptables-restore <<EOF   # kube-proxy's rules with no Services yet\n${text}EOF`);
    }
    for (const n of plan.nodes) out(`ip netns exec ${n.netns} node dist/cluster/lab/node-agent.js --node ${n.name} &   # readiness probes, healthCheckNodePorts`);
    out(`node dist/cluster/lab/controller-main.js --name ${opts.name} &   # reconcile loop, log ${controllerLogPath(opts.name)}`);
    return null;
  }
  await checkHost(opts.name, plan);
  return withLock(
    opts.name,
    async () => {
      if (await readState(opts.name)) throw new NetlabError(`lab '${opts.name}' is being created by another command`, { hint: 'wait for it, or run netlab down' });
      const state = initialState(plan, opts, new Date().toISOString(), await buildStamp());
      // Everything the plan will create is in the state file before the first `ip` call.
      await writeState(state);
      await runStages(plan.stages);
      await Promise.all(plan.sysctls.map((s) => setSysctls(s.netns, s.settings)));
      for (const d of plan.dirs) await mkdir(d, { recursive: true });
      for (const f of plan.files) await writeFile(f.path, f.content);
      const log = (m: string) => process.stderr.write(process.env.NETLAB_VERBOSE ? `${m}\n` : '');
      await reconcile(state, log);
      state.phase = 'ready';
      startDaemons(state);
      await writeState(state);
      return state;
    },
    { create: true },
  );
}
