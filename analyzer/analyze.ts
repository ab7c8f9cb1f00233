/**
 * `analyze(input)`: capture files from several points → correlated flows, hop tables, verdicts.
 * The API behind `netlab analyze` and `netlab capture`, callable without argv. Problems with some
 * inputs (a missing file, an unusable capture) become warnings and the rest is still analysed;
 * only when nothing at all can be read does it throw.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { NetlabError } from './errors.js';
import type { PacketRecord } from './decode/record.js';
import { Correlator, type ConnectionFlow, type CorrelatorOptions } from './correlate/correlator.js';
import { LINKTYPE_LINUX_SLL2, mergeCaptures, type SourceFile } from './correlate/sources.js';
import { compareWithConntrack } from './hops/conntrack.js';
import { inferFlows, summarize } from './hops/infer.js';
import type { AnalysisResult, FlowResult, PointInfo, PointRole, Warning } from './hops/types.js';
import { DEFAULT_ACTOR, loadManifest, MANIFEST_FILE, type Manifest, type ManifestPoint } from './manifest/manifest.js';

export interface AnalyzeInput {
  /** A capture folder: manifest.json plus the files it names (without one, every pcap/pcapng in it). */
  dir?: string;
  /** NAME=FILE pairs: each file one point, the name guessing the role (client, lb/nlb, pod…, else node). */
  pairs?: Array<{ name: string; file: string }>;
  /** A manifest already in memory; files are relative to `baseDir`. */
  manifest?: Manifest;
  baseDir?: string;
  /** Seconds the same packet may be apart at two points (clock skew + queueing). Default 2. */
  windowSec?: number;
  /** Ring size for fingerprints (packets within one window). Default 2^20. */
  fingerprintCapacity?: number;
}

/** Guess a role from a point name, for NAME=FILE inputs without a manifest. */
export function roleFromName(name: string): PointRole {
  const n = name.toLowerCase();
  if (/client/.test(n)) return 'client';
  if (/(^|[^a-z])(n?lb|elb|alb|metallb|loadbalancer)/.test(n) || n.startsWith('nlb')) return 'lb';
  if (/gateway|ingress|istio|envoy/.test(n)) return 'gateway';
  if (/(^|[-_.])pod|^pod/.test(n)) return 'pod';
  return 'node';
}

function manifestFromPairs(pairs: Array<{ name: string; file: string }>): Manifest {
  return { version: 1, points: pairs.map((p) => ({ name: p.name, file: p.file, role: roleFromName(p.name) })) };
}

async function resolveManifest(input: AnalyzeInput, warnings: Warning[]): Promise<{ manifest: Manifest; baseDir: string }> {
  if (input.manifest) return { manifest: input.manifest, baseDir: input.baseDir ?? '.' };
  if (input.pairs && input.pairs.length > 0) return { manifest: manifestFromPairs(input.pairs), baseDir: input.baseDir ?? '.' };
  if (!input.dir) throw new NetlabError('nothing to analyze', { exitCode: 1, hint: 'give a capture folder or NAME=FILE pairs' });
  const dir = input.dir;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new NetlabError('not a folder', { where: dir, hint: 'give a capture folder, or NAME=FILE pairs' });
  }
  if (existsSync(path.join(dir, MANIFEST_FILE))) return { manifest: await loadManifest(dir), baseDir: dir };
  const files = readdirSync(dir).filter((f) => /\.(pcap|pcapng|cap)$/i.test(f)).sort();
  if (files.length === 0) throw new NetlabError(`no ${MANIFEST_FILE} and no .pcap/.pcapng files`, { where: dir, hint: 'give a folder written by netlab capture' });
  warnings.push({ severity: 'notice', message: `no ${MANIFEST_FILE}: each capture file is one point, roles guessed from the file names`, where: dir, hint: 'write a manifest (docs/manifest.md) for exact roles' });
  return { manifest: manifestFromPairs(files.map((f) => ({ name: f.replace(/\.(pcap|pcapng|cap)$/i, ''), file: f }))), baseDir: dir };
}

interface FileState {
  mp: ManifestPoint;
  path: string;
  /** Sub-point key (ifindex for SLL2, interface id for pcapng, -1 otherwise) → point index. */
  points: Map<number, number>;
  linktypes: Set<number>;
  ipPackets: number;
}

