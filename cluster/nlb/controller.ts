/**
 * The NLB emulator as a lab controller (the AWS Load Balancer Controller's job): on every reconcile
 * pass it plans each NLB Service, creates the zone NLB nodes the first time one is needed, hands
 * each zone's agent its load balancers, and reads target health back into the Service status,
 * readiness-gate conditions, pod finalizers (so a draining pod keeps serving its connections) and
 * the client's hosts file (the load balancer's DNS name, with AWS's DNS failover: only zones with
 * a healthy target, or every zone when none has one).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { nlbDir, readJson, writeJsonAtomic, zoneConfigPath, zoneLogPath, zoneStatusPath, type ZoneConfig, type ZoneStatus } from './agent/files.js';
import { ensureNodeReturnRouting, ensureZoneNode, setLoadBalancerAddresses } from './dataplane/apply.js';
import { allocateAddresses, zoneNodes, type AddressBook, type ZoneNode } from './dataplane/topology.js';
import { dnsAddresses, readinessGateConditions, serviceIngress, targetViews, type TargetView } from './health/view.js';
import type { ServiceEvent } from './plan/annotations.js';
import { DRAIN_FINALIZER, isNlbService, planLoadBalancer, readinessGatesForNewPod } from './plan/build.js';
import type { LabContext, LabController } from '../lab/context.js';
import { REGION } from '../netns/plan.js';
import type { LoadBalancerPlan, Pod, Service } from './plan/types.js';
import { svcKey } from '../model/services.js';

export const NLB_EXTENSION = 'nlb';
const HOSTS_MARK = '# netlab-nlb';

/** What the emulator keeps in the lab's state file (state.extensions.nlb). */
export interface NlbExtension {
  /** Zones whose NLB node exists, with the nodes' return routing in place. */
  zones: string[];
  addresses: AddressBook;
  /** Zone short name → agent pid. */
  agents: Record<string, number>;
  /** Zone short name → hash of the config last written. */
  configHashes: Record<string, string>;
  /** `namespace/name` → the plan the agents run. */
  plans: Record<string, LoadBalancerPlan>;
  /** `namespace/name` → the controller's events for that Service (FailedBuildModel, SuccessfullyReconciled). */
  events: Record<string, ServiceEvent[]>;
  /** The lines this controller keeps in the client's hosts file (`<ip> <DNS name>`). */
  hosts: string[];
}

const emptyExtension = (): NlbExtension => ({ zones: [], addresses: {}, agents: {}, configHashes: {}, plans: {}, events: {}, hosts: [] });
const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function labZones(ctx: LabContext): string[] {
  return [...new Set(ctx.state.nodes.map((n) => n.zone).filter((z): z is string => !!z))].sort();
}

function planAll(ctx: LabContext): { plans: LoadBalancerPlan[]; events: Record<string, ServiceEvent[]>; handled: Service[] } {
  const nodes = ctx.state.nodes.map((n) => n.object);
  const pods = ctx.state.pods.filter((p) => !p.deleting).map((p) => p.object);
  const zones = labZones(ctx);
  const plans: LoadBalancerPlan[] = [];
  const events: Record<string, ServiceEvent[]> = {};
  const handled: Service[] = [];
  for (const service of ctx.services()) {
    if (!isNlbService(service)) continue;
    const r = planLoadBalancer({ clusterName: ctx.lab, region: REGION, timeScale: ctx.timeScale, service, nodes, pods, zones });
    if (!r.handled) continue;
    handled.push(service);
    events[svcKey(service)] = r.events;
    if (r.plan) plans.push(r.plan);
  }
  return { plans, events, handled };
}

async function ensureZones(ctx: LabContext, ext: NlbExtension, zns: ZoneNode[]): Promise<void> {
  const missing = zns.filter((zn) => !ext.zones.includes(zn.zone));
  if (missing.length === 0) return;
  const routes = ctx.state.nodes.map((n) => ({ name: n.name, ip: n.ip, podCIDR: n.podCIDR }));
  for (const zn of missing) {
    await ctx.recordNamespace(zn.netns);
    await ensureZoneNode(ctx.names.nsFabric(ctx.lab), zn, routes);
    ctx.log(`nlb: NLB node for zone ${zn.zone} is up in ${zn.netns} (${zn.ip}, ${zn.mac})`);
  }
  for (const node of ctx.state.nodes) await ensureNodeReturnRouting(node.netns, zns);
  ext.zones = zns.map((zn) => zn.zone);
}

