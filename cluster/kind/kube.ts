/** Readiness checks over objects read through cluster/kube (nodes and pods alike carry a Ready condition). */
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/kinds.js';

type WithConditions = { status?: { conditions?: Array<{ type?: string; status?: string }> } };

export function conditionTrue(obj: unknown, type: string): boolean {
  return ((obj as WithConditions).status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** True when at least `want` objects exist and all are Ready. */
export function allReady(objs: readonly unknown[], want: number): boolean {
  return objs.length >= want && objs.every((o) => conditionTrue(o, 'Ready'));
}

/** What is not Ready yet, for the timeout message. */
export function readinessSummary(objs: readonly KubeObject[]): string {
  const missing = objs.filter((o) => !conditionTrue(o, 'Ready')).map((o) => o.metadata?.name ?? '?');
  return `${objs.length} present${missing.length ? `, not Ready: ${missing.join(', ')}` : ''}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Apply, retrying while the API refuses (MetalLB's webhook answers a few seconds after its pod is Ready). */
export async function applyWithRetry(kube: KubeClient, obj: KubeObject, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await kube.applyObject(obj);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(1000);
    }
  }
}
