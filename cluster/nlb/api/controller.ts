/**
 * The NLB emulator driven by a Kubernetes API (API mode): it watches Nodes, Pods, Services and
 * EndpointSlices, plans every NLB Service with the netns lab's planning code, runs one ZoneAgent per
 * zone in this process (the same health checks, draining and data plane as the lab's zone agents),
 * and writes back what the AWS Load Balancer Controller would: the Service's
 * status.loadBalancer.ingress (DNS name + zone addresses), Events, readiness-gate conditions on
 * pods, and a finalizer that keeps a deleted target's pod until its drain ends. Target health and
 * the addresses behind the DNS name are published in one ConfigMap, since the Kubernetes API has
 * no place for them.
 */
import type { KubeClient, Informer } from '../../kube/client.js';
import type { KindName } from '../../kube/kinds.js';
import { ZoneAgent, type ZoneAgentIo } from '../agent/zone-agent.js';
import type { ZoneConfig, ZoneStatus } from '../agent/files.js';
import { renderZoneRules, type ZoneRulesInput } from '../dataplane/rules.js';
import type { AddressBook } from '../dataplane/topology.js';
import { serviceIngress, targetViews, type Ingress } from '../health/view.js';
import type { ServiceEvent } from '../plan/annotations.js';
import type { Node, Pod, Service } from '../plan/types.js';
import { OWN_CHAIN_PREFIX } from './apply.js';
import { svcKey } from '../../model/services.js';
import {
  allocateApiAddresses,
  planServices,
  podCidrRoutes,
  podChanges,
  serviceReports,
  type AddressPool,
  type ApiZone,
} from './plan.js';

/** The system side, injectable so the controller's logic can be tested without root. */
export interface ApiSystem {
  addAddress(ip: string): Promise<void>;
  removeAddress(ip: string): Promise<void>;
  setRoute(cidr: string, via: string): Promise<void>;
  removeRoute(cidr: string): Promise<void>;
  applyRules(text: string): Promise<void>;
  probe: ZoneAgentIo['probe'];
  now(): number;
}

export interface ApiControllerOptions {
  kube: KubeClient;
  system: ApiSystem;
  zones: readonly ApiZone[];
  pool: AddressPool;
  clusterName: string;
  region: string;
  timeScale: number;
  /** Where the status ConfigMap lives. */
  statusNamespace: string;
  statusName: string;
  log: (line: string) => void;
}

const TICK_MS = 50;

export class ApiNlbController {
  private readonly informers: { [K in 'Node' | 'Pod' | 'Service' | 'EndpointSlice']?: Informer<unknown> } = {};
  private readonly agents = new Map<string, ZoneAgent>();
  private readonly zoneRules = new Map<string, ZoneRulesInput>();
  private book: AddressBook = {};
  private readonly addresses = new Set<string>();
  private readonly routes = new Map<string, string>();
  /** Service uid → the events last written for it, so each is written once per object. */
  private readonly sentEvents = new Map<string, string>();
  private appliedRules = '';
  private rulesChain: Promise<void> = Promise.resolve();
  /** Agent ticks run one at a time (the timer's and a reconcile pass's): a tick is not reentrant. */
  private agentChain: Promise<void> = Promise.resolve();
  private lastReport = '';
  private healthSignature = '';
  private wanted = false;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Reconcile passes run so far (tests and logs). */
  passes = 0;

  constructor(private readonly opts: ApiControllerOptions) {
    for (const z of opts.zones) {
      this.agents.set(
        z.zone,
        new ZoneAgent(
          {
            probe: opts.system.probe,
            now: opts.system.now,
            applyRules: (rules) => this.applyZoneRules(z.zone, rules),
          },
          null,
        ),
      );
    }
  }

