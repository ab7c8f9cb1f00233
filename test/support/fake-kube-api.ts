/**
 * A real HTTP server on 127.0.0.1 (random port) speaking enough of the Kubernetes API for
 * @kubernetes/client-node and netlab's KubeClient, for tests only: discovery, list (label
 * selectors), get, create, delete (finalizers keep a deleted object terminating until they are
 * removed), JSON merge / strategic merge (the list keys netlab relies on) / apply patches, the
 * status subresource, and `?watch=true` streams (newline-delimited JSON, kept open, resumable
 * from a resourceVersion, `410 Gone` after `compact()`). Objects live in memory under one
 * monotonically increasing resourceVersion; a test seeds and inspects them.
 * Extra endpoints (pod exec, …) plug in with `route(method, pathRegex, handler)`.
 *
 * What it is not: an API server. No admission, no validation beyond names and namespaces, no
 * controllers (a Deployment makes no pods), server-side apply is "create or merge" without field
 * ownership, and strategic merge knows only the list keys in MERGE_KEYS.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KINDS, type KindInfo, type KindName, type KindTypes, type KubeObject } from '../../cluster/kube/kinds.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, match: RegExpExecArray, api: FakeKubeApi) => void | Promise<void>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | null;
}

export interface WatchEventRecord {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  info: KindInfo;
  object: KubeObject;
}

interface Watcher {
  info: KindInfo;
  namespace: string | undefined;
  labelSelector: string | undefined;
  res: ServerResponse;
}

/** Lists whose items strategic merge patches merge by a key (as the API's schemas say), not replace. */
const MERGE_KEYS: Record<string, string> = {
  conditions: 'type',
  containers: 'name',
  initContainers: 'name',
  readinessGates: 'conditionType',
  volumes: 'name',
  env: 'name',
  addresses: 'type',
  ingress: 'ip',
};
/** Primitive lists strategic merge patches union (metadata.finalizers has patchStrategy merge). */
const MERGE_PRIMITIVE_LISTS = new Set(['finalizers']);

const clone = <T>(v: T): T => structuredClone(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class HttpStatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function strategicMergePatch(target: unknown, patch: unknown, field = ''): unknown {
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field];
    if (MERGE_PRIMITIVE_LISTS.has(field) && Array.isArray(target)) return [...new Set([...target, ...patch])];
    if (!key || !Array.isArray(target)) return clone(patch);
    const out = target.map((x) => clone(x) as unknown);
    for (const item of patch) {
      if (!isObject(item)) continue;
      const at = out.findIndex((x) => isObject(x) && x[key] === item[key]);
      if (item.$patch === 'delete') {
        if (at >= 0) out.splice(at, 1);
      } else if (at >= 0) out[at] = strategicMergePatch(out[at], item);
      else out.push(clone(item));
    }
    return out;
  }
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    const del = /^\$deleteFromPrimitiveList\/(.+)$/.exec(k);
    if (del) {
      const list = out[del[1]!];
      if (Array.isArray(list) && Array.isArray(v)) out[del[1]!] = list.filter((x) => !v.includes(x));
      continue;
    }
    if (k === '$patch' || k.startsWith('$setElementOrder/')) continue;
    if (v === null) delete out[k];
    else out[k] = strategicMergePatch(out[k], v, k);
  }
  return out;
}

function labelsMatch(labels: Record<string, string>, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').map((s) => s.trim()).filter(Boolean).every((term) => {
    let m = /^([^!=]+)!=(.*)$/.exec(term);
    if (m) return labels[m[1]!.trim()] !== m[2]!.trim();
    m = /^([^=]+)==?(.*)$/.exec(term);
    if (m) return labels[m[1]!.trim()] === m[2]!.trim();
    if (term.startsWith('!')) return !(term.slice(1) in labels);
    return term in labels;
  });
}

function status(code: number, reason: string, message: string, details?: object): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code, ...(details ? { details } : {}) };
}

const BUILTIN_GROUP_VERSIONS = new Set(['v1', 'apps/v1', 'discovery.k8s.io/v1']);

