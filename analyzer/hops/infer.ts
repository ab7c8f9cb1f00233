/**
 * From correlated connections to hop tables and verdicts (pure: data in, data out).
 *
 * Points along a path are ordered by TTL (it drops by one per routing hop, whatever the clocks
 * say), then by time; each step between two consecutive points is classified by what changed.
 */
import type { ConnectionFlow, HopObservation } from '../correlate/correlator.js';
import { DIR_ORIG, DIR_REPLY } from '../correlate/correlator.js';
import { endpoint } from '../correlate/observation.js';
import type {
  ClientIpVerdict, FlowResult, HopResult, PointInfo, PointRole, Summary, Translation,
} from './types.js';

/** Who is known to own an address (from the manifest): a pod, a node, a load balancer. */
export interface AddressOwner {
  pod?: string | null;
  node?: string | null;
  role?: PointRole;
}

export interface InferOptions {
  points: readonly PointInfo[];
  addresses?: Readonly<Record<string, AddressOwner>>;
}

const NAT_ROLES: ReadonlySet<PointRole> = new Set(['lb', 'node', 'gateway']);

function byPathOrder(a: HopObservation, b: HopObservation): number {
  return b.ttl - a.ttl || a.firstTime - b.firstTime || a.point - b.point;
}

/** What changed between two consecutive sightings of a packet. */
export function classifyStep(prev: HopResult, cur: HopResult): Translation {
  if (prev.connection !== cur.connection) return 'proxy';
  const srcChanged = prev.src !== cur.src;
  const dstChanged = prev.dst !== cur.dst;
  if (srcChanged && dstChanged) return 'dnat+snat';
  if (dstChanged) return 'dnat';
  if (srcChanged) return 'snat';
  if (!prev.tunnel && cur.tunnel) return 'encap';
  if (prev.tunnel && !cur.tunnel) return 'decap';
  return cur.ttl < prev.ttl ? 'routed' : 'none';
}

/**
 * Which namespace made a step's change. Within one host, that host. Across two, NAT in
 * PREROUTING (DNAT) shows up at the receiving host, NAT in POSTROUTING (SNAT) at the sending one.
 */
function attribute(t: Translation, prev: PointInfo, cur: PointInfo): PointInfo | null {
  if (t === 'none' || t === 'routed') return null;
  if (prev.host === cur.host) return cur;
  const prevNat = NAT_ROLES.has(prev.role);
  const curNat = NAT_ROLES.has(cur.role);
  if (t === 'dnat' || t === 'dnat+snat' || t === 'decap') return curNat || !prevNat ? cur : prev;
  return prevNat || !curNat ? prev : cur;
}

function toHop(h: HopObservation, connection: number, points: readonly PointInfo[]): HopResult {
  return {
    point: points[h.point]?.name ?? `point${h.point}`,
    src: endpoint(h.src, h.sport),
    dst: endpoint(h.dst, h.dport),
    ttl: h.ttl,
    translation: 'none',
    by: null,
    at: null,
    ppv2: h.ppv2 ? {
      command: h.ppv2.command, version: h.ppv2.version,
      // A LOCAL header (health check) carries no addresses.
      src: h.ppv2.src ? endpoint(h.ppv2.src, h.ppv2.sport) : null,
      dst: h.ppv2.dst ? endpoint(h.ppv2.dst, h.ppv2.dport) : null,
      n: h.ppv2.n,
    } : null,
    xff: h.xff,
    tunnel: h.tunnel && h.outerSrc && h.outerDst ? { kind: h.tunnel, src: h.outerSrc, dst: h.outerDst } : null,
    n: h.firstN,
    connection,
    packets: h.packets,
    retransmissions: h.retransmissions,
    duplicates: h.duplicates,
    superframes: h.superframes,
    time: h.firstTime,
  };
}

