/**
 * netlab's one client of a Kubernetes API. @kubernetes/client-node loads the kubeconfig and
 * authenticates (certificates, tokens, exec plugins, proxies) and streams watches; requests carry
 * plain JSON both ways, so objects keep every field the server sent (custom ones included) and
 * timestamps stay RFC 3339 strings, as the rest of netlab's Kubernetes objects are typed (`Json<V1…>`).
 * Every failure is a NetlabError naming the request; an apply error names the manifest's file:line.
 */
import http from 'node:http';
import https from 'node:https';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { NetlabError } from '../../analyzer/errors.js';
import { yamlDocuments } from '../model/parse.js';
import { loadKubeConfig, type KubeConfigOptions } from './config.js';
import {
  KINDS,
  collectionPath,
  groupVersionPath,
  objectKey,
  objectPath,
  type KindInfo,
  type KindName,
  type KindTypes,
  type KubeObject,
} from './kinds.js';

/** A non-2xx answer of the API, with its HTTP status and the Status object's reason. */
export class KubeApiError extends NetlabError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    opts: { where?: string; hint?: string } = {},
  ) {
    super(message, opts);
    this.name = 'KubeApiError';
  }
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

/** A running list+watch of one kind, with its cache (the objects as last seen). */
export interface Informer<T> {
  /** Resolves after the first list has been delivered as ADDED events. */
  readonly synced: Promise<void>;
  list(): T[];
  /** How many times it listed: 1 + the restarts after `410 Gone` (resourceVersion too old). */
  readonly lists: number;
  stop(): void;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  /** Errors of the watch connection (it is restarted after each); default: ignored. */
  onError?: (err: Error) => void;
}

export interface AppliedObject {
  kind: string;
  /** `namespace/name` or `name`. */
  key: string;
  where: string;
  action: 'created' | 'configured';
  object: KubeObject;
}

export type PatchStrategy = 'merge' | 'strategic';
const CONTENT_TYPE: Record<PatchStrategy | 'apply', string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

const REQUEST_TIMEOUT_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Response {
  status: number;
  body: unknown;
}

function statusMessage(body: unknown, fallback: string): { reason: string; message: string } {
  const s = body as { kind?: string; reason?: string; message?: string } | null;
  if (s && typeof s === 'object' && s.kind === 'Status') return { reason: s.reason ?? '', message: s.message ?? fallback };
  return { reason: '', message: typeof body === 'string' && body ? body.slice(0, 200) : fallback };
}

export class KubeClient {
  readonly server: string;
  private readonly discovered = new Map<string, KindInfo[]>();

  constructor(
    readonly config: KubeConfig,
    private readonly opts: { fieldManager?: string } = {},
  ) {
    this.server = config.getCurrentCluster()?.server.replace(/\/+$/, '') ?? '';
  }

  static fromOptions(opts: KubeConfigOptions = {}, fieldManager?: string): KubeClient {
    return new KubeClient(loadKubeConfig(opts), { fieldManager });
  }

  get fieldManager(): string {
    return this.opts.fieldManager ?? 'netlab';
  }

