/**
 * One reconcile pass: make the lab match its desired objects. Idempotent; called under the lock by
 * the controller process every tick and by CLI commands right after they change objects (so
 * `netlab apply` returns with namespaces, processes and rules in place).
 *
 *   Deployments → pods (create / delete) → pod namespaces + processes → probe results → pod
 *   conditions → Endpoints → plug-in controllers (MetalLB, NLB, …) → conditions and Endpoints again
 *   → kube-proxy rules and node-agent config per node (applied only where they changed).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { applyNodeRules } from '../kubeproxy/apply.js';
import { renderNodeRules } from '../kubeproxy/rules.js';
import { computeEndpoints } from '../model/endpoints.js';
import { allocatePodIp, deploymentKey, markDeleting, newPod, ownerOf, pickNode, podKey, randomSuffix, podTemplateHash, updatePodStatus } from '../model/pods.js';
import { allocateService } from '../model/services.js';
import { runStages } from '../netns/apply.js';
import { planPodNetwork, type IpBatch } from '../netns/plan.js';
import { nodeReadyCondition } from '../netns/node.js';
import { podPorts, workloadFor } from '../workloads/images.js';
import type { AgentConfig } from './node-agent.js';
import { LAB_CONTROLLERS } from './controllers.js';
import { makeContext, type LabContext } from './context.js';
import { nodeDir, podLogPath } from './names.js';
import { isAlive } from './processes.js';
import type { LabNode, LabPod, LabState } from './state.js';
import { writeState } from './state.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** Merge several plans' stages so each stage runs one `ip -batch` per namespace. */
function mergeStages(plans: IpBatch[][][]): IpBatch[][] {
  const depth = Math.max(0, ...plans.map((p) => p.length));
  const merged: IpBatch[][] = [];
  for (let i = 0; i < depth; i++) {
    const byNs = new Map<string | null, string[]>();
    for (const plan of plans) for (const b of plan[i] ?? []) byNs.set(b.netns, [...(byNs.get(b.netns) ?? []), ...b.lines]);
    merged.push([...byNs].map(([netns, lines]) => ({ netns, lines })));
  }
  return merged;
}

function scaleDeployments(ctx: LabContext): LabPod[] {
  const { state } = ctx;
  const created: LabPod[] = [];
  const deployments = new Map(state.objects.deployments.map((d) => [deploymentKey(d), d]));
  for (const p of state.pods) {
    const owner = ownerOf(p);
    const d = owner ? deployments.get(owner) : undefined;
    // Pods of a deleted Deployment, or of an older template, go.
    if (!p.deleting && (!d || p.object.metadata?.labels?.['pod-template-hash'] !== podTemplateHash(d))) markDeleting(p, ctx.now);
  }
  for (const d of state.objects.deployments) {
    const key = deploymentKey(d);
    const live = state.pods.filter((p) => !p.deleting && ownerOf(p) === key);
    const want = d.spec?.replicas ?? 1;
    // Scale down newest first, as the ReplicaSet controller prefers not-ready and younger pods.
    live.sort((a, b) => (b.object.metadata?.creationTimestamp ?? '').localeCompare(a.object.metadata?.creationTimestamp ?? ''));
    for (const p of live.slice(0, Math.max(0, live.length - want))) markDeleting(p, ctx.now);
    for (let i = live.length; i < want; i++) {
      const node = pickNode(state.nodes, state.pods, key);
      if (!node) break;
      const ip = allocatePodIp(node, state.pods);
      if (!ip) break;
      const name = `${d.metadata?.name}-${podTemplateHash(d)}-${randomSuffix()}`;
      const ns = d.metadata?.namespace ?? 'default';
      const gates: string[] = [];
      const object = newPod(d, name, node, ip, ctx.now, gates);
      for (const c of LAB_CONTROLLERS) c.admitPod?.(object, ctx);
      const plan = planPodNetwork(state.name, node, ns, name, ip);
      const workload = workloadFor(object);
      const pod: LabPod = {
        netns: plan.netns,
        veth: plan.veth,
        ports: podPorts(object),
        workload: { kind: workload.kind, script: workload.script, args: workload.args },
        pid: null,
        restarts: 0,
        logFile: podLogPath(state.name, ns, name),
        probeReady: false,
        deleting: false,
        object,
      };
      state.pods.push(pod);
      created.push(pod);
    }
  }
  return created;
}

