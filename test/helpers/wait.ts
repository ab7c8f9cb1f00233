/** Polling for lab and controller tests: wait until `fn` returns something truthy. */
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Keep polling when `fn` throws (a CLI call racing a state write), reporting the last error on timeout. */
  retryErrors?: boolean;
  /** Extra text for the timeout message (e.g. a process's log). */
  detail?: () => string;
}

export async function waitUntil<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, opts: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 100, retryErrors = false, detail } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      if (!retryErrors) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}${detail ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