  /** One HTTP request; JSON in and out. */
  async request(method: string, path: string, opts: { query?: Record<string, string>; body?: unknown; contentType?: string } = {}): Promise<Response> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const reqOpts: https.RequestOptions = { method, headers: { Accept: 'application/json', 'User-Agent': 'netlab' } };
    await this.config.applyToHTTPSOptions(reqOpts);
    const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    if (payload !== undefined) reqOpts.headers = { ...reqOpts.headers, 'Content-Type': opts.contentType ?? 'application/json' };
    const mod = url.protocol === 'https:' ? https : http;
    const what = `${method} ${url.pathname}${url.search}`;
    return new Promise<Response>((resolve, reject) => {
      const req = mod.request(url, reqOpts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : null;
          } catch {
            // Not JSON (a proxy's error page): keep the text for the message.
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(new NetlabError(`cannot reach the Kubernetes API: ${err.code ?? err.message}`, { where: `${this.server} (${what})`, hint: 'is the cluster up? check --kubeconfig and --context' }));
      });
      req.end(payload);
    });
  }

  /** Like request, but a non-2xx status throws a KubeApiError. */
  private async call(method: string, path: string, opts: Parameters<KubeClient['request']>[2] = {}, where?: string): Promise<Response> {
    const r = await this.request(method, path, opts);
    if (r.status >= 200 && r.status < 300) return r;
    const { reason, message } = statusMessage(r.body, `HTTP ${r.status}`);
    const hint = r.status === 401 || r.status === 403 ? 'check the kubeconfig user\'s credentials and RBAC' : undefined;
    throw new KubeApiError(r.status, reason, `${method} ${path}: ${r.status} ${reason ? `${reason}: ` : ''}${message}`, { where: where ?? this.server, hint });
  }

  /** The REST names of a kind: the built-in table, else the API's discovery document of its group version. */
  async resolve(apiVersion: string, kind: string, where?: string): Promise<KindInfo> {
    const known = (Object.values(KINDS) as KindInfo[]).find((k) => k.kind === kind && k.apiVersion === apiVersion);
    if (known) return known;
    let infos = this.discovered.get(apiVersion);
    if (!infos) {
      const r = await this.request('GET', groupVersionPath(apiVersion));
      if (r.status === 404) throw new NetlabError(`the API has no group version ${apiVersion}`, { where, hint: 'install the CRDs that define it first (or fix apiVersion)' });
      if (r.status < 200 || r.status >= 300) throw new KubeApiError(r.status, '', `discovery of ${apiVersion} failed: HTTP ${r.status}`, { where });
      const list = r.body as { resources?: Array<{ name: string; kind: string; namespaced: boolean }> };
      const names = new Set((list.resources ?? []).map((x) => x.name));
      infos = (list.resources ?? [])
        .filter((x) => !x.name.includes('/'))
        .map((x) => ({ kind: x.kind, apiVersion, plural: x.name, namespaced: x.namespaced, statusSubresource: names.has(`${x.name}/status`) }));
      this.discovered.set(apiVersion, infos);
    }
    const info = infos.find((k) => k.kind === kind);
    if (!info) throw new NetlabError(`the API has no kind ${kind} in ${apiVersion}`, { where, hint: 'install the CRD that defines it first (or fix kind/apiVersion)' });
    return info;
  }

  private withKind<T extends KubeObject>(info: KindInfo, o: T): T {
    // List items of built-in kinds come without apiVersion and kind.
    return { ...o, apiVersion: o.apiVersion ?? info.apiVersion, kind: o.kind ?? info.kind };
  }

  async listWithVersion<K extends KindName>(kind: K, namespace?: string, opts: { labelSelector?: string } = {}): Promise<{ items: KindTypes[K][]; resourceVersion: string }> {
    const info = KINDS[kind];
    const query: Record<string, string> = {};
    if (opts.labelSelector) query.labelSelector = opts.labelSelector;
    const r = await this.call('GET', collectionPath(info, namespace), { query });
    const list = r.body as { items?: KubeObject[]; metadata?: { resourceVersion?: string } };
    return { items: (list.items ?? []).map((o) => this.withKind(info, o) as KindTypes[K]), resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  /** Every object of a kind (in one namespace, or all). */
  async list<K extends KindName>(kind: K, namespace?: string, opts: { labelSelector?: string } = {}): Promise<KindTypes[K][]> {
    return (await this.listWithVersion(kind, namespace, opts)).items;
  }

  /** One object, or null when it does not exist. */
  async get<K extends KindName>(kind: K, name: string, namespace?: string): Promise<KindTypes[K] | null> {
    const info = KINDS[kind];
    const r = await this.request('GET', objectPath(info, namespace, name));
    if (r.status === 404) return null;
    if (r.status < 200 || r.status >= 300) {
      const { reason, message } = statusMessage(r.body, `HTTP ${r.status}`);
      throw new KubeApiError(r.status, reason, `GET ${objectPath(info, namespace, name)}: ${r.status} ${message}`, { where: this.server });
    }
    return this.withKind(info, r.body as KubeObject) as KindTypes[K];
  }

  async create<K extends KindName>(kind: K, object: KindTypes[K]): Promise<KindTypes[K]> {
    const info = KINDS[kind];
    const body = this.withKind(info, object as KubeObject);
    const r = await this.call('POST', collectionPath(info, body.metadata?.namespace), { body, query: { fieldManager: this.fieldManager } });
    return r.body as KindTypes[K];
  }

  /**
   * A JSON merge patch (RFC 7386) of the object; a `metadata.resourceVersion` in the patch is a
   * precondition (409 when the object changed since).
   */
  async patchMerge<K extends KindName>(kind: K, name: string, namespace: string | undefined, patch: object): Promise<KindTypes[K]> {
    const r = await this.call('PATCH', objectPath(KINDS[kind], namespace, name), { body: patch, contentType: CONTENT_TYPE.merge, query: { fieldManager: this.fieldManager } });
    return r.body as KindTypes[K];
  }

  /**
   * Patch the status subresource: `status` is merged into the object's status. With 'strategic'
   * (the default for Pods), lists such as status.conditions merge by their key (`type`) on a real
   * API server, so other writers' conditions are kept.
   */
  async patchStatus<K extends KindName>(kind: K, name: string, namespace: string | undefined, status: object, strategy: PatchStrategy = kind === 'Pod' ? 'strategic' : 'merge'): Promise<KindTypes[K]> {
    const info = KINDS[kind];
    if (!info.statusSubresource) throw new NetlabError(`${kind} has no status subresource`, { exitCode: 1 });
    const r = await this.call('PATCH', objectPath(info, namespace, name, 'status'), { body: { status }, contentType: CONTENT_TYPE[strategy], query: { fieldManager: this.fieldManager } });
    return r.body as KindTypes[K];
  }

  /** Delete an object; false when it was not there. Objects with finalizers stay (terminating) until those are removed. */
  async delete(kind: KindName, name: string, namespace?: string, opts: { gracePeriodSeconds?: number } = {}): Promise<boolean> {
    const path = objectPath(KINDS[kind], namespace, name);
    const query: Record<string, string> = {};
    if (opts.gracePeriodSeconds !== undefined) query.gracePeriodSeconds = String(opts.gracePeriodSeconds);
    const r = await this.request('DELETE', path, { query });
    if (r.status === 404) return false;
    if (r.status < 200 || r.status >= 300) {
      const { reason, message } = statusMessage(r.body, `HTTP ${r.status}`);
      throw new KubeApiError(r.status, reason, `DELETE ${path}: ${r.status} ${message}`, { where: this.server });
    }
    return true;
  }

  /** The current context's namespace (kubectl's default for namespaced objects without one). */
  get defaultNamespace(): string {
    return this.config.getContextObject(this.config.getCurrentContext())?.namespace ?? 'default';
  }

  /** Server-side apply one object (created when missing); `where` names it in errors. */
  async applyObject(object: KubeObject, where?: string, defaultNamespace = this.defaultNamespace): Promise<AppliedObject> {
    const loc = where ?? objectKey(object);
    if (typeof object.kind !== 'string' || typeof object.apiVersion !== 'string') {
      throw new NetlabError('the object has no apiVersion or kind', { where: loc, hint: 'each document must be a Kubernetes object with apiVersion and kind' });
    }
    const name = object.metadata?.name;
    if (typeof name !== 'string' || name === '') throw new NetlabError(`${object.kind} has no metadata.name`, { where: loc, hint: 'add metadata.name' });
    const info = await this.resolve(object.apiVersion, object.kind, loc);
    const namespace = info.namespaced ? (object.metadata?.namespace ?? defaultNamespace) : undefined;
    const body = info.namespaced ? { ...object, metadata: { ...object.metadata, namespace } } : object;
    const r = await this.call(
      'PATCH',
      objectPath(info, namespace, name),
      { body, contentType: CONTENT_TYPE.apply, query: { fieldManager: this.fieldManager, force: 'true' } },
      loc,
    );
    return { kind: object.kind, key: objectKey(body), where: loc, action: r.status === 201 ? 'created' : 'configured', object: r.body as KubeObject };
  }

  /** Apply every document of a manifest file's text, in order; the first error names its document's file:line. */
  async applyDocuments(yamlText: string, file: string, defaultNamespace = this.defaultNamespace): Promise<AppliedObject[]> {
    const docs = yamlDocuments(yamlText, file);
    for (const d of docs) {
      if (typeof d.value !== 'object' || Array.isArray(d.value)) {
        throw new NetlabError('a document is not a Kubernetes object (a mapping with apiVersion and kind)', { where: d.where, hint: 'each --- document must be one object' });
      }
    }
    const out: AppliedObject[] = [];
    for (const d of docs) out.push(await this.applyObject(d.value as KubeObject, d.where, defaultNamespace));
    return out;
  }

  /** Record a core/v1 Event about an object, as controllers do (`kubectl describe` shows it). */
  async createEvent(about: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, component = this.fieldManager): Promise<void> {
    const namespace = about.metadata?.namespace ?? 'default';
    const now = new Date().toISOString();
    const suffix = `${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
    await this.create('Event', {
      metadata: { name: `${about.metadata?.name ?? 'object'}.${suffix}`, namespace },
      involvedObject: { apiVersion: about.apiVersion, kind: about.kind, name: about.metadata?.name, namespace, uid: about.metadata?.uid, resourceVersion: about.metadata?.resourceVersion },
      type,
      reason,
      message,
      source: { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }

  /**
   * List, then watch from the list's resourceVersion, as client-go's informers do: every object
   * arrives as ADDED, then changes as they happen. A watch that ends is resumed from the last
   * resourceVersion seen; `410 Gone` (that version is too old) makes it list again and report the
   * difference (ADDED / MODIFIED / DELETED) so the caller's view stays complete.
   */
  watch<K extends KindName>(kind: K, onEvent: (e: WatchEvent<KindTypes[K]>) => void, opts: WatchOptions = {}): Informer<KindTypes[K]> {
    const informer = new ListWatch<KindTypes[K]>(this, KINDS[kind], kind, onEvent as (e: WatchEvent<KindTypes[K]>) => void, opts);
    informer.start();
    return informer;
  }

  /**
   * Resolve with `pred`'s first truthy answer over the kind's current objects, re-asked after every
   * change (a watch, not a poll); a NetlabError naming `what` after `timeoutMs`.
   */
  async waitFor<K extends KindName, R>(
    kind: K,
    pred: (objects: KindTypes[K][]) => R | undefined | null | false,
    opts: { timeoutMs: number; what: string; namespace?: string; labelSelector?: string },
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let done = false;
      let informer: Informer<KindTypes[K]> | null = null;
      const finish = (err: Error | null, value?: R) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        informer?.stop();
        if (err) reject(err);
        else resolve(value as R);
      };
      const check = () => {
        if (done || !informer) return;
        try {
          const v = pred(informer.list());
          if (v) finish(null, v);
        } catch (err) {
          finish(err as Error);
        }
      };
      const timer = setTimeout(() => finish(new NetlabError(`timed out after ${opts.timeoutMs / 1000} s waiting for ${opts.what}`, { where: this.server })), opts.timeoutMs);
      informer = this.watch(kind, () => check(), { namespace: opts.namespace, labelSelector: opts.labelSelector });
      informer.synced.then(check, (err: Error) => finish(err));
    });
  }
}

class ListWatch<T extends KubeObject> implements Informer<T> {
  private readonly cache = new Map<string, T>();
  private resourceVersion = '';
  private stopped = false;
  private abort: AbortController | null = null;
  private backoffMs = 0;
  lists = 0;
  readonly synced: Promise<void>;
  private resolveSynced!: () => void;
  private rejectSynced!: (err: Error) => void;

  constructor(
    private readonly client: KubeClient,
    private readonly info: KindInfo,
    private readonly kind: KindName,
    private readonly onEvent: (e: WatchEvent<T>) => void,
    private readonly opts: WatchOptions,
  ) {
    this.synced = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve;
      this.rejectSynced = reject;
    });
    // A caller that never awaits `synced` must not see an unhandled rejection.
    this.synced.catch(() => undefined);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.abort = null;
  }

  start(): void {
    void this.loop();
  }

  private emit(type: WatchEventType, object: T): void {
    try {
      this.onEvent({ type, object });
    } catch (err) {
      this.opts.onError?.(err as Error);
    }
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.client.listWithVersion(this.kind, this.opts.namespace, { labelSelector: this.opts.labelSelector });
    this.lists++;
    const seen = new Set<string>();
    for (const raw of items) {
      const o = raw as T;
      const key = objectKey(o);
      seen.add(key);
      const had = this.cache.get(key);
      this.cache.set(key, o);
      if (!had) this.emit('ADDED', o);
      else if (had.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.emit('MODIFIED', o);
    }
    for (const [key, o] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit('DELETED', o);
    }
    this.resourceVersion = resourceVersion;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.resourceVersion === '') {
          await this.relist();
          if (this.lists === 1) this.resolveSynced();
        }
        const startedAt = Date.now();
        const gone = await this.watchOnce();
        if (gone) this.resourceVersion = '';
        // A server that ends every watch at once must not be asked again in a tight loop.
        if (!gone && Date.now() - startedAt < 100) await sleep(200);
        this.backoffMs = 0;
      } catch (err) {
        if (this.stopped) return;
        const e = err as Error & { statusCode?: number };
        if (e.statusCode === 410) {
          this.resourceVersion = '';
          continue;
        }
        if (this.lists === 0 && e instanceof NetlabError && !(e instanceof KubeApiError && e.status >= 500)) {
          // The first list failed for a reason waiting will not fix (unreachable, forbidden, unknown kind).
          this.rejectSynced(e);
          this.stopped = true;
          return;
        }
        this.opts.onError?.(e);
        this.backoffMs = Math.min(5000, Math.max(200, this.backoffMs * 2));
        await sleep(this.backoffMs);
      }
    }
  }

  /** One watch connection; resolves when it ends: true when the server said 410 Gone. */
  private async watchOnce(): Promise<boolean> {
    let gone = false;
    const query: Record<string, string> = { resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true' };
    if (this.opts.labelSelector) query.labelSelector = this.opts.labelSelector;
    const watcher = new Watch(this.client.config);
    await new Promise<void>((resolve, reject) => {
      const onObject = (type: string, object: T & { code?: number }) => {
        if (type === 'ERROR') {
          if (object.code === 410) gone = true;
          return;
        }
        if (object.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
        if (type === 'BOOKMARK') return;
        const o = { ...object, apiVersion: object.apiVersion ?? this.info.apiVersion, kind: object.kind ?? this.info.kind } as T;
        const key = objectKey(o);
        if (type === 'DELETED') {
          this.cache.delete(key);
          this.emit('DELETED', o);
        } else if (type === 'ADDED' || type === 'MODIFIED') {
          const had = this.cache.has(key);
          this.cache.set(key, o);
          this.emit(had ? 'MODIFIED' : 'ADDED', o);
        }
      };
      const done = (err: unknown) => {
        this.abort = null;
        if (err && !this.stopped && !(err instanceof Error && err.name === 'AbortError')) reject(err as Error);
        else resolve();
      };
      watcher
        .watch(collectionPath(this.info, this.opts.namespace), query, onObject, done)
        .then((controller) => {
          if (this.stopped) controller.abort();
          else this.abort = controller;
        })
        .catch(reject);
    });
    return gone;
  }
}