async function syncAddresses(ctx: LabContext, ext: NlbExtension, zns: ZoneNode[], plans: LoadBalancerPlan[]): Promise<void> {
  const zoneSet = new Set(zns.map((z) => z.zone));
  const book = allocateAddresses(ext.addresses, plans.map((p) => ({ name: p.name, zones: p.zones.filter((z) => zoneSet.has(z)) })));
  const router = ctx.names.nsRouter(ctx.lab);
  for (const zn of zns) {
    for (const [lb, byZone] of Object.entries(ext.addresses)) {
      const had = byZone[zn.zone];
      if (had && book[lb]?.[zn.zone]?.privateIp !== had.privateIp) await setLoadBalancerAddresses(zn, router, had, 'del');
    }
    for (const [lb, byZone] of Object.entries(book)) {
      const now = byZone[zn.zone];
      if (now && ext.addresses[lb]?.[zn.zone]?.privateIp !== now.privateIp) await setLoadBalancerAddresses(zn, router, now, 'add');
    }
  }
  ext.addresses = book;
}

async function syncAgents(ctx: LabContext, ext: NlbExtension, zns: ZoneNode[], plans: LoadBalancerPlan[]): Promise<void> {
  const dir = ctx.names.labDir(ctx.lab);
  await mkdir(nlbDir(dir), { recursive: true });
  for (const zn of zns) {
    const config: ZoneConfig = {
      zone: zn.zone,
      netns: zn.netns,
      loadBalancers: plans.filter((p) => ext.addresses[p.name]?.[zn.zone]).map((p) => ({ plan: p, ...ext.addresses[p.name]![zn.zone]! })),
    };
    const hash = sha(JSON.stringify(config));
    if (ext.configHashes[zn.short] !== hash) {
      await writeJsonAtomic(zoneConfigPath(dir, zn.short), config);
      ext.configHashes[zn.short] = hash;
    }
    const pid = ext.agents[zn.short];
    if (pid === undefined || !alive(pid)) {
      ext.agents[zn.short] = ctx.startProcess({
        role: `nlb-agent ${zn.zone}`,
        netns: zn.netns,
        script: 'cluster/nlb/agent/main.js',
        args: ['--config', zoneConfigPath(dir, zn.short), '--status', zoneStatusPath(dir, zn.short)],
        logFile: zoneLogPath(dir, zn.short),
      });
      ctx.log(`nlb: agent for zone ${zn.zone} started (pid ${ext.agents[zn.short]})`);
    }
  }
}

export async function readZoneStatuses(labDir: string, zones: readonly string[]): Promise<ZoneStatus[]> {
  const zns = zoneNodes('', REGION, zones);
  const out: ZoneStatus[] = [];
  for (const zn of zns) {
    const s = await readJson<ZoneStatus>(zoneStatusPath(labDir, zn.short)).catch(() => null);
    if (s) out.push(s);
  }
  return out;
}

async function syncHosts(ctx: LabContext, lines: string[]): Promise<void> {
  const file = path.join(ctx.names.clientHostsDir(ctx.lab), 'hosts');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return;
  }
  const kept = text.split('\n').filter((l) => l !== '' && !l.endsWith(HOSTS_MARK));
  const next = `${[...kept, ...lines.map((l) => `${l} ${HOSTS_MARK}`)].join('\n')}\n`;
  if (next === text) return;
  await writeFile(`${file}.tmp`, next);
  await rename(`${file}.tmp`, file);
}