async function createPods(ctx: LabContext, pods: LabPod[]): Promise<void> {
  if (pods.length === 0) return;
  const { state } = ctx;
  // Record first, then create: a crash in between leaves nothing `down` does not know about.
  state.resources.namespaces.push(...pods.map((p) => p.netns).filter((n) => !state.resources.namespaces.includes(n)));
  await writeState(state);
  const plans = pods.map((p) => {
    const node = state.nodes.find((n) => n.name === p.object.spec?.nodeName)!;
    return planPodNetwork(state.name, node, p.object.metadata?.namespace ?? 'default', p.object.metadata?.name ?? '', p.object.status!.podIP!).stages;
  });
  await runStages(mergeStages(plans));
  for (const p of pods) startPodProcess(ctx, p);
}

function startPodProcess(ctx: LabContext, p: LabPod): void {
  p.pid = ctx.startProcess({ role: `pod ${podKey(p)}`, netns: p.netns, script: p.workload.script, args: p.workload.args, logFile: p.logFile });
}

/**
 * Deleted pods no finalizer holds: stop the process, delete the namespace. (The kubelet would
 * SIGTERM at once and SIGKILL after the grace period; the echo server exits on SIGTERM, so only a
 * finalizer — e.g. the NLB emulator draining a target — keeps a deleted pod running.)
 */
async function removeDeletedPods(ctx: LabContext): Promise<void> {
  const { state } = ctx;
  const gone = state.pods.filter((p) => p.deleting && !p.object.metadata?.finalizers?.length);
  if (gone.length === 0) return;
  for (const p of gone) if (p.pid) await ctx.stopProcess(p.pid);
  const lines = gone.map((p) => `netns del ${p.netns}`);
  await runStages([[{ netns: null, lines }]]).catch(() => undefined);
  for (const p of gone) ctx.forgetNamespace(p.netns);
  state.pods = state.pods.filter((p) => !gone.includes(p));
}

async function readProbes(lab: string, node: LabNode): Promise<Record<string, boolean>> {
  try {
    const data = JSON.parse(await readFile(path.join(nodeDir(lab, node.name), 'probes.json'), 'utf8')) as { results: Record<string, boolean> };
    return data.results;
  } catch {
    return {};
  }
}

async function updateStatuses(ctx: LabContext): Promise<void> {
  const { state } = ctx;
  for (const node of state.nodes) {
    const cond = node.object.status?.conditions?.find((c) => c.type === 'Ready');
    const want = node.stopped ? 'Unknown' : 'True';
    if (cond?.status !== want) node.object.status!.conditions = [nodeReadyCondition(!node.stopped, ctx.now)];
  }
  const probes = new Map<string, Record<string, boolean>>();
  for (const node of state.nodes) probes.set(node.name, await readProbes(state.name, node));
  for (const p of state.pods) {
    const node = state.nodes.find((n) => n.name === p.object.spec?.nodeName);
    let alive = p.pid !== null && isAlive(p.pid);
    if (!alive && p.pid !== null && !p.deleting) {
      // The kubelet restarts a dead container: at once the first time, then after 10 s, 20 s, … 5 min.
      p.diedAt ??= ctx.now;
      const backoffMs = p.restarts === 0 ? 0 : Math.min(10_000 * 2 ** (p.restarts - 1), 300_000);
      if (Date.parse(ctx.now) - Date.parse(p.diedAt) >= backoffMs) {
        state.resources.processes = state.resources.processes.filter((r) => r.pid !== p.pid);
        p.restarts++;
        p.diedAt = null;
        startPodProcess(ctx, p);
        alive = true;
      }
    }
    p.probeReady = !p.deleting && alive && (probes.get(node?.name ?? '')?.[podKey(p)] ?? false);
    updatePodStatus(p, !!node && !node.stopped && !p.deleting, alive, ctx.now);
    const cs = p.object.status?.containerStatuses;
    if (cs) for (const c of cs) c.restartCount = p.restarts;
  }
}

