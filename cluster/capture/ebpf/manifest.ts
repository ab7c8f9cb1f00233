/**
 * How eBPF points join a capture folder: as manifest.json points (analyzer/manifest/manifest.ts)
 * for a standalone run, or as the capture command's "captured file" entries, so `netlab capture
 * --source ebpf` builds its manifest exactly as for pcap. Either way one point per (namespace,
 * device) pcapng file, carrying the namespace so the analyzer knows which points share a host.
 */
import path from 'node:path';
import type { ManifestPoint } from '../../../analyzer/manifest/manifest.js';
import type { PointRole } from '../../../analyzer/hops/types.js';
import type { EbpfPoint } from './capture.js';
import { netnsInode, type TracedNamespace } from './netns.js';

export interface NamespaceRole {
  role: PointRole;
  node?: string | null;
  pod?: string | null;
  actor?: string;
  /** The `ip netns` name, when the traced name is a shorter label. */
  netns?: string;
}

/**
 * Manifest points for a finished eBPF capture. `describe` gets the traced namespace's name (the
 * label given to startEbpfCapture) and says what it is in the lab. Pure.
 */
export function ebpfManifestPoints(points: readonly EbpfPoint[], describe: (namespace: string) => NamespaceRole): ManifestPoint[] {
  return points
    .filter((p) => p.file !== null && p.packets > 0)
    .map((p) => {
      const d = describe(p.namespace);
      const mp: ManifestPoint = {
        name: p.name,
        file: p.file!,
        role: d.role,
        node: d.node ?? null,
        pod: d.pod ?? null,
        namespace: d.netns ?? p.namespace,
        interface: p.interface,
        linktype: 1,
      };
      if (d.actor) mp.actor = d.actor;
      return mp;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** What the capture command knows about a namespace it captures in (its CaptureTarget). */
export interface TargetLike {
  /** Point-name prefix, e.g. `worker`, `nlb-a`. */
  name: string;
  netns: string;
}

/** The namespaces to trace for these targets: labelled by target name, inode from the netns. */
export async function tracedNamespacesFor(targets: readonly TargetLike[]): Promise<TracedNamespace[]> {
  const out: TracedNamespace[] = [];
  for (const t of targets) out.push({ name: t.name, inode: await netnsInode(t.netns) });
  return out;
}

/**
 * The eBPF points as the capture command's captured-file entries (its `CapturedFile`: per
 * interface, Ethernet link type, kernel timestamps), one per point that saw packets and belongs
 * to a target; points of namespaces that are no target (another lab's) are left out. Pure.
 */
export function ebpfCapturedFiles<T extends TargetLike>(points: readonly EbpfPoint[], targets: readonly T[], outDir: string) {
  // Namespaces traced from the start carry the target's name; those the probe learned while
  // running carry their `ip netns` name.
  const byName = new Map<string, T>();
  for (const t of targets) byName.set(t.netns, t);
  for (const t of targets) byName.set(t.name, t);
  return points
    .filter((p) => p.file !== null && p.packets > 0 && byName.has(p.namespace))
    .map((p) => ({
      target: byName.get(p.namespace)!,
      file: path.join(outDir, p.file!),
      linktype: 1,
      ifindexMap: null,
      interface: p.interface,
      packets: p.packets,
      // Loss is counted for the whole probe, not per point: see the capture summary's `lost`.
      dropped: null,
      timestampSource: 'kernel' as const,
    }));
}
