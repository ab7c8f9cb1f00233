/**
 * What the NLB emulator wants when a Kubernetes API is its source of truth, as pure data: the
 * load balancer plans (the netns lab's planLoadBalancer, unchanged), each load balancer's address
 * in every zone of the emulator, routes to the pod CIDRs, the Service status, the pods'
 * readiness-gate conditions and draining finalizers, and the status document it publishes.
 * The controller (controller.ts) turns the differences into API writes and `ip` commands.
 */
import type { ServiceEvent } from '../plan/annotations.js';
import { DRAIN_FINALIZER, isNlbService, planLoadBalancer } from '../plan/build.js';
import type { LoadBalancerPlan, Node, Pod, Service } from '../plan/types.js';
import { allocateAddresses, type AddressBook } from '../dataplane/topology.js';
import { describeTargetHealth, dnsAddresses, readinessGateConditions, type TargetView } from '../health/view.js';
import type { ZoneStatus } from '../agent/files.js';
import { svcKey } from '../../model/services.js';

export interface ApiZone {
  /** The zone as nodes are labelled (topology.kubernetes.io/zone), e.g. `lab-1a`. */
  zone: string;
  /** The emulator's own address in that zone. */
  ip: string;
}

/** Load balancer addresses: `<prefix><first>`..`<prefix><last>` (one /24). */
export interface AddressPool {
  prefix: string;
  first: number;
  last: number;
}

export interface ApiPlanInput {
  clusterName: string;
  region: string;
  timeScale: number;
  zones: readonly ApiZone[];
  services: readonly Service[];
  nodes: readonly Node[];
  pods: readonly Pod[];
}

export interface ApiPlans {
  plans: LoadBalancerPlan[];
  /** `namespace/name` → the controller's events for that Service. */
  events: Record<string, ServiceEvent[]>;
  /** The Services this emulator owns (a plan or not). */
  handled: Service[];
}


export function planServices(input: ApiPlanInput): ApiPlans {
  const zones = input.zones.map((z) => z.zone).sort();
  const out: ApiPlans = { plans: [], events: {}, handled: [] };
  for (const service of [...input.services].sort((a, b) => (svcKey(a) < svcKey(b) ? -1 : 1))) {
    // A Service being deleted loses its load balancer.
    if (!isNlbService(service) || service.metadata?.deletionTimestamp) continue;
    const namespace = service.metadata?.namespace ?? 'default';
    const r = planLoadBalancer({
      clusterName: input.clusterName,
      region: input.region,
      timeScale: input.timeScale,
      service,
      nodes: input.nodes,
      pods: input.pods.filter((p) => (p.metadata?.namespace ?? 'default') === namespace),
      zones,
    });
    if (!r.handled) continue;
    out.handled.push(service);
    out.events[svcKey(service)] = r.events;
    if (r.plan) out.plans.push(r.plan);
  }
  return out;
}

/**
 * Keep every load balancer's addresses, give new ones the lowest free address of the pool; a load
 * balancer has one address per zone, both "private" and "public" (there is no router in front).
 */
export function allocateApiAddresses(previous: AddressBook, plans: readonly LoadBalancerPlan[], zones: readonly ApiZone[], pool: AddressPool): AddressBook {
  const zoneNames = new Set(zones.map((z) => z.zone));
  const book = allocateAddresses(
    previous,
    plans.map((p) => ({ name: p.name, zones: p.zones.filter((z) => zoneNames.has(z)) })),
    { privatePrefix: pool.prefix, publicPrefix: pool.prefix, first: pool.first, last: pool.last },
  );
  for (const byZone of Object.values(book)) for (const a of Object.values(byZone)) a.publicIp = a.privateIp;
  return book;
}

/** The pool a zone list implies when none is given: .10-.250 of the first zone address's /24. */
export function defaultPool(zones: readonly ApiZone[]): AddressPool {
  const first = zones[0]?.ip ?? '172.18.1.2';
  return { prefix: `${first.split('.').slice(0, 3).join('.')}.`, first: 10, last: 250 };
}

export interface PodCidrRoute {
  cidr: string;
  via: string;
  node: string;
}

/** Pod IPs are VPC addresses for ip targets: reach each node's pod CIDR(s) through that node. */
export function podCidrRoutes(nodes: readonly Node[]): PodCidrRoute[] {
  const out: PodCidrRoute[] = [];
  for (const n of nodes) {
    const via = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (!via) continue;
    const cidrs = new Set([...(n.spec?.podCIDRs ?? []), ...(n.spec?.podCIDR ? [n.spec.podCIDR] : [])]);
    for (const cidr of cidrs) if (!cidr.includes(':')) out.push({ cidr, via, node: n.metadata?.name ?? '' });
  }
  return out.sort((a, b) => (a.cidr < b.cidr ? -1 : 1));
}