function syncPods(ctx: LabContext, plans: LoadBalancerPlan[], views: Map<string, TargetView[]>, statuses: ZoneStatus[]): void {
  const targetPods = new Set(plans.flatMap((p) => p.targetGroups.flatMap((tg) => tg.targets.map((t) => t.pod).filter((x): x is string => x !== null))));
  const reportedPods = new Set(statuses.flatMap((s) => s.targets.map((t) => t.pod).filter((x): x is string => x !== null)));
  for (const p of ctx.state.pods) {
    const ns = p.object.metadata?.namespace ?? 'default';
    const name = p.object.metadata?.name ?? '';
    const key = `${ns}/${name}`;
    if (!p.deleting) {
      for (const c of readinessGateConditions(p.object, plans, views)) ctx.setPodCondition(ns, name, c.type, c.status, c.reason, c.message);
      if (targetPods.has(key)) ctx.addPodFinalizer(ns, name, DRAIN_FINALIZER);
    } else if (p.object.metadata?.finalizers?.includes(DRAIN_FINALIZER) && !reportedPods.has(key)) {
      ctx.removePodFinalizer(ns, name, DRAIN_FINALIZER);
    }
  }
}

export const nlbController: LabController = {
  name: NLB_EXTENSION,

  /** The controller's pod mutating webhook: readiness gates for ip targets in opted-in namespaces. */
  admitPod(pod: Pod, ctx: LabContext): void {
    const ns = pod.metadata?.namespace ?? 'default';
    const labels = ctx.state.objects.namespaces.find((n) => n.metadata?.name === ns)?.metadata?.labels ?? {};
    const { plans } = planAll(ctx);
    const gates = readinessGatesForNewPod(pod, labels, plans, ctx.services());
    if (gates.length === 0) return;
    const spec = (pod.spec ??= { containers: [] });
    const have = new Set((spec.readinessGates ?? []).map((g) => g.conditionType));
    spec.readinessGates = [...(spec.readinessGates ?? []), ...gates.filter((g) => !have.has(g)).map((conditionType) => ({ conditionType }))];
  },

  async reconcile(ctx: LabContext): Promise<void> {
    const ext = ctx.extension<NlbExtension>(NLB_EXTENSION, emptyExtension);
    const { plans, events, handled } = planAll(ctx);
    for (const [key, evs] of Object.entries(events)) {
      const before = JSON.stringify(ext.events[key] ?? []);
      if (JSON.stringify(evs) !== before) for (const e of evs) ctx.log(`nlb: ${key}: ${e.type} ${e.reason}: ${e.message}`);
    }
    ext.events = events;
    ext.plans = Object.fromEntries(plans.map((p) => [`${p.service.namespace}/${p.service.name}`, p]));
    if (plans.length === 0 && ext.zones.length === 0) {
      for (const svc of handled) ctx.setServiceStatus(svc.metadata?.namespace ?? 'default', svc.metadata?.name ?? '', { ...(svc.status ?? {}), loadBalancer: {} });
      return;
    }
    const zns = zoneNodes(ctx.lab, REGION, labZones(ctx));
    await ensureZones(ctx, ext, zns);
    await syncAddresses(ctx, ext, zns, plans);
    await syncAgents(ctx, ext, zns, plans);

    const statuses = await readZoneStatuses(ctx.names.labDir(ctx.lab), ext.zones);
    const views = new Map(plans.map((p) => [p.name, targetViews(p, statuses)]));
    const hosts: string[] = [];
    for (const svc of handled) {
      const plan = ext.plans[svcKey(svc)];
      const ns = svc.metadata?.namespace ?? 'default';
      const name = svc.metadata?.name ?? '';
      if (!plan) {
        ctx.setServiceStatus(ns, name, { ...(svc.status ?? {}), loadBalancer: {} });
        continue;
      }
      ctx.setServiceStatus(ns, name, { ...(svc.status ?? {}), loadBalancer: { ingress: serviceIngress(plan, ext.addresses) } });
      for (const ip of dnsAddresses(plan, ext.addresses, statuses)) hosts.push(`${ip} ${plan.dnsName}`);
    }
    syncPods(ctx, plans, views, statuses);
    await syncHosts(ctx, hosts);
    ext.hosts = hosts;
  },
};