export async function analyze(input: AnalyzeInput): Promise<AnalysisResult> {
  const warnings: Warning[] = [];
  const { manifest, baseDir } = await resolveManifest(input, warnings);
  const points: PointInfo[] = [];
  const pointHost: string[] = [];
  const files: FileState[] = [];
  for (const mp of manifest.points) {
    const p = path.resolve(baseDir, mp.file);
    if (!existsSync(p)) {
      warnings.push({ severity: 'unusable', message: `point "${mp.name}": capture file ${mp.file} does not exist; analysing the other points`, where: path.join(baseDir, MANIFEST_FILE), hint: 'fix the manifest entry or copy the file into the folder' });
      continue;
    }
    files.push({ mp, path: p, points: new Map(), linktypes: new Set(), ipPackets: 0 });
  }
  if (files.length === 0) {
    const missing = manifest.points.map((p) => `"${p.name}": ${p.file}`).join(', ');
    throw new NetlabError(`no capture file exists (${missing})`, {
      where: input.dir ? path.join(baseDir, MANIFEST_FILE) : undefined, hint: 'check the paths in the manifest or the NAME=FILE pairs',
    });
  }

  const pointOf = (fs: FileState) => (rec: PacketRecord): number => {
    // SLL2 (-i any) records carry the interface index; pcapng ones the IDB number (0 for plain pcap).
    const split = rec.linktype === LINKTYPE_LINUX_SLL2 ? rec.ifindex : rec.interfaceId;
    if (rec.l3 === 4 || rec.l3 === 6) fs.ipPackets++;
    let idx = fs.points.get(split);
    if (idx === undefined) {
      fs.linktypes.add(rec.linktype);
      idx = points.length;
      fs.points.set(split, idx);
      const mp = fs.mp;
      const ifname = rec.linktype === LINKTYPE_LINUX_SLL2 ? (mp.ifindex?.[String(rec.ifindex)] ?? `if${rec.ifindex}`) : null;
      const host = mp.namespace ?? (mp.role === 'pod' && mp.pod ? mp.pod : mp.node) ?? mp.name;
      points.push({
        name: ifname ? `${mp.name}:${ifname}` : mp.name,
        role: mp.role,
        node: mp.node ?? null,
        pod: mp.pod ?? null,
        namespace: mp.namespace ?? null,
        interface: ifname ?? mp.interface ?? null,
        file: mp.file,
        part: split >= 0 ? split : null,
        linktype: rec.linktype,
        actor: mp.actor ?? DEFAULT_ACTOR[mp.role],
        host,
        packets: 0,
      });
      pointHost.push(host);
    }
    return idx;
  };

  const connections: ConnectionFlow[] = [];
  const opts: CorrelatorOptions = {
    onFlow: (f) => connections.push(f),
    windowSec: input.windowSec,
    fingerprintCapacity: input.fingerprintCapacity,
    pointHost,
  };
  const correlator = new Correlator(opts);
  const sources: SourceFile[] = files.map((fs) => ({ path: fs.path, label: fs.mp.file, pointOf: pointOf(fs) }));
  const results = mergeCaptures(sources, (o) => {
    points[o.point]!.packets++;
    correlator.observe(o);
  });
  correlator.finish();

  let malformed = 0;
  files.forEach((fs, i) => {
    const r = results[i]!;
    if (r.error) warnings.push({ severity: 'unusable', message: `point "${fs.mp.name}": ${r.error}; using the packets before it` });
    const summary = r.summary;
    if (summary) {
      for (const m of Object.values(summary.malformed) as Array<{ count: number }>) malformed += m.count;
      nameFromInterfaces(fs, summary.interfaces, points, manifest);
    }
    if (fs.points.size === 0 && !r.error) warnings.push({ severity: 'notice', message: `point "${fs.mp.name}": the capture holds no packets`, where: fs.mp.file });
    else if (fs.ipPackets === 0 && fs.points.size > 0) {
      warnings.push({ severity: 'unusable', message: `point "${fs.mp.name}": no IP packets in link type ${[...fs.linktypes].join(', ')}; left out`, where: fs.mp.file, hint: 'capture on an Ethernet, raw IP or -i any (SLL/SLL2) interface' });
    }
    if (fs.mp.linktype != null && fs.linktypes.size > 0 && !fs.linktypes.has(fs.mp.linktype)) {
      warnings.push({ severity: 'notice', message: `point "${fs.mp.name}": the manifest says link type ${fs.mp.linktype} but the file holds ${[...fs.linktypes].join(', ')}`, where: fs.mp.file });
    }
  });

  const flows = inferFlows(connections, { points, addresses: manifest.addresses });
  markBackground(flows, manifest);
  sharedPacketWarnings(points, connections, warnings);

  const groundTruth = manifest.conntrack && manifest.conntrack.length > 0
    ? await compareWithConntrack(flows, points, manifest.conntrack.map((c) => ({ ...c, file: path.resolve(baseDir, c.file), label: c.file })), warnings)
    : null;

  const s = correlator.stats;
  const orderedPoints = [...points].sort((a, b) => fileOrder(manifest, a) - fileOrder(manifest, b) || a.name.localeCompare(b.name));
  return {
    points: orderedPoints,
    flows,
    summary: summarize(flows),
    warnings,
    stats: {
      packets: s.packets, tcpPackets: s.tcpPackets, connections: s.connections, retransmissions: s.retransmissions,
      duplicates: s.duplicates, proxyLinks: s.proxyLinks, maxConnectionsInFlight: s.maxConnectionsInFlight,
      fingerprintsEvictedEarly: s.fingerprintsEvictedEarly, fingerprintConflicts: s.fingerprintConflicts, malformed,
    },
    groundTruth,
  };
}

