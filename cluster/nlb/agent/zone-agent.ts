/**
 * One NLB node's brain, run inside its namespace: registers and deregisters targets as the
 * controller's config changes, health-checks them with real probes on AWS's schedule (scaled by the
 * lab's time scale), drains removed targets, and keeps the data plane in step — kernel NAT rules
 * for plain listeners, PPv2 proxies for the others. Where its config comes from (a file in the
 * netns lab, a Kubernetes API in API mode) and how its rules are applied is the caller's business.
 */
import { afterProbe, deregistered, registered, routable, type ProbeResult, type TargetHealth } from '../health/state.js';
import type { ProbeSpec } from '../health/probe.js';
import { Ppv2ProxyListener, type ProxyTarget } from '../dataplane/proxy.js';
import { lbAddresses, type LoadBalancerRules, type TerminatedTarget, type ZoneRulesInput } from '../dataplane/rules.js';
import type { TargetGroupPlan, TargetPlan } from '../plan/types.js';
import { writeJsonAtomic, type ListenerStatus, type TargetStatus, type ZoneConfig, type ZoneLoadBalancer, type ZoneStatus } from './files.js';

export interface ZoneAgentIo {
  probe(spec: ProbeSpec): Promise<ProbeResult>;
  /** Make the kernel's NAT rules for this zone these (called only when they change). */
  applyRules(rules: ZoneRulesInput): Promise<void>;
  now(): number;
}

interface Tracked {
  key: string;
  lb: ZoneLoadBalancer;
  tg: TargetGroupPlan;
  target: TargetPlan;
  health: TargetHealth;
  nextProbeAtMs: number;
  probing: boolean;
}

interface Terminated extends TerminatedTarget {
  key: string;
}

const STATUS_REFRESH_MS = 1000;

const targetKey = (tg: string, t: { ip: string; port: number }) => `${tg}|${t.ip}|${t.port}`;

export class ZoneAgent {
  private config: ZoneConfig | null = null;
  private readonly tracked = new Map<string, Tracked>();
  private readonly terminated = new Map<string, Terminated>();
  private readonly proxies = new Map<string, Ppv2ProxyListener>();
  private appliedRules: string | null = null;
  private dirty = true;
  private lastStatusMs = 0;
  private readonly errors: string[] = [];
  /** Health from a previous agent's status: a restarted agent picks up where it left off instead of re-registering every target. */
  private seed: Map<string, TargetStatus>;

  /**
   * `statusPath`: where to write the status (null: only `status()`); `previous`: the status a
   * previous agent of this zone last wrote.
   */
  constructor(
    private readonly io: ZoneAgentIo,
    private readonly statusPath: string | null,
    previous: ZoneStatus | null = null,
  ) {
    this.seed = new Map((previous?.targets ?? []).map((t) => [targetKey(t.targetGroup, t), t]));
  }

  /** Take a new config: register new targets, drain removed ones (the same config again changes nothing). */
  configure(config: ZoneConfig): void {
    if (this.config && JSON.stringify(this.config) === JSON.stringify(config)) return;
    this.config = config;
    this.reconcileTargets(config);
    this.dirty = true;
  }

