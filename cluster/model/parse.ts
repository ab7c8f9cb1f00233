/**
 * Kubernetes YAML → LabModel: Namespaces, Deployments and Services, typed with
 * @kubernetes/client-node's V1 types. Every problem is one line with file:line and what to do.
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import { NetlabError } from '../../analyzer/errors.js';
import type { Deployment, Namespace, Service } from '../lab/state.js';

export interface Located<T> {
  object: T;
  /** file:line of the document's first line. */
  where: string;
}

export interface LabModel {
  namespaces: Located<Namespace>[];
  deployments: Located<Deployment>[];
  services: Located<Service>[];
}

const SUPPORTED: Record<string, string> = { Namespace: 'v1', Service: 'v1', Deployment: 'apps/v1' };

function fail(where: string, message: string, hint: string): never {
  throw new NetlabError(message, { where, hint, exitCode: 2 });
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkName(where: string, what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name.length > 63) {
    fail(where, `${what} metadata.name ${JSON.stringify(name)} is not a valid Kubernetes name`, 'use lower-case letters, digits and -, at most 63 characters');
  }
  return name;
}

function checkService(where: string, svc: Service): void {
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  if (!['ClusterIP', 'NodePort', 'LoadBalancer'].includes(type)) {
    fail(where, `Service spec.type '${type}' is not supported`, 'use ClusterIP, NodePort or LoadBalancer');
  }
  if (!spec.ports?.length) fail(where, 'Service has no spec.ports', 'add at least one port: {port: 80, targetPort: 8080}');
  for (const [i, p] of spec.ports.entries()) {
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) fail(where, `Service spec.ports[${i}].port ${JSON.stringify(p.port)} is not a port number`, 'use 1-65535');
    const proto = p.protocol ?? 'TCP';
    if (!['TCP', 'UDP', 'SCTP'].includes(proto)) fail(where, `Service spec.ports[${i}].protocol '${proto}' is unknown`, 'use TCP, UDP or SCTP');
    if (spec.ports.length > 1 && !p.name) fail(where, `Service spec.ports[${i}] has no name`, 'Kubernetes requires a name on every port of a multi-port Service');
  }
  const etp = spec.externalTrafficPolicy;
  if (etp !== undefined && etp !== 'Cluster' && etp !== 'Local') fail(where, `Service spec.externalTrafficPolicy '${etp}' is unknown`, 'use Cluster or Local');
  if (etp === 'Local' && type === 'ClusterIP') fail(where, 'Service spec.externalTrafficPolicy may only be set on NodePort and LoadBalancer Services', 'remove it or change spec.type');
  if (spec.healthCheckNodePort !== undefined && !(type === 'LoadBalancer' && etp === 'Local')) {
    fail(where, 'Service spec.healthCheckNodePort is only valid for type LoadBalancer with externalTrafficPolicy Local', 'remove it or set both');
  }
}

function checkDeployment(where: string, d: Deployment): void {
  const spec = d.spec;
  if (!spec) fail(where, 'Deployment has no spec', 'add spec.selector, spec.template');
  const match = spec.selector?.matchLabels;
  if (!match || Object.keys(match).length === 0) fail(where, 'Deployment spec.selector.matchLabels is missing', 'add matchLabels equal to (a subset of) spec.template.metadata.labels');
  const labels = spec.template?.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(match)) {
    if (labels[k] !== v) fail(where, `Deployment selector ${k}=${v} does not match spec.template.metadata.labels`, 'Kubernetes rejects this: make the template carry the selector labels');
  }
  const containers = spec.template?.spec?.containers;
  if (!containers?.length) fail(where, 'Deployment spec.template.spec.containers is empty', 'add a container with an image and a containerPort');
  if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || spec.replicas < 0)) fail(where, `Deployment spec.replicas ${JSON.stringify(spec.replicas)} is not a count`, 'use 0 or more');
}

/** One YAML document of a manifest file, with where it starts. */
export interface YamlDocument {
  value: unknown;
  /** file:line of the document's first line. */
  where: string;
  /** file:line of its `kind:` key (the document's start when it has none). */
  kindWhere: string;
}

/**
 * Split a file's text into its documents (separated by ---), located; empty documents are skipped.
 * Invalid YAML is one NetlabError at file:line:col.
 */
export function yamlDocuments(text: string, file: string): YamlDocument[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  // An empty stream parses to an EmptyStream object.
  if (!Array.isArray(docs)) return [];
  const out: YamlDocument[] = [];
  for (const doc of docs) {
    // The object's first line, not the `---` before it.
    const startLine = lineCounter.linePos(doc.contents?.range[0] ?? doc.range[0]).line;
    const where = `${file}:${startLine}`;
    const err = doc.errors[0];
    if (err) {
      const pos = lineCounter.linePos(err.pos[0]);
      fail(`${file}:${pos.line}:${pos.col}`, `invalid YAML: ${err.message.split('\n')[0]}`, 'fix the YAML syntax at that position');
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const node = doc.contents as { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] } | null;
    const item = node?.items?.find((i) => i.key?.value === 'kind');
    const kindWhere = item?.key?.range ? `${file}:${lineCounter.linePos(item.key.range[0]).line}` : where;
    out.push({ value, where, kindWhere });
  }
  return out;
}

/** Parse one file's text (several documents separated by ---). */
export function parseManifests(text: string, file: string): LabModel {
  const model: LabModel = { namespaces: [], deployments: [], services: [] };
  for (const { value, where, kindWhere: kindLine } of yamlDocuments(text, file)) {
    if (typeof value !== 'object' || Array.isArray(value)) fail(where, 'a document is not a Kubernetes object (a mapping with apiVersion and kind)', 'each --- document must be one object');
    const obj = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
    if (typeof obj.kind !== 'string') fail(where, 'object has no kind', 'add kind: Deployment, Service or Namespace');
    const expected = SUPPORTED[obj.kind];
    if (!expected) fail(kindLine, `kind ${obj.kind} is not supported by the netlab lab`, 'use Namespace, Deployment (apps/v1) or Service (v1)');
    if (obj.apiVersion !== expected) fail(where, `${obj.kind} has apiVersion ${JSON.stringify(obj.apiVersion)}`, `use apiVersion: ${expected}`);
    checkName(where, obj.kind, obj.metadata?.name);
    if (obj.metadata?.namespace !== undefined) checkName(where, `${obj.kind} namespace`, obj.metadata.namespace);
    if (obj.kind === 'Namespace') model.namespaces.push({ object: value as Namespace, where });
    else if (obj.kind === 'Service') {
      checkService(where, value as Service);
      model.services.push({ object: value as Service, where });
    } else {
      checkDeployment(where, value as Deployment);
      model.deployments.push({ object: value as Deployment, where });
    }
  }
  return model;
}
