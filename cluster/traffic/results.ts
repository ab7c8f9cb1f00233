/**
 * The parent side of cluster/traffic/http-client.ts: read its one-JSON-line-per-request output
 * from a running child (in a lab namespace, or `docker exec` in a kind client container).
 */
import type { ResultPromise } from 'execa';
import { NetlabError } from '../../analyzer/errors.js';
import type { RequestResult } from './http-client.js';

/** Calls `onResult` for each request as it finishes; resolves with all of them when the client exits. */
export function collectResults(child: ResultPromise, where: string, onResult: (r: RequestResult) => void): Promise<RequestResult[]> {
  const results: RequestResult[] = [];
  let carry = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (carry + d.toString()).split('\n');
    carry = lines.pop() ?? '';
    for (const l of lines.filter(Boolean)) {
      const r = JSON.parse(l) as RequestResult;
      results.push(r);
      onResult(r);
    }
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return child.then((r) => {
    if (r.exitCode !== 0) throw new NetlabError(`the traffic client in ${where} failed: ${stderr.trim() || `exit ${r.exitCode}`}`);
    return results;
  });
}

function count<T>(items: readonly T[], key: (t: T) => string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) {
    const k = key(i);
    if (k !== null) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** What the client saw: CaptureRun.requests. */
export function requestSummary(results: readonly RequestResult[]): { sent: number; answered: number; failed: number; hostnames: Record<string, number>; clientAddresses: Record<string, number> } {
  const answered = results.filter((r) => r.status !== null);
  return { sent: results.length, answered: answered.length, failed: results.length - answered.length, hostnames: count(answered, (r) => r.hostname), clientAddresses: count(answered, (r) => r.clientAddress) };
}