/**
 * Probes and health checks are not the traffic under study (kubelet probes, NLB checks): flows on
 * a health-check port, or from an address that is not one of the clients, are marked background.
 * Only ever marks, so it can be applied again with more clients.
 */
export function markBackground(flows: readonly FlowResult[], by: Pick<Manifest, 'healthCheckPorts' | 'clients'>): void {
  const hcPorts = new Set(by.healthCheckPorts ?? []);
  const clients = by.clients ? new Set(by.clients) : null;
  for (const f of flows) if (hcPorts.has(f.frontend.port) || hcPorts.has(f.backend.port) || (clients && !clients.has(f.client.ip))) f.healthCheck = true;
}

function fileOrder(manifest: Manifest, p: PointInfo): number {
  return manifest.points.findIndex((m) => m.file === p.file);
}

/** pcapng IDB names (if_name) name the points of a file that holds several interfaces. */
function nameFromInterfaces(fs: FileState, ifaces: ReadonlyArray<{ id: number; name: string | null }>, points: PointInfo[], manifest: Manifest): void {
  const own = [...fs.points].filter(([, idx]) => points[idx]!.linktype !== LINKTYPE_LINUX_SLL2);
  for (const [key, idx] of own) {
    const ifname = ifaces.find((i) => i.id === key)?.name ?? null;
    const p = points[idx]!;
    if (ifname && (own.length === 1 ? !fs.mp.interface : true)) p.interface = ifname;
    if (own.length === 1) continue;
    const name = `${fs.mp.name}:${ifname ?? `if${key}`}`;
    if (!points.some((q) => q !== p && q.name === name) && !manifest.points.some((m) => m.name === name)) p.name = name;
  }
}

/** Points whose packets were never seen anywhere else: the captures do not overlap. */
function sharedPacketWarnings(points: PointInfo[], connections: readonly ConnectionFlow[], warnings: Warning[]): void {
  const seen = new Set<number>();
  const shared = new Set<number>();
  for (const c of connections) {
    const ps = new Set(c.hops.map((h) => h.point));
    for (const p of ps) seen.add(p);
    if (ps.size > 1 || c.upstream >= 0 || c.downstream >= 0) for (const p of ps) shared.add(p);
  }
  // Only points with TCP traffic can share it; points without any are reported on their own.
  if (seen.size < 2) return;
  const alone = [...seen].filter((i) => !shared.has(i)).map((i) => points[i]!);
  if (alone.length === seen.size) {
    warnings.push({ severity: 'unusable', message: `the ${seen.size} captures share no packets: each flow below is seen at one point only`, hint: 'capture all points at the same time, on the same traffic (see docs/analyze.md)' });
  } else {
    for (const p of alone) {
      warnings.push({ severity: 'notice', message: `point "${p.name}" shares no packets with any other point`, where: p.file, hint: 'was it captured at the same time, on the path of this traffic?' });
    }
  }
}

