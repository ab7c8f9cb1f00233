/**
 * Thin executor for the plans in plan.ts: one `ip -batch` process per namespace and stage (run in
 * parallel), one `sysctl` process per namespace. Nothing here decides anything.
 */
import { run } from '../exec/exec.js';
import type { IpBatch } from './plan.js';

/** Print instead of run (`up --dry-run`). */
export type DryRun = ((line: string) => void) | null;

export async function runIpBatch(batch: IpBatch, dryRun: DryRun = null): Promise<void> {
  if (batch.lines.length === 0) return;
  const args = batch.netns ? ['-n', batch.netns, '-batch', '-'] : ['-batch', '-'];
  if (dryRun) {
    for (const line of batch.lines) dryRun(`ip ${batch.netns ? `-n ${batch.netns} ` : ''}${line}`);
    return;
  }
  await run('ip', args, { input: `${batch.lines.join('\n')}\n` });
}

/** Stages run in order; the batches of one stage run in parallel. */
export async function runStages(stages: IpBatch[][], dryRun: DryRun = null): Promise<void> {
  for (const stage of stages) await Promise.all(stage.map((b) => runIpBatch(b, dryRun)));
}

export async function setSysctls(netns: string, settings: string[], dryRun: DryRun = null): Promise<void> {
  if (settings.length === 0) return;
  if (dryRun) {
    dryRun(`ip netns exec ${netns} sysctl -qw ${settings.join(' ')}`);
    return;
  }
  await run('sysctl', ['-qw', ...settings], { netns });
}

/** The lab's namespaces that exist right now. */
export async function existingNamespaces(): Promise<Set<string>> {
  const r = await run('ip', ['netns', 'list']);
  return new Set(r.stdout.split('\n').map((l) => l.split(' ')[0]).filter(Boolean));
}

/** Delete namespaces that exist (missing ones are fine: `down` runs after partial `up`s). */
export async function deleteNamespaces(names: string[]): Promise<void> {
  const present = await existingNamespaces();
  const lines = names.filter((n) => present.has(n)).map((n) => `netns del ${n}`);
  if (lines.length) await run('ip', ['-force', '-batch', '-'], { input: `${lines.join('\n')}\n` });
}
