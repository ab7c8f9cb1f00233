/**
 * The few Kubernetes API calls the kind provider makes, over @kubernetes/client-node: server-side
 * apply of whole objects (any kind the server's discovery knows, MetalLB's CRDs included), list,
 * delete, and condition waits. Errors name the object and what the API server said.
 */
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { NetlabError } from '../../analyzer/errors.js';

const FIELD_MANAGER = 'netlab';

export type KubeObject = KubernetesObject & Record<string, unknown>;

function describe(obj: KubernetesObject): string {
  return `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;
}

function apiMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let body: { message?: string } | undefined;
  try {
    body = typeof e.body === 'string' ? (JSON.parse(e.body) as { message?: string }) : (e.body as { message?: string } | undefined);
  } catch {
    body = undefined;
  }
  return body?.message ?? e.message ?? String(err);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KindKube {
  private readonly api: KubernetesObjectApi;

  constructor(kubeconfigFile: string) {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(kubeconfigFile);
    } catch (err) {
      throw new NetlabError(`cannot load kubeconfig: ${(err as Error).message}`, { where: kubeconfigFile, hint: 'run netlab up --provider kind again' });
    }
    this.api = KubernetesObjectApi.makeApiClient(kc);
  }

  /** Server-side apply: creates the object or updates the fields netlab owns. */
  async apply(obj: KubeObject): Promise<KubeObject> {
    try {
      return (await this.api.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply)) as KubeObject;
    } catch (err) {
      throw new NetlabError(`cannot apply ${describe(obj)}: ${apiMessage(err)}`);
    }
  }

  /** Apply, retrying while the API answers with an error (e.g. MetalLB's webhook is not serving yet). */
  async applyWithRetry(obj: KubeObject, timeoutMs: number): Promise<KubeObject> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.apply(obj);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(1000);
      }
    }
  }

  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    try {
      const r = await this.api.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
      return r.items.map((i) => ({ apiVersion, kind, ...i }) as KubeObject);
    } catch (err) {
      throw new NetlabError(`cannot list ${kind}${namespace ? ` in ${namespace}` : ''}: ${apiMessage(err)}`);
    }
  }

  /** Delete; an object that is already gone is fine. */
  async delete(obj: KubernetesObject): Promise<void> {
    try {
      await this.api.delete(obj, undefined, undefined, 0, undefined, 'Foreground');
    } catch (err) {
      if ((err as { code?: number }).code === 404) return;
      throw new NetlabError(`cannot delete ${describe(obj)}: ${apiMessage(err)}`);
    }
  }

  /**
   * Poll until `check` returns null (done) or the time is up; `check` returns what is still
   * missing, which the timeout error repeats. API errors while polling count as "not yet".
   */
  async waitFor(what: string, check: () => Promise<string | null>, timeoutMs: number, periodMs = 1000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let missing = 'no answer yet';
    for (;;) {
      try {
        const m = await check();
        if (m === null) return;
        missing = m;
      } catch (err) {
        missing = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) throw new NetlabError(`${what}: not done after ${Math.round(timeoutMs / 1000)} s: ${missing}`);
      await sleep(periodMs);
    }
  }
}

type WithConditions = { status?: { conditions?: Array<{ type?: string; status?: string }> } };

export function conditionTrue(obj: unknown, type: string): boolean {
  return ((obj as WithConditions).status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** What is not Ready among these objects (nodes or pods), or null when all are. */
export function notReady(objs: readonly KubeObject[], want: number): string | null {
  const missing = objs.filter((o) => !conditionTrue(o, 'Ready')).map((o) => o.metadata?.name ?? '?');
  if (objs.length < want) return `${objs.length} of ${want} present${missing.length ? `; not Ready: ${missing.join(', ')}` : ''}`;
  return missing.length ? `not Ready: ${missing.join(', ')}` : null;
}
