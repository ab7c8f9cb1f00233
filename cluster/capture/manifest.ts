/** Turn what the capturers wrote into the manifest.json that `netlab analyze DIR` reads (docs/manifest.md). */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressOwner } from '../../analyzer/hops/infer.js';
import type { Manifest, ManifestPoint } from '../../analyzer/manifest/manifest.js';
import type { GroundTruthFiles } from './groundtruth.js';
import type { CapturedFile } from './points.js';

export interface ManifestExtras {
  addresses: Record<string, AddressOwner>;
  healthCheckPorts: number[];
  /** Where the scenario's requests come from: everything else is background (probes, health checks). */
  clients: string[];
  /** Who rewrites packets in a namespace when the role's default is not right (e.g. gateway). */
  actors?: Record<string, string>;
}

export function buildManifest(outDir: string, files: CapturedFile[], groundTruth: GroundTruthFiles[], extras: ManifestExtras): Manifest {
  const points: ManifestPoint[] = files.map((f) => ({
    // Per-interface files are named the way the analyzer names the parts of a `-i any` file.
    name: f.interface ? `${f.target.name}:${f.interface}` : f.target.name,
    file: path.relative(outDir, f.file),
    role: f.target.role,
    node: f.target.node,
    pod: f.target.pod,
    namespace: f.target.netns,
    interface: f.interface ?? 'any',
    linktype: f.linktype,
    ...(f.ifindexMap ? { ifindex: f.ifindexMap } : {}),
    ...(extras.actors?.[f.target.netns] ? { actor: extras.actors[f.target.netns] } : {}),
  }));
  return {
    version: 1,
    points,
    addresses: extras.addresses,
    conntrack: groundTruth.map((g) => ({ namespace: g.netns, node: g.name, file: path.relative(outDir, g.events) })),
    healthCheckPorts: extras.healthCheckPorts,
    clients: extras.clients,
  };
}

export async function writeManifest(outDir: string, manifest: Manifest): Promise<string> {
  const file = path.join(outDir, 'manifest.json');
  await writeFile(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return file;
}

/** A run's folder, made: `outDir` when given, else `netlab-runs/<label>-<time>` under the working directory. */
export async function makeRunDir(label: string, outDir?: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const dir = path.resolve(outDir ?? path.join('netlab-runs', `${label}-${stamp}`));
  await mkdir(dir, { recursive: true });
  return dir;
}