  async start(): Promise<void> {
    const kinds: Array<'Node' | 'Pod' | 'Service' | 'EndpointSlice'> = ['Node', 'Pod', 'Service', 'EndpointSlice'];
    for (const kind of kinds) {
      this.informers[kind] = this.opts.kube.watch(kind as KindName, () => this.schedule(), {
        onError: (err) => this.opts.log(`watch ${kind}: ${err.message}`),
      }) as Informer<unknown>;
    }
    await Promise.all(kinds.map((k) => this.informers[k]!.synced));
    this.opts.log(`synced: ${kinds.map((k) => `${this.informers[k]!.list().length} ${k}s`).join(', ')}`);
    await this.reconcileNow();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const i of Object.values(this.informers)) i?.stop();
    await this.running;
    await this.agentChain;
    await Promise.all([...this.agents.values()].map((a) => a.stop()));
  }

  /** Undo the system side: addresses and routes this controller added. */
  async cleanup(): Promise<void> {
    for (const ip of this.addresses) await this.opts.system.removeAddress(ip);
    for (const cidr of this.routes.keys()) await this.opts.system.removeRoute(cidr);
    this.addresses.clear();
    this.routes.clear();
  }

  statuses(): ZoneStatus[] {
    return [...this.agents.values()].map((a) => a.status());
  }

  private list<T>(kind: 'Node' | 'Pod' | 'Service' | 'EndpointSlice'): T[] {
    return (this.informers[kind]?.list() ?? []) as T[];
  }

  private tickAgents(): Promise<void> {
    this.agentChain = this.agentChain.then(async () => {
      for (const a of this.agents.values()) {
        try {
          await a.tick();
        } catch (err) {
          this.opts.log(`agent: ${(err as Error).message}`);
        }
      }
    });
    return this.agentChain;
  }

  /** Agents tick; a change of any target's health is a reason to write to the API again. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    await this.tickAgents();
    const sig = JSON.stringify(this.statuses().map((s) => s.targets.map((t) => [t.targetGroup, t.ip, t.port, t.state, t.reason])));
    if (sig !== this.healthSignature) {
      this.healthSignature = sig;
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.wanted = true;
    if (!this.running) this.running = this.drain();
  }

  private async drain(): Promise<void> {
    while (this.wanted && !this.stopped) {
      this.wanted = false;
      try {
        await this.reconcile();
      } catch (err) {
        this.opts.log(`reconcile: ${(err as Error).message}`);
      }
    }
    this.running = null;
  }

  /** Run a pass now and wait for it (start-up and tests). */
  async reconcileNow(): Promise<void> {
    this.schedule();
    await this.running;
  }

  private async applyZoneRules(zone: string, rules: ZoneRulesInput): Promise<void> {
    this.zoneRules.set(zone, rules);
    // Both zones' rules share the namespace: one rule set, load balancer names made zone-unique
    // (they name the listener chains).
    const all: ZoneRulesInput = {
      loadBalancers: [...this.zoneRules].flatMap(([z, r]) => r.loadBalancers.map((lb) => ({ ...lb, name: `${z}/${lb.name}` }))),
      terminated: [...this.zoneRules.values()].flatMap((r) => r.terminated),
    };
    const text = renderZoneRules(all, { ownChainPrefix: OWN_CHAIN_PREFIX });
    this.rulesChain = this.rulesChain.then(async () => {
      if (text === this.appliedRules) return;
      await this.opts.system.applyRules(text);
      this.appliedRules = text;
    });
    await this.rulesChain;
  }

  private async reconcile(): Promise<void> {
    this.passes++;
    const o = this.opts;
    const services = this.list<Service>('Service');
    const nodes = this.list<Node>('Node');
    const pods = this.list<Pod>('Pod');
    const apiPlans = planServices({ clusterName: o.clusterName, region: o.region, timeScale: o.timeScale, zones: o.zones, services, nodes, pods });

    // Addresses: new load balancers get theirs before any agent serves them; gone ones lose them after.
    try {
      this.book = allocateApiAddresses(this.book, apiPlans.plans, o.zones, o.pool);
    } catch (err) {
      o.log(`addresses: ${(err as Error).message}`);
    }
    const wantedIps = new Set(Object.values(this.book).flatMap((z) => Object.values(z).map((a) => a.privateIp)));
    for (const ip of wantedIps) {
      if (this.addresses.has(ip)) continue;
      await o.system.addAddress(ip);
      this.addresses.add(ip);
      o.log(`address ${ip} added`);
    }

    const wantedRoutes = podCidrRoutes(nodes);
    for (const r of wantedRoutes) {
      if (this.routes.get(r.cidr) === r.via) continue;
      await o.system.setRoute(r.cidr, r.via);
      this.routes.set(r.cidr, r.via);
      o.log(`route ${r.cidr} via ${r.via} (node ${r.node})`);
    }
    for (const cidr of [...this.routes.keys()]) {
      if (wantedRoutes.some((r) => r.cidr === cidr)) continue;
      await o.system.removeRoute(cidr);
      this.routes.delete(cidr);
    }

    for (const z of o.zones) {
      const config: ZoneConfig = {
        zone: z.zone,
        netns: '',
        loadBalancers: apiPlans.plans.filter((p) => this.book[p.name]?.[z.zone]).map((p) => ({ plan: p, ...this.book[p.name]![z.zone]! })),
      };
      this.agents.get(z.zone)!.configure(config);
    }
    await this.tickAgents();

    for (const ip of [...this.addresses]) {
      if (wantedIps.has(ip)) continue;
      await o.system.removeAddress(ip);
      this.addresses.delete(ip);
      o.log(`address ${ip} removed`);
    }

    const statuses = this.statuses();
    const views = new Map(apiPlans.plans.map((p) => [p.name, targetViews(p, statuses)]));
    await this.writeServices(apiPlans.handled, apiPlans.plans, apiPlans.events);
    await this.writePods(pods, apiPlans.plans, views, statuses);
    await this.writeReport(serviceReports(apiPlans, this.book, views, statuses));
  }

  private async writeServices(handled: Service[], plans: ReturnType<typeof planServices>['plans'], events: Record<string, ServiceEvent[]>): Promise<void> {
    const kube = this.opts.kube;
    for (const svc of handled) {
      const key = svcKey(svc);
      const plan = plans.find((p) => `${p.service.namespace}/${p.service.name}` === key);
      const ingress: Ingress[] = serviceIngress(plan, this.book);
      const now = (svc.status?.loadBalancer?.ingress ?? []) as Ingress[];
      if (JSON.stringify(now.map((i) => ({ ...(i.hostname ? { hostname: i.hostname } : {}), ...(i.ip ? { ip: i.ip } : {}), ...(i.ipMode ? { ipMode: i.ipMode } : {}) }))) !== JSON.stringify(ingress)) {
        await kube.patchStatus('Service', svc.metadata?.name ?? '', svc.metadata?.namespace, { loadBalancer: { ingress: ingress.length ? ingress : null } });
        this.opts.log(`${key}: ingress ${ingress.map((i) => i.hostname ?? i.ip).join(' ') || '(none)'}`);
      }
      const evs = JSON.stringify(events[key] ?? []);
      // By uid: a Service deleted and created again under its name is a new object with its own Events.
      const uid = svc.metadata?.uid ?? key;
      if (this.sentEvents.get(uid) !== evs) {
        this.sentEvents.set(uid, evs);
        for (const e of events[key] ?? []) {
          await kube.createEvent(svc, e.type, e.reason, e.message, 'netlab-nlb');
          this.opts.log(`${key}: ${e.type} ${e.reason}: ${e.message}`);
        }
      }
    }
    const current = new Set(handled.map((s) => s.metadata?.uid ?? svcKey(s)));
    for (const uid of this.sentEvents.keys()) if (!current.has(uid)) this.sentEvents.delete(uid);
  }

  private async writePods(pods: Pod[], plans: ReturnType<typeof planServices>['plans'], views: Map<string, ReturnType<typeof targetViews>>, statuses: ZoneStatus[]): Promise<void> {
    const kube = this.opts.kube;
    const now = new Date(this.opts.system.now()).toISOString();
    for (const c of podChanges(pods, plans, views, statuses, now)) {
      try {
        if (c.conditions.length > 0) {
          await kube.patchStatus('Pod', c.name, c.namespace, { conditions: c.conditions });
          this.opts.log(`pod ${c.namespace}/${c.name}: ${c.conditions.map((x) => `${x.type}=${x.status}${x.reason ? ` (${x.reason})` : ''}`).join(', ')}`);
        }
        if (c.finalizers) {
          // The resourceVersion makes this a compare-and-swap: a 409 means someone else changed the list; the next pass retries.
          await kube.patchMerge('Pod', c.name, c.namespace, { metadata: { finalizers: c.finalizers, resourceVersion: c.resourceVersion } });
          this.opts.log(`pod ${c.namespace}/${c.name}: finalizers ${JSON.stringify(c.finalizers)}`);
        }
      } catch (err) {
        const status = (err as { status?: number }).status;
        // Gone (deleted meanwhile) or changed meanwhile: the watch brings the news and another pass.
        if (status !== 404 && status !== 409) throw err;
      }
    }
  }

  private async writeReport(data: Record<string, string>): Promise<void> {
    const text = JSON.stringify(data);
    if (text === this.lastReport) return;
    const before = this.lastReport ? (JSON.parse(this.lastReport) as Record<string, string>) : {};
    await this.opts.kube.applyObject({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: this.opts.statusName, namespace: this.opts.statusNamespace, labels: { 'app.kubernetes.io/managed-by': 'netlab-nlb' } },
      data,
    });
    // Keys of Services that are gone are removed explicitly (apply alone would keep them on a server that merges).
    const gone = Object.keys(before).filter((k) => !(k in data));
    if (gone.length > 0) await this.opts.kube.patchMerge('ConfigMap', this.opts.statusName, this.opts.statusNamespace, { data: Object.fromEntries(gone.map((k) => [k, null])) });
    this.lastReport = text;
  }
}
