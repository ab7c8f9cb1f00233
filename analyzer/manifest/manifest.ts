/**
 * manifest.json: what a capture folder holds (docs/manifest.md). `netlab capture` writes it;
 * `netlab analyze DIR` reads it. Validation errors name the file, the line and the field.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NetlabError } from '../errors.js';
import type { AddressOwner } from '../hops/infer.js';
import { POINT_ROLES, type PointRole } from '../hops/types.js';

export const MANIFEST_FILE = 'manifest.json';

export interface ManifestPoint {
  /** Unique point name, e.g. "client", "worker", "pod-echo-a". */
  name: string;
  /** The capture file, relative to the manifest's folder. */
  file: string;
  role: PointRole;
  node?: string | null;
  pod?: string | null;
  /** The network namespace (or host) the capture ran in. */
  namespace?: string | null;
  /** The captured interface: "eth0", or "any" for a LINUX_SLL2 capture of every interface. */
  interface?: string | null;
  linktype?: number | null;
  /** For `-i any` captures: interface index → name, resolved in the capture's own namespace. */
  ifindex?: Record<string, string>;
  /** Who rewrites packets in this namespace; defaults from the role (lb → nlb, node → kube-proxy). */
  actor?: string;
}

export interface ConntrackLog {
  /** Which host/namespace the log came from: a point's namespace (or node) name. */
  namespace: string;
  node?: string | null;
  /** `conntrack -E -o extended` output (events) or `conntrack -L -o extended` (snapshot). */
  file: string;
}

export interface Manifest {
  version: 1;
  points: ManifestPoint[];
  /** Known owners of addresses (pod IPs, node IPs, load balancer IPs). */
  addresses?: Record<string, AddressOwner>;
  conntrack?: ConntrackLog[];
  /** Destination ports whose connections are health checks (e.g. a Service's healthCheckNodePort). */
  healthCheckPorts?: number[];
}

export const DEFAULT_ACTOR: Record<PointRole, string> = {
  client: 'client', lb: 'nlb', node: 'kube-proxy', pod: 'pod', gateway: 'gateway',
};

/** 1-based line of a byte offset in text. */
function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * The line of a JSON.parse error. Node 20 names a position for some errors and only quotes the
 * text around the bad token for others; find that quote in the source.
 */
function jsonErrorLine(text: string, message: string): number | null {
  const pos = /position (\d+)/.exec(message);
  if (pos) return lineOf(text, Number(pos[1]));
  if (/end of JSON input/.test(message)) return lineOf(text, text.length);
  const token = /Unexpected token '(.)'/.exec(message)?.[1];
  // V8 quotes the surroundings as `, …"TEXT"… is not valid JSON` (the ellipses when cut).
  const quoted = /, (?:\.\.\.)?"([\s\S]*)"(?:\.\.\.)? is not valid JSON$/.exec(message)?.[1];
  if (!token || quoted === undefined) return null;
  const at = text.indexOf(quoted);
  return at < 0 ? null : lineOf(text, at + Math.max(0, quoted.indexOf(token)));
}

/** Best-effort line of points[i] in the source: the line of its `"name"` value. */
function pointLine(text: string, name: unknown): number | null {
  if (typeof name !== 'string') return null;
  const i = text.indexOf(JSON.stringify(name));
  return i < 0 ? null : lineOf(text, i);
}

function fail(file: string, line: number | null, what: string, hint: string): never {
  throw new NetlabError(what, { where: line ? `${file}:${line}` : file, hint, exitCode: 2 });
}

/** Parse and validate manifest text; `file` is only used in messages. */
export function parseManifest(text: string, file: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    fail(file, jsonErrorLine(text, String((err as Error).message)), `not valid JSON (${(err as Error).message.split('\n')[0]})`,
      'fix the JSON syntax (see docs/manifest.md)');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, 1, 'the manifest is not a JSON object', 'see docs/manifest.md for the format');
  const obj = raw as Record<string, unknown>;
  if (obj.version !== 1) fail(file, null, `unsupported manifest version ${JSON.stringify(obj.version)}`, 'this netlab reads "version": 1');
  if (!Array.isArray(obj.points) || obj.points.length === 0) fail(file, null, '"points" must be a non-empty array', 'list one entry per capture file (docs/manifest.md)');
  const names = new Set<string>();
  const points: ManifestPoint[] = obj.points.map((p: unknown, i: number) => {
    const where = `points[${i}]`;
    if (typeof p !== 'object' || p === null) fail(file, null, `${where} is not an object`, 'see docs/manifest.md');
    const q = p as Record<string, unknown>;
    const line = pointLine(text, q.name);
    if (typeof q.name !== 'string' || q.name === '') fail(file, line, `${where}.name must be a non-empty string`, 'name each capture point');
    if (names.has(q.name)) fail(file, line, `${where}.name "${q.name}" is used twice`, 'point names must be unique');
    names.add(q.name);
    if (typeof q.file !== 'string' || q.file === '') fail(file, line, `${where}.file must name the capture file`, 'give the pcap/pcapng path relative to the manifest');
    if (typeof q.role !== 'string' || !POINT_ROLES.includes(q.role as PointRole)) {
      fail(file, line, `${where}.role ${JSON.stringify(q.role)} is not one of ${POINT_ROLES.join(', ')}`, 'pick the role of the namespace the capture ran in');
    }
    for (const k of ['node', 'pod', 'namespace', 'interface', 'actor'] as const) {
      if (q[k] !== undefined && q[k] !== null && typeof q[k] !== 'string') fail(file, line, `${where}.${k} must be a string or null`, 'see docs/manifest.md');
    }
    if (q.linktype !== undefined && q.linktype !== null && !Number.isInteger(q.linktype)) fail(file, line, `${where}.linktype must be an integer`, 'e.g. 1 (Ethernet) or 276 (LINUX_SLL2)');
    if (q.ifindex !== undefined) {
      if (typeof q.ifindex !== 'object' || q.ifindex === null || Object.entries(q.ifindex).some(([k, v]) => !/^\d+$/.test(k) || typeof v !== 'string')) {
        fail(file, line, `${where}.ifindex must map interface indexes to names, like {"2": "eth0"}`, 'record `ip -j link` of the capture namespace');
      }
    }
    return q as unknown as ManifestPoint;
  });
  if (obj.conntrack !== undefined) {
    if (!Array.isArray(obj.conntrack) || obj.conntrack.some((c) => typeof c !== 'object' || c === null || typeof c.file !== 'string' || typeof c.namespace !== 'string')) {
      fail(file, null, '"conntrack" must be a list of {namespace, file}', 'see docs/manifest.md');
    }
  }
  if (obj.addresses !== undefined && (typeof obj.addresses !== 'object' || obj.addresses === null || Array.isArray(obj.addresses))) {
    fail(file, null, '"addresses" must map IP addresses to {pod, node, role}', 'see docs/manifest.md');
  }
  if (obj.healthCheckPorts !== undefined && (!Array.isArray(obj.healthCheckPorts) || obj.healthCheckPorts.some((x) => !Number.isInteger(x)))) {
    fail(file, null, '"healthCheckPorts" must be a list of port numbers', 'see docs/manifest.md');
  }
  return { ...(obj as unknown as Manifest), points };
}

/** Read DIR/manifest.json. */
export async function loadManifest(dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new NetlabError(`cannot read ${MANIFEST_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      where: file, hint: 'give NAME=FILE pairs instead, or write a manifest (docs/manifest.md)', exitCode: 2,
    });
  }
  return parseManifest(text, file);
}