export interface PodCondition {
  type: string;
  status: string;
  /** null removes it: conditions are merged by type, so an absent field would keep the old value. */
  reason: string | null;
  message: string | null;
  lastTransitionTime?: string | null;
}

export interface PodChanges {
  namespace: string;
  name: string;
  /** Readiness-gate conditions to write (changed ones only). */
  conditions: PodCondition[];
  /** The finalizer list to write, or null when it stays. */
  finalizers: string[] | null;
  resourceVersion: string | undefined;
}

/**
 * Per pod: the readiness-gate conditions that differ from what the pod carries (a new
 * lastTransitionTime only when the status flips), and the drain finalizer — added to every ip
 * target's pod, removed from a deleted pod once no zone reports its target (its drain is over).
 */
export function podChanges(pods: readonly Pod[], plans: readonly LoadBalancerPlan[], views: ReadonlyMap<string, TargetView[]>, statuses: readonly ZoneStatus[], now: string): PodChanges[] {
  const targetPods = new Set(plans.flatMap((p) => p.targetGroups.flatMap((tg) => tg.targets.map((t) => t.pod).filter((x): x is string => x !== null))));
  const reported = new Set(statuses.flatMap((s) => s.targets.map((t) => t.pod).filter((x): x is string => x !== null)));
  const out: PodChanges[] = [];
  for (const pod of pods) {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const key = `${namespace}/${name}`;
    const deleting = !!pod.metadata?.deletionTimestamp;
    const have = pod.metadata?.finalizers ?? [];
    let finalizers: string[] | null = null;
    if (!deleting && targetPods.has(key) && !have.includes(DRAIN_FINALIZER)) finalizers = [...have, DRAIN_FINALIZER];
    if (deleting && have.includes(DRAIN_FINALIZER) && !reported.has(key)) finalizers = have.filter((f) => f !== DRAIN_FINALIZER);
    const conditions: PodCondition[] = [];
    if (!deleting) {
      for (const c of readinessGateConditions(pod, plans, views)) {
        const old = pod.status?.conditions?.find((x) => x.type === c.type);
        if (old && old.status === c.status && (old.reason ?? undefined) === c.reason && (old.message ?? undefined) === c.message) continue;
        conditions.push({
          type: c.type,
          status: c.status,
          reason: c.reason ?? null,
          message: c.message ?? null,
          lastTransitionTime: old && old.status === c.status ? (old.lastTransitionTime ?? now) : now,
        });
      }
    }
    if (finalizers || conditions.length > 0) out.push({ namespace, name, conditions, finalizers, resourceVersion: pod.metadata?.resourceVersion });
  }
  return out;
}

/** What the emulator publishes per Service (ConfigMap data, key `<namespace>.<name>`). */
export interface ServiceReport {
  loadBalancer: string | null;
  dnsName: string | null;
  /** Zone → the load balancer's address there. */
  addresses: Record<string, string>;
  /** What the DNS name resolves to now (zones with a healthy target). */
  dnsAddresses: string[];
  events: ServiceEvent[];
  targetGroups: Array<{ name: string; arn: string; targetType: string; port: number } & ReturnType<typeof describeTargetHealth>>;
}

export function serviceReports(apiPlans: ApiPlans, book: AddressBook, views: ReadonlyMap<string, TargetView[]>, statuses: readonly ZoneStatus[]): Record<string, string> {
  const data: Record<string, string> = {};
  for (const svc of apiPlans.handled) {
    const key = svcKey(svc);
    const plan = apiPlans.plans.find((p) => `${p.service.namespace}/${p.service.name}` === key);
    const report: ServiceReport = {
      loadBalancer: plan?.name ?? null,
      dnsName: plan?.dnsName ?? null,
      addresses: plan ? Object.fromEntries(Object.entries(book[plan.name] ?? {}).map(([z, a]) => [z, a.privateIp])) : {},
      dnsAddresses: plan ? dnsAddresses(plan, book, statuses) : [],
      events: apiPlans.events[key] ?? [],
      targetGroups: (plan?.targetGroups ?? []).map((tg) => ({
        name: tg.name,
        arn: tg.arn,
        targetType: tg.targetType,
        port: tg.port,
        ...describeTargetHealth(views.get(plan!.name) ?? [], tg),
      })),
    };
    data[key.replace('/', '.')] = JSON.stringify(report);
  }
  return data;
}