function label(hops: HopResult[], pointByName: Map<string, PointInfo>): void {
  for (let i = 1; i < hops.length; i++) {
    const prev = hops[i - 1]!;
    const cur = hops[i]!;
    const t = classifyStep(prev, cur);
    cur.translation = t;
    const p = pointByName.get(prev.point);
    const c = pointByName.get(cur.point);
    const who = p && c ? attribute(t, p, c) : null;
    if (who) {
      // Tunnels are the node's overlay device, not its NAT rules.
      cur.by = t === 'encap' || t === 'decap' ? (cur.tunnel ?? prev.tunnel)?.kind ?? 'tunnel' : who.actor;
      cur.at = who.node ?? who.host;
    }
  }
}

function splitEndpoint(ep: string): { ip: string; port: number } {
  const i = ep.lastIndexOf(':');
  const ip = ep.slice(0, i);
  return { ip: ip.startsWith('[') ? ip.slice(1, -1) : ip, port: Number(ep.slice(i + 1)) };
}

/** Chains of connections joined by proxy hops, in the order of their first packet. */
function chains(connections: readonly ConnectionFlow[]): ConnectionFlow[][] {
  const byId = new Map(connections.map((c) => [c.id, c]));
  const out: ConnectionFlow[][] = [];
  for (const c of [...connections].sort((a, b) => a.firstTime - b.firstTime || a.id - b.id)) {
    if (c.upstream >= 0 && byId.has(c.upstream)) continue;
    const chain = [c];
    let next = c.downstream >= 0 ? byId.get(c.downstream) : undefined;
    while (next && !chain.includes(next)) {
      chain.push(next);
      next = next.downstream >= 0 ? byId.get(next.downstream) : undefined;
    }
    out.push(chain);
  }
  return out;
}

export function inferFlows(connections: readonly ConnectionFlow[], opts: InferOptions): FlowResult[] {
  const { points } = opts;
  const addresses = opts.addresses ?? {};
  const pointByName = new Map(points.map((p) => [p.name, p]));
  const flows: FlowResult[] = [];
  for (const chain of chains(connections)) {
    const hops: HopResult[] = [];
    const replyHops: HopResult[] = [];
    for (const c of chain) {
      for (const h of c.hops.filter((x) => x.dir === DIR_ORIG).sort(byPathOrder)) hops.push(toHop(h, c.id, points));
    }
    for (const c of [...chain].reverse()) {
      for (const h of c.hops.filter((x) => x.dir === DIR_REPLY).sort(byPathOrder)) replyHops.push(toHop(h, c.id, points));
    }
    if (hops.length === 0) continue;
    label(hops, pointByName);
    label(replyHops, pointByName);

    const first = hops[0]!;
    const last = hops[hops.length - 1]!;
    const client = splitEndpoint(first.src);
    const frontend = splitEndpoint(first.dst);
    const backendEp = splitEndpoint(last.dst);
    const lastPoint = pointByName.get(last.point);
    const owner = addresses[backendEp.ip];
    const backend = {
      ...backendEp,
      pod: owner?.pod ?? (lastPoint?.role === 'pod' ? lastPoint.pod : null),
      node: owner?.node ?? (lastPoint?.role === 'pod' || lastPoint?.role === 'node' ? lastPoint.node : null),
    };

    const lastConn = last.connection;
    const peer = splitEndpoint(last.src).ip;
    let verdict: ClientIpVerdict = 'lost';
    if (peer === client.ip) verdict = 'peer';
    else if (hops.some((h) => h.connection === lastConn && h.ppv2?.command === 'PROXY' && h.ppv2.src !== null && splitEndpoint(h.ppv2.src).ip === client.ip)) verdict = 'ppv2';
    else if (hops.some((h) => h.connection === lastConn && h.xff !== null && h.xff.split(',').some((x) => x.trim() === client.ip))) verdict = 'xff';

    const nodes = new Set<string>();
    for (const h of hops) {
      const p = pointByName.get(h.point);
      if (p && p.node && p.role !== 'client' && p.role !== 'lb') nodes.add(p.node);
    }
    if (backend.node) nodes.add(backend.node);
    const lastReply = replyHops[replyHops.length - 1];
    const replyFromFrontend = lastReply && lastReply.connection === first.connection && lastReply.point === first.point
      ? lastReply.src === first.dst : null;

    flows.push({
      id: '',
      client,
      frontend,
      backend,
      hops,
      replyHops,
      verdict: { clientIpAtBackend: verdict, lbDecisions: 0, crossNode: nodes.size > 1, replyFromFrontend },
      healthCheck: chain.some((c) => c.healthCheck),
      packets: chain.reduce((s, c) => s + c.packets, 0),
      retransmissions: hops.reduce((s, h) => s + h.retransmissions, 0) + replyHops.reduce((s, h) => s + h.retransmissions, 0),
      duplicates: hops.reduce((s, h) => s + h.duplicates, 0) + replyHops.reduce((s, h) => s + h.duplicates, 0),
      shape: hops.map((h) => `${h.point}:${h.translation}`).join(' > '),
    });
  }
  countDecisions(flows, pointByName);
  flows.sort((a, b) => a.hops[0]!.time - b.hops[0]!.time);
  flows.forEach((f, i) => (f.id = `f${i + 1}`));
  return flows;
}