export class FakeKubeApi {
  readonly token = `fake-${randomUUID()}`;
  /** Every request the server got, in order (tests check which endpoints a client used). */
  readonly requests: RecordedRequest[] = [];
  /** Every change, in resourceVersion order (since the last `compact()`). */
  readonly history: WatchEventRecord[] = [];
  url = '';
  kubeconfigPath = '';
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'netlab-fake-kube-'));
  private readonly server: http.Server;
  private readonly extraServers: http.Server[] = [];
  private readonly kinds: KindInfo[] = [];
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private readonly watchers = new Set<Watcher>();
  private readonly routes: Array<{ method: string; re: RegExp; handler: RouteHandler }> = [];
  private rv = 100;
  /** Watches from a resourceVersion below this get 410 Gone. */
  private compactedRv = 0;
  private nextClusterIp = 10;
  private nextNodePort = 30000;

  private constructor(kinds: readonly KindInfo[]) {
    for (const k of kinds) this.addKind(k);
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  /** Start on a random port of 127.0.0.1 and write a kubeconfig (context `fake`) pointing at it. */
  static async start(opts: { kinds?: readonly KindInfo[] } = {}): Promise<FakeKubeApi> {
    const api = new FakeKubeApi([...Object.values(KINDS), ...(opts.kinds ?? [])]);
    await new Promise<void>((resolve, reject) => {
      api.server.once('error', reject);
      api.server.listen(0, '127.0.0.1', () => resolve());
    });
    api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    api.kubeconfigPath = path.join(api.dir, 'kubeconfig');
    writeFileSync(api.kubeconfigPath, api.kubeconfig());
    for (const name of ['default', 'kube-system']) api.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return api;
  }

  /** A kubeconfig for this server, or for `server` leading to it (http, so TLS verification is off; a bearer token the server checks). */
  kubeconfig(context = 'fake', server = this.url): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: fake\n  cluster:\n    server: ${server}\n    insecure-skip-tls-verify: true`,
      'users:',
      `- name: fake\n  user:\n    token: ${this.token}`,
      'contexts:',
      `- name: ${context}\n  context:\n    cluster: fake\n    user: fake\n    namespace: default`,
      `current-context: ${context}`,
      '',
    ].join('\n');
  }

  /**
   * Serve the same API on a unix socket too. Sockets are files, visible from every network
   * namespace: a relay inside a lab namespace (netns-relay.ts) lets a process there reach the server.
   */
  async listenUnix(socketPath: string): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    this.extraServers.push(server);
  }

  async close(): Promise<void> {
    this.dropWatches();
    for (const s of [this.server, ...this.extraServers]) s.closeAllConnections();
    await Promise.all([this.server, ...this.extraServers].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Serve `method path` (method '*' = any) with `handler`, before the built-in routes; returns its removal. */
  route(method: string, pathRegex: RegExp, handler: RouteHandler): () => void {
    const entry = { method: method.toUpperCase(), re: pathRegex, handler };
    this.routes.push(entry);
    return () => {
      const i = this.routes.indexOf(entry);
      if (i >= 0) this.routes.splice(i, 1);
    };
  }

  /** Serve HTTP upgrades (pod exec's WebSocket) with `handler`; returns its removal. */
  upgrade(handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): () => void {
    this.server.on('upgrade', handler);
    return () => void this.server.off('upgrade', handler);
  }

  addKind(info: KindInfo): void {
    if (!this.kinds.some((k) => k.apiVersion === info.apiVersion && k.plural === info.plural)) this.kinds.push(info);
  }

  get resourceVersion(): number {
    return this.rv;
  }

  // ---- the test's view of the store ----

  /** Store an object as if created through the API, status included (a test plays kubelet and controllers). */
  seed<T extends KubeObject>(object: T): T {
    const info = this.kindOf(object);
    return this.createObject(info, clone(object), { keepStatus: true, checkNamespace: false }) as T;
  }

  object<K extends KindName>(kind: K, name: string, namespace?: string): KindTypes[K] | undefined {
    const o = this.bucket(KINDS[kind]).get(this.key(KINDS[kind], namespace, name));
    return o ? (clone(o) as KindTypes[K]) : undefined;
  }

  objects<K extends KindName>(kind: K, namespace?: string): KindTypes[K][] {
    const info = KINDS[kind];
    return [...this.bucket(info).values()].filter((o) => !info.namespaced || !namespace || o.metadata?.namespace === namespace).map((o) => clone(o) as KindTypes[K]);
  }

  /** Change a stored object as a test (kubelet, a controller) would; watchers see MODIFIED. */
  update<K extends KindName>(kind: K, name: string, namespace: string | undefined, change: (o: KindTypes[K]) => void): KindTypes[K] {
    const info = KINDS[kind];
    const old = this.bucket(info).get(this.key(info, namespace, name));
    if (!old) throw new Error(`no ${kind} ${namespace ?? ''}/${name} in the fake API`);
    const next = clone(old) as KindTypes[K];
    change(next);
    return this.store_(info, old, next as KubeObject) as KindTypes[K];
  }

  /** Delete as the API does (finalizers keep it terminating); returns whether it existed. */
  remove(kind: KindName, name: string, namespace?: string): boolean {
    const info = KINDS[kind];
    const old = this.bucket(info).get(this.key(info, namespace, name));
    if (!old) return false;
    this.deleteObject(info, old);
    return true;
  }

  /** Forget the change history: watches resuming from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.history.length = 0;
    this.compactedRv = this.rv + 1;
  }

  /** End every open watch stream (clients must resume from their last resourceVersion). */
  dropWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  // ---- storage ----

  private kindOf(o: KubeObject): KindInfo {
    const info = this.kinds.find((k) => k.apiVersion === o.apiVersion && k.kind === o.kind);
    if (!info) throw new HttpStatusError(404, 'NotFound', `the server could not find the requested resource (${o.apiVersion} ${o.kind})`);
    return info;
  }

  private bucket(info: KindInfo): Map<string, KubeObject> {
    const id = `${info.apiVersion}/${info.plural}`;
    let b = this.store.get(id);
    if (!b) this.store.set(id, (b = new Map()));
    return b;
  }

  private key(info: KindInfo, namespace: string | undefined, name: string): string {
    return info.namespaced ? `${namespace ?? 'default'}/${name}` : name;
  }

  private record(type: WatchEventRecord['type'], info: KindInfo, object: KubeObject): void {
    const ev: WatchEventRecord = { rv: this.rv, type, info, object: clone(object) };
    this.history.push(ev);
    for (const w of this.watchers) if (this.watchMatches(w, ev)) this.writeEvent(w.res, ev.type, ev.object);
  }

  private watchMatches(w: Watcher, ev: WatchEventRecord): boolean {
    if (w.info.apiVersion !== ev.info.apiVersion || w.info.plural !== ev.info.plural) return false;
    if (w.namespace && ev.object.metadata?.namespace !== w.namespace) return false;
    return labelsMatch(ev.object.metadata?.labels ?? {}, w.labelSelector);
  }

  private writeEvent(res: ServerResponse, type: string, object: unknown): void {
    res.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** Defaults the API server fills in on create: a Service's cluster IP and node ports. */
  private defaults(o: KubeObject): void {
    if (o.kind !== 'Service' || o.apiVersion !== 'v1') return;
    const spec = ((o as KindTypes['Service']).spec ??= {});
    const type = spec.type ?? 'ClusterIP';
    spec.type = type;
    if (!spec.clusterIP) {
      spec.clusterIP = `10.96.${Math.floor(this.nextClusterIp / 250)}.${this.nextClusterIp % 250}`;
      this.nextClusterIp++;
    }
    spec.clusterIPs ??= [spec.clusterIP];
    const used = new Set(this.objects('Service').flatMap((s) => [...(s.spec?.ports ?? []).map((p) => p.nodePort), s.spec?.healthCheckNodePort]));
    const takePort = () => {
      while (used.has(this.nextNodePort)) this.nextNodePort++;
      used.add(this.nextNodePort);
      return this.nextNodePort++;
    };
    for (const p of spec.ports ?? []) {
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
      if ((type === 'NodePort' || type === 'LoadBalancer') && !p.nodePort) p.nodePort = takePort();
    }
    if (type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' && !spec.healthCheckNodePort) spec.healthCheckNodePort = takePort();
    if (type !== 'ClusterIP') spec.externalTrafficPolicy ??= 'Cluster';
  }

  /** An update that leaves out allocated values keeps them, as the API server's Service registry does. */
  private keepAllocations(old: KubeObject, next: KubeObject): void {
    const was = (old as KindTypes['Service']).spec ?? {};
    const spec = ((next as KindTypes['Service']).spec ??= {});
    spec.clusterIP ??= was.clusterIP;
    spec.clusterIPs ??= was.clusterIPs;
    if (spec.type === was.type && spec.externalTrafficPolicy === was.externalTrafficPolicy) spec.healthCheckNodePort ??= was.healthCheckNodePort;
    for (const p of spec.ports ?? []) {
      const same = was.ports?.find((q) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (same?.nodePort && !p.nodePort && spec.type !== 'ClusterIP') p.nodePort = same.nodePort;
    }
    this.defaults(next);
  }

  private createObject(info: KindInfo, o: KubeObject, opts: { keepStatus: boolean; checkNamespace: boolean }): KubeObject {
    o.apiVersion = info.apiVersion;
    o.kind = info.kind;
    const meta = (o.metadata ??= {});
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    if (!meta.name || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name)) {
      throw new HttpStatusError(422, 'Invalid', `${info.kind} "${meta.name ?? ''}" is invalid: metadata.name: a lowercase RFC 1123 name is required`);
    }
    if (info.namespaced) meta.namespace ??= 'default';
    else delete meta.namespace;
    if (opts.checkNamespace && info.namespaced && !this.bucket(KINDS.Namespace).has(meta.namespace!)) {
      throw new HttpStatusError(404, 'NotFound', `namespaces "${meta.namespace}" not found`);
    }
    const bucket = this.bucket(info);
    const key = this.key(info, meta.namespace, meta.name);
    if (bucket.has(key)) throw new HttpStatusError(409, 'AlreadyExists', `${info.plural} "${meta.name}" already exists`);
    if (info.statusSubresource && !opts.keepStatus) delete o.status;
    this.defaults(o);
    this.rv++;
    meta.uid ??= randomUUID();
    meta.creationTimestamp ??= new Date().toISOString();
    meta.resourceVersion = String(this.rv);
    meta.generation = 1;
    delete meta.deletionTimestamp;
    bucket.set(key, o);
    this.record('ADDED', info, o);
    return clone(o);
  }

  /** Store a changed object: bump resourceVersion (and generation when spec changed); finish a deletion once no finalizer is left. */
  private store_(info: KindInfo, old: KubeObject, next: KubeObject): KubeObject {
    const meta = (next.metadata ??= {});
    meta.name = old.metadata?.name;
    if (info.namespaced) meta.namespace = old.metadata?.namespace;
    meta.uid = old.metadata?.uid;
    meta.creationTimestamp = old.metadata?.creationTimestamp;
    next.apiVersion = info.apiVersion;
    next.kind = info.kind;
    if (old.metadata?.deletionTimestamp) meta.deletionTimestamp = old.metadata.deletionTimestamp;
    if (info.kind === 'Service' && info.apiVersion === 'v1') this.keepAllocations(old, next);
    if (JSON.stringify(old) === JSON.stringify({ ...next, metadata: { ...meta, resourceVersion: old.metadata?.resourceVersion, generation: old.metadata?.generation } })) {
      return clone(old);
    }
    meta.generation = (old.metadata?.generation ?? 1) + (JSON.stringify(old.spec) !== JSON.stringify(next.spec) ? 1 : 0);
    this.rv++;
    meta.resourceVersion = String(this.rv);
    const bucket = this.bucket(info);
    const key = this.key(info, meta.namespace, meta.name!);
    if (meta.deletionTimestamp && (meta.finalizers ?? []).length === 0) {
      bucket.delete(key);
      this.record('DELETED', info, next);
      return clone(next);
    }
    bucket.set(key, next);
    this.record('MODIFIED', info, next);
    return clone(next);
  }

  private deleteObject(info: KindInfo, old: KubeObject): KubeObject {
    if ((old.metadata?.finalizers ?? []).length > 0) {
      if (old.metadata?.deletionTimestamp) return clone(old);
      const next = clone(old);
      next.metadata!.deletionTimestamp = new Date().toISOString();
      next.metadata!.deletionGracePeriodSeconds = 0;
      return this.store_(info, old, next);
    }
    this.rv++;
    const gone = { ...clone(old), metadata: { ...old.metadata, resourceVersion: String(this.rv) } };
    this.bucket(info).delete(this.key(info, old.metadata?.namespace, old.metadata?.name ?? ''));
    this.record('DELETED', info, gone);
    return gone;
  }

  // ---- HTTP ----

  private send(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async body(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({ method: req.method ?? '', path: url.pathname, query, contentType: req.headers['content-type'] ?? null });
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) throw new HttpStatusError(401, 'Unauthorized', 'Unauthorized');
      for (const r of this.routes) {
        const m = r.re.exec(url.pathname);
        if (m && (r.method === '*' || r.method === req.method)) {
          await r.handler(req, res, m, this);
          return;
        }
      }
      await this.serve(req, res, url, query);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpStatusError) this.send(res, err.code, status(err.code, err.reason, err.message));
      else this.send(res, 500, status(500, 'InternalError', (err as Error).message));
    }
  }

  private discovery(pathname: string): object | null {
    if (pathname === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    if (pathname === '/apis') {
      const groups = new Map<string, string[]>();
      for (const k of this.kinds) {
        if (!k.apiVersion.includes('/')) continue;
        const [g, v] = k.apiVersion.split('/') as [string, string];
        const vs = groups.get(g) ?? [];
        if (!vs.includes(v)) vs.push(v);
        groups.set(g, vs);
      }
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...groups].map(([name, vs]) => ({
          name,
          versions: vs.map((version) => ({ groupVersion: `${name}/${version}`, version })),
          preferredVersion: { groupVersion: `${name}/${vs[0]}`, version: vs[0] },
        })),
      };
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))$/.exec(pathname);
    if (!m) return null;
    const gv = m[1] ?? m[2]!;
    const kinds = this.kinds.filter((k) => k.apiVersion === gv);
    if (kinds.length === 0 && !BUILTIN_GROUP_VERSIONS.has(gv)) throw new HttpStatusError(404, 'NotFound', 'the server could not find the requested resource');
    const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: gv,
      resources: kinds.flatMap((k) => [
        { name: k.plural, singularName: k.kind.toLowerCase(), namespaced: k.namespaced, kind: k.kind, verbs },
        ...(k.statusSubresource ? [{ name: `${k.plural}/status`, singularName: '', namespaced: k.namespaced, kind: k.kind, verbs: ['get', 'patch', 'update'] }] : []),
      ]),
    };
  }

  /** /api/v1/... or /apis/G/V/... → kind, namespace, name, subresource. */
  private resolvePath(pathname: string): { info: KindInfo; namespace?: string; name?: string; sub?: string } | null {
    const m = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))\/(.+)$/.exec(pathname);
    if (!m) return null;
    const gv = m[1] ?? m[2]!;
    const segs = m[3]!.split('/').map(decodeURIComponent);
    const find = (plural: string | undefined) => this.kinds.find((k) => k.apiVersion === gv && k.plural === plural);
    if (segs[0] === 'namespaces' && segs.length >= 3 && find(segs[2])?.namespaced) {
      return { info: find(segs[2])!, namespace: segs[1], name: segs[3], sub: segs[4] };
    }
    const info = find(segs[0]);
    if (!info) throw new HttpStatusError(404, 'NotFound', `the server could not find the requested resource (${gv} ${segs[0]})`);
    return { info, name: segs[1], sub: segs[2] };
  }

  private async serve(req: IncomingMessage, res: ServerResponse, url: URL, query: Record<string, string>): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      const d = this.discovery(url.pathname);
      if (d) return this.send(res, 200, d);
    }
    const target = this.resolvePath(url.pathname);
    if (!target) throw new HttpStatusError(404, 'NotFound', 'the server could not find the requested resource');
    const { info, namespace, name, sub } = target;
    if (sub !== undefined && !(sub === 'status' && info.statusSubresource)) throw new HttpStatusError(404, 'NotFound', `${info.plural} has no subresource ${sub}`);
    const bucket = this.bucket(info);

    if (name === undefined) {
      if (method === 'GET' && (query.watch === 'true' || query.watch === '1')) return this.watch(res, info, namespace, query);
      if (method === 'GET') {
        const items = [...bucket.values()]
          .filter((o) => !namespace || o.metadata?.namespace === namespace)
          .filter((o) => labelsMatch(o.metadata?.labels ?? {}, query.labelSelector))
          .sort((a, b) => Number(a.metadata?.resourceVersion) - Number(b.metadata?.resourceVersion))
          // Items of built-in kinds' lists carry no apiVersion/kind, as the real API's do.
          .map((o) => (BUILTIN_GROUP_VERSIONS.has(info.apiVersion) ? { ...clone(o), apiVersion: undefined, kind: undefined } : clone(o)));
        return this.send(res, 200, { apiVersion: info.apiVersion, kind: `${info.kind}List`, metadata: { resourceVersion: String(this.rv) }, items: JSON.parse(JSON.stringify(items)) });
      }
      if (method === 'POST') {
        const o = JSON.parse(await this.body(req)) as KubeObject;
        if (o.kind !== info.kind) throw new HttpStatusError(400, 'BadRequest', `the object's kind ${String(o.kind)} does not match the URL (${info.kind})`);
        if (namespace) (o.metadata ??= {}).namespace ??= namespace;
        if (namespace && o.metadata?.namespace !== namespace) throw new HttpStatusError(400, 'BadRequest', 'the namespace of the object does not match the namespace of the URL');
        return this.send(res, 201, this.createObject(info, o, { keepStatus: false, checkNamespace: true }));
      }
      throw new HttpStatusError(405, 'MethodNotAllowed', `${method} is not allowed on a collection`);
    }

    const key = this.key(info, namespace, name);
    const old = bucket.get(key);
    const notFound = () => new HttpStatusError(404, 'NotFound', `${info.plural} "${name}" not found`);
    const onlyStatus = sub === 'status';
    /** The object a write may produce: /status changes only status; the main resource never changes status. */
    const restrict = (next: KubeObject): KubeObject => {
      if (!info.statusSubresource || !old) return next;
      if (onlyStatus) return { ...clone(old), status: next.status };
      return { ...next, status: clone(old.status) };
    };
    const checkVersion = (next: KubeObject) => {
      const want = next.metadata?.resourceVersion;
      if (want && old && want !== old.metadata?.resourceVersion) {
        throw new HttpStatusError(409, 'Conflict', `Operation cannot be fulfilled on ${info.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
      }
    };

    if (method === 'GET') {
      if (!old) throw notFound();
      return this.send(res, 200, old);
    }
    if (method === 'PATCH') {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      const text = await this.body(req);
      if (type === 'application/apply-patch+yaml') {
        const applied = parseYaml(text) as KubeObject;
        if (!old) {
          if (onlyStatus) throw notFound();
          (applied.metadata ??= {}).name ??= name;
          if (namespace) applied.metadata.namespace ??= namespace;
          return this.send(res, 201, this.createObject(info, applied, { keepStatus: false, checkNamespace: true }));
        }
        return this.send(res, 200, this.store_(info, old, restrict(mergePatch(old, { ...applied, metadata: { ...applied.metadata, resourceVersion: undefined } }) as KubeObject)));
      }
      if (!old) throw notFound();
      const patch = JSON.parse(text) as unknown;
      let next: KubeObject;
      if (type === 'application/merge-patch+json') next = mergePatch(old, patch) as KubeObject;
      else if (type === 'application/strategic-merge-patch+json') next = strategicMergePatch(old, patch) as KubeObject;
      else throw new HttpStatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
      if (isObject(patch) && isObject(patch.metadata)) checkVersion(patch as KubeObject);
      if (next.metadata) next.metadata.resourceVersion = old.metadata?.resourceVersion;
      return this.send(res, 200, this.store_(info, old, restrict(next)));
    }
    if (method === 'DELETE') {
      if (!old) throw notFound();
      return this.send(res, 200, this.deleteObject(info, old));
    }
    throw new HttpStatusError(405, 'MethodNotAllowed', `${method} is not allowed`);
  }

  private watch(res: ServerResponse, info: KindInfo, namespace: string | undefined, query: Record<string, string>): void {
    const w: Watcher = { info, namespace, labelSelector: query.labelSelector, res };
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const from = query.resourceVersion;
    if (from === undefined || from === '' || from === '0') {
      // No version: the current objects as ADDED, then changes.
      for (const o of this.bucket(info).values()) {
        if (this.watchMatches(w, { rv: 0, type: 'ADDED', info, object: o })) this.writeEvent(res, 'ADDED', o);
      }
    } else {
      const n = Number(from);
      if (!Number.isFinite(n) || n < this.compactedRv - 1) {
        this.writeEvent(res, 'ERROR', status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv - 1})`));
        res.end();
        return;
      }
      for (const ev of this.history) if (ev.rv > n && this.watchMatches(w, ev)) this.writeEvent(res, ev.type, ev.object);
    }
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
  }
}