function computeAllEndpoints(state: LabState): void {
  state.endpoints = state.objects.services.map((svc) => computeEndpoints(svc, state.pods));
}

function agentConfig(state: LabState, node: LabNode, localEndpoints: Record<string, number>): AgentConfig {
  const probes = state.pods
    .filter((p) => p.object.spec?.nodeName === node.name && !p.deleting && p.object.status?.podIP)
    .map((p) => {
      const probe = p.object.spec?.containers?.find((c) => c.readinessProbe)?.readinessProbe;
      const http = probe?.httpGet;
      const tcp = probe?.tcpSocket;
      const portOf = (port: number | string | undefined) => (typeof port === 'number' ? port : Number(port) || p.ports[0]!);
      const timing = {
        pid: p.pid ?? 0,
        periodSeconds: probe?.periodSeconds ?? 10,
        failureThreshold: probe?.failureThreshold ?? 3,
        successThreshold: probe?.successThreshold ?? 1,
        // Without a readinessProbe the kubelet calls a started container ready: check once that it listens.
        once: !probe,
      };
      if (http) return { key: podKey(p), ip: p.object.status!.podIP!, port: portOf(http.port as number | string), path: http.path ?? '/', ...timing };
      return { key: podKey(p), ip: p.object.status!.podIP!, port: tcp ? portOf(tcp.port as number | string) : p.ports[0]!, path: null, ...timing };
    });
  const healthChecks = state.objects.services
    .filter((s) => s.spec?.healthCheckNodePort)
    .map((s) => {
      const ns = s.metadata?.namespace ?? 'default';
      const name = s.metadata?.name ?? '';
      return { port: s.spec!.healthCheckNodePort!, namespace: ns, name, localEndpoints: localEndpoints[`${ns}/${name}`] ?? 0 };
    });
  return { probes, healthChecks };
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

async function programNodes(ctx: LabContext): Promise<void> {
  const { state } = ctx;
  await Promise.all(
    state.nodes.map(async (node) => {
      const rendered = renderNodeRules({ node: { name: node.name, ip: node.ip }, services: state.objects.services, endpoints: state.endpoints });
      const ruleHash = sha(rendered.text);
      if (state.applied.rules[node.name] !== ruleHash) {
        await applyNodeRules(node.netns, rendered.text);
        state.applied.rules[node.name] = ruleHash;
      }
      const agent = JSON.stringify(agentConfig(state, node, rendered.localEndpoints));
      const agentHash = sha(agent);
      if (state.applied.agents[node.name] !== agentHash) {
        await writeAtomic(path.join(nodeDir(state.name, node.name), 'agent.json'), agent);
        state.applied.agents[node.name] = agentHash;
      }
    }),
  );
}

export interface ReconcileResult {
  podsCreated: number;
}

/** One pass. The caller holds the lock and writes the state afterwards. */
export async function reconcile(state: LabState, log: (m: string) => void): Promise<ReconcileResult> {
  const ctx = makeContext(state, log);
  // One at a time, each seeing the others' allocations so far (two new Services never collide).
  for (let i = 0; i < state.objects.services.length; i++) {
    state.objects.services[i] = allocateService(state.objects.services[i]!, state.objects.services.filter((_, j) => j !== i));
  }
  const created = scaleDeployments(ctx);
  await createPods(ctx, created);
  await removeDeletedPods(ctx);
  await updateStatuses(ctx);
  computeAllEndpoints(state);
  for (const controller of LAB_CONTROLLERS) await controller.reconcile(ctx);
  await updateStatuses(ctx);
  computeAllEndpoints(state);
  await programNodes(ctx);
  state.realizedGeneration = state.generation;
  return { podsCreated: created.length };
}

/** `down`: let controllers undo what they made outside the recorded namespaces. */
export async function teardownControllers(state: LabState, log: (m: string) => void): Promise<void> {
  const ctx = makeContext(state, log);
  for (const controller of LAB_CONTROLLERS) await controller.teardown?.(ctx).catch((err: unknown) => log(`${controller.name} teardown: ${String(err)}`));
}