const CHOOSES = new Set<Translation>(['dnat', 'dnat+snat', 'proxy']);

function siteOf(prev: HopResult, cur: HopResult): string {
  return `${cur.by}@${cur.at}>${prev.dst}`;
}

/**
 * Load-balancing decisions per flow: steps where a destination was chosen (DNAT, or a proxy's
 * new connection). A load balancer's step always counts (it picks among its healthy targets); a
 * node's DNAT counts only if that rule sent the captured flows to more than one backend, or if it
 * was seen once (no evidence either way). So externalTrafficPolicy=Local, whose node rule has only
 * the local pod, shows one decision, as the write-up says.
 */
function countDecisions(flows: FlowResult[], pointByName: Map<string, PointInfo>): void {
  const targets = new Map<string, Set<string>>();
  const uses = new Map<string, number>();
  for (const f of flows) {
    f.hops.forEach((h, i) => {
      if (i === 0 || !CHOOSES.has(h.translation)) return;
      const site = siteOf(f.hops[i - 1]!, h);
      let set = targets.get(site);
      if (!set) targets.set(site, (set = new Set()));
      set.add(h.dst);
      uses.set(site, (uses.get(site) ?? 0) + 1);
    });
  }
  for (const f of flows) {
    let n = 0;
    f.hops.forEach((h, i) => {
      if (i === 0 || !CHOOSES.has(h.translation)) return;
      const prevPoint = pointByName.get(f.hops[i - 1]!.point);
      const curPoint = pointByName.get(h.point);
      const byLb = prevPoint?.role === 'lb' || (curPoint?.role === 'lb' && h.by === curPoint.actor) || h.by === 'nlb';
      const site = siteOf(f.hops[i - 1]!, h);
      if (byLb || (targets.get(site)?.size ?? 0) > 1 || uses.get(site) === 1) n++;
    });
    f.verdict.lbDecisions = n;
  }
}

export function summarize(flows: readonly FlowResult[]): Summary {
  const summary: Summary = {
    flows: 0,
    clientIpAtBackend: { peer: 0, ppv2: 0, xff: 0, lost: 0 },
    backends: {},
    sourceSeenByBackend: {},
    healthChecks: 0,
  };
  for (const f of flows) {
    if (f.healthCheck) {
      summary.healthChecks++;
      continue;
    }
    summary.flows++;
    summary.clientIpAtBackend[f.verdict.clientIpAtBackend]++;
    const backend = f.backend.pod ?? endpoint(f.backend.ip, f.backend.port);
    summary.backends[backend] = (summary.backends[backend] ?? 0) + 1;
    const seen = splitEndpoint(f.hops[f.hops.length - 1]!.src).ip;
    summary.sourceSeenByBackend[seen] = (summary.sourceSeenByBackend[seen] ?? 0) + 1;
  }
  summary.backends = sortedCounts(summary.backends);
  summary.sourceSeenByBackend = sortedCounts(summary.sourceSeenByBackend);
  return summary;
}

function sortedCounts(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

export { splitEndpoint };