  /** One step: start due probes, end expired drains, sync the data plane. */
  async tick(): Promise<void> {
    const now = this.io.now();
    for (const t of this.tracked.values()) {
      if (t.health.state === 'draining') {
        if (t.health.drainUntilMs !== null && now >= t.health.drainUntilMs) this.finishDrain(t);
        continue;
      }
      if (!t.probing && now >= t.nextProbeAtMs) this.startProbe(t, now);
    }
    if (this.dirty) {
      this.dirty = false;
      await this.syncDataPlane();
      await this.writeStatus(now);
    } else if (now - this.lastStatusMs >= STATUS_REFRESH_MS) {
      // Connection counts and the heartbeat change without a state change.
      await this.writeStatus(now);
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    this.proxies.clear();
  }

  /** Targets this node may send to: its own zone's, or every zone's with cross-zone load balancing. */
  private candidates(config: ZoneConfig): Array<{ lb: ZoneLoadBalancer; tg: TargetGroupPlan; target: TargetPlan }> {
    const out: Array<{ lb: ZoneLoadBalancer; tg: TargetGroupPlan; target: TargetPlan }> = [];
    for (const lb of config.loadBalancers) {
      for (const tg of lb.plan.targetGroups) {
        for (const target of tg.targets) {
          if (lb.plan.crossZone || target.availabilityZone === config.zone) out.push({ lb, tg, target });
        }
      }
    }
    return out;
  }

  private reconcileTargets(config: ZoneConfig): void {
    const now = this.io.now();
    const wanted = new Map(this.candidates(config).map((c) => [targetKey(c.tg.name, c.target), c]));
    for (const [key, c] of wanted) {
      const had = this.tracked.get(key);
      this.terminated.delete(key);
      if (had && had.health.state !== 'draining') {
        had.lb = c.lb;
        had.tg = c.tg;
        had.target = c.target;
        continue;
      }
      const seeded = had ? undefined : this.seed.get(key);
      if (seeded && seeded.state !== 'draining') {
        const hc = c.tg.healthCheck;
        const health: TargetHealth = {
          ...registered(now),
          state: seeded.state,
          reason: seeded.reason,
          description: seeded.description,
          consecutiveOk: seeded.state === 'healthy' ? hc.healthyThreshold : 0,
          consecutiveFail: seeded.state === 'unhealthy' ? hc.unhealthyThreshold : 0,
        };
        this.tracked.set(key, { key, ...c, health, nextProbeAtMs: now, probing: false });
        continue;
      }
      // AWS waits about one interval before the first check of a new target (Elb.RegistrationInProgress).
      this.tracked.set(key, { key, ...c, health: registered(now), nextProbeAtMs: now + c.tg.healthCheck.interval.effectiveMs, probing: false });
    }
    for (const t of this.tracked.values()) {
      if (!wanted.has(t.key) && t.health.state !== 'draining') {
        t.health = deregistered(t.health, now, t.tg.attributes.deregistrationDelay.effectiveMs);
      }
    }
    // Only the first config after a restart is matched against the previous agent's view.
    this.seed = new Map();
  }

  private finishDrain(t: Tracked): void {
    this.tracked.delete(t.key);
    if (t.tg.attributes.connectionTermination) {
      if (t.tg.attributes.proxyProtocolV2) {
        for (const p of this.proxies.values()) p.terminate(t.key);
      } else {
        this.terminated.set(t.key, { key: t.key, lbIps: lbAddresses(t.lb), ip: t.target.ip, port: t.target.port, protocol: t.tg.protocol });
      }
    }
    this.dirty = true;
  }

  private startProbe(t: Tracked, now: number): void {
    t.probing = true;
    t.nextProbeAtMs = now + t.tg.healthCheck.interval.effectiveMs;
    const hc = t.tg.healthCheck;
    const spec: ProbeSpec = {
      protocol: t.tg.protocol === 'UDP' && hc.protocol === 'TCP' ? 'TCP' : hc.protocol,
      ip: t.target.ip,
      port: t.target.healthCheckPort,
      path: hc.path,
      successCodes: hc.successCodes,
      timeoutMs: hc.timeout.effectiveMs,
      localAddress: t.lb.privateIp,
      proxyProtocolV2: t.tg.attributes.proxyProtocolV2,
    };
    void this.io.probe(spec).then((result) => {
      t.probing = false;
      if (this.tracked.get(t.key) !== t) return;
      const before = `${t.health.state}/${t.health.reason}`;
      t.health = afterProbe(t.health, result, hc.healthyThreshold, hc.unhealthyThreshold);
      if (`${t.health.state}/${t.health.reason}` !== before) this.dirty = true;
    });
  }

  private routableTargets(lbName: string, tgName: string): Tracked[] {
    const members = [...this.tracked.values()].filter((t) => t.lb.plan.name === lbName && t.tg.name === tgName);
    members.sort((a, b) => (a.key < b.key ? -1 : 1));
    return routable(members, (t) => t.health);
  }

  private async syncDataPlane(): Promise<void> {
    const config = this.config;
    if (!config) return;
    const lbRules: LoadBalancerRules[] = [];
    const wantedProxies = new Set<string>();
    for (const lb of config.loadBalancers) {
      const listeners: LoadBalancerRules['listeners'] = [];
      for (const listener of lb.plan.listeners) {
        const tg = lb.plan.targetGroups.find((g) => g.name === listener.targetGroup);
        if (!tg) continue;
        const proxied = tg.attributes.proxyProtocolV2 && listener.protocol === 'TCP';
        listeners.push({
          port: listener.port,
          protocol: listener.protocol,
          mode: proxied ? 'proxy' : 'nat',
          preserveClientIp: tg.attributes.preserveClientIp,
          stickySourceIp: tg.attributes.stickiness.enabled,
          targets: this.routableTargets(lb.plan.name, tg.name).map((t) => ({ ip: t.target.ip, port: t.target.port })),
        });
        if (proxied) {
          const id = `${lb.plan.name}|${listener.port}|${lb.publicIp}|${lb.privateIp}|${tg.attributes.stickiness.enabled}`;
          wantedProxies.add(id);
          if (!this.proxies.has(id)) await this.startProxy(id, lb, listener.port, tg);
        }
      }
      lbRules.push({ name: lb.plan.name, privateIp: lb.privateIp, publicIp: lb.publicIp, listeners });
    }
    for (const [id, proxy] of this.proxies) {
      if (!wantedProxies.has(id)) {
        await proxy.close();
        this.proxies.delete(id);
      }
    }
    const rules: ZoneRulesInput = { loadBalancers: lbRules, terminated: [...this.terminated.values()].map(({ key: _key, ...t }) => t) };
    const text = JSON.stringify(rules);
    if (text !== this.appliedRules) {
      try {
        await this.io.applyRules(rules);
        this.appliedRules = text;
      } catch (err) {
        this.error(`applying the NAT rules failed: ${(err as Error).message}`);
      }
    }
  }

  private async startProxy(id: string, lb: ZoneLoadBalancer, port: number, tg: TargetGroupPlan): Promise<void> {
    const proxy = new Ppv2ProxyListener({
      // One address in API mode, where a load balancer has no separate public IP.
      listenIps: lbAddresses(lb),
      port,
      privateIp: lb.privateIp,
      stickySourceIp: tg.attributes.stickiness.enabled,
      routable: (): ProxyTarget[] => this.routableTargets(lb.plan.name, tg.name).map((t) => ({ key: t.key, ip: t.target.ip, port: t.target.port })),
      onError: (m) => this.error(m),
    });
    try {
      await proxy.start();
      this.proxies.set(id, proxy);
    } catch (err) {
      await proxy.close();
      this.error(`cannot listen on ${lb.publicIp}:${port} / ${lb.privateIp}:${port}: ${(err as Error).message}`);
    }
  }

  private error(message: string): void {
    this.errors.push(`${new Date(this.io.now()).toISOString()} ${message}`);
    if (this.errors.length > 20) this.errors.shift();
  }

  private connections(key: string): number {
    let n = 0;
    for (const p of this.proxies.values()) n += p.connectionCount(key);
    return n;
  }

  status(): ZoneStatus {
    const targets: TargetStatus[] = [...this.tracked.values()]
      .sort((a, b) => (a.key < b.key ? -1 : 1))
      .map((t) => ({
        loadBalancer: t.lb.plan.name,
        targetGroup: t.tg.name,
        id: t.target.id,
        ip: t.target.ip,
        port: t.target.port,
        healthCheckPort: t.target.healthCheckPort,
        availabilityZone: t.target.availabilityZone,
        node: t.target.node,
        pod: t.target.pod,
        state: t.health.state,
        reason: t.health.reason,
        description: t.health.description,
        connections: t.tg.attributes.proxyProtocolV2 ? this.connections(t.key) : null,
        drainUntil: t.health.drainUntilMs === null ? null : new Date(t.health.drainUntilMs).toISOString(),
      }));
    const listeners: ListenerStatus[] = [];
    for (const lb of this.config?.loadBalancers ?? []) {
      for (const l of lb.plan.listeners) {
        const tg = lb.plan.targetGroups.find((g) => g.name === l.targetGroup);
        if (!tg) continue;
        listeners.push({
          loadBalancer: lb.plan.name,
          port: l.port,
          protocol: l.protocol,
          mode: tg.attributes.proxyProtocolV2 && l.protocol === 'TCP' ? 'proxy' : 'nat',
          routable: this.routableTargets(lb.plan.name, tg.name).map((t) => `${t.target.ip}:${t.target.port}`),
        });
      }
    }
    return { zone: this.config?.zone ?? '', pid: process.pid, updatedAt: new Date(this.io.now()).toISOString(), targets, listeners, errors: [...this.errors] };
  }

  private async writeStatus(now: number): Promise<void> {
    this.lastStatusMs = now;
    if (this.statusPath) await writeJsonAtomic(this.statusPath, this.status());
  }
}
