/**
 * The eBPF source's entries for manifest.json (analyzer/manifest/manifest.ts): one point per
 * (namespace, device) pcapng file, carrying the namespace so the analyzer knows which points
 * share a host, and the role/node/pod the caller knows for that namespace.
 */
import type { ManifestPoint } from '../../../analyzer/manifest/manifest.js';
import type { PointRole } from '../../../analyzer/hops/types.js';
import type { EbpfPoint } from './capture.js';

export interface NamespaceRole {
  role: PointRole;
  node?: string | null;
  pod?: string | null;
  actor?: string;
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
        namespace: p.namespace,
        interface: p.interface,
        linktype: 1,
      };
      if (d.actor) mp.actor = d.actor;
      return mp;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
