/**
 * Whether `--provider kind` can run on this machine, and what is missing: the kind binary (and
 * whether it is the release the node image is pinned for) and the pinned kindest/node image in the
 * local engine (kind would pull it; a machine without registry access must have it already).
 * The Docker engine's rows come from cluster/docker/doctor.ts; the verdict reads them too.
 */
import type { CheckResult } from '../doctor/checks.js';
import { DockerClient } from '../docker/client.js';
import { run, which } from '../exec/exec.js';
import { KIND_RELEASE, NODE_IMAGE } from './config.js';
import { KIND_INSTALL_HINT } from './env.js';

const BLOCKS = 'netlab up --provider kind, netlab capture --provider kind';

/** `engineUp`: whether the engine answered, when the caller already asked it (doctor's Docker rows). */
export async function kindProviderChecks(docker = new DockerClient(), kindBin = process.env.NETLAB_KIND_BIN ?? 'kind', engineUp?: boolean): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const kind = kindBin.includes('/') ? kindBin : await which(kindBin);
  if (kind) {
    const v = await run(kind, ['version'], { allowFailure: true, timeoutMs: 5000 });
    const version = v.stdout.trim().split(/\s+/)[1] ?? v.stdout.trim();
    const same = version === KIND_RELEASE;
    results.push({
      name: 'kind: kind binary',
      status: v.exitCode === 0 ? (same ? 'ok' : 'warn') : 'missing',
      detail: v.exitCode === 0 ? `${kind} ${version}${same ? '' : ` (netlab pins its node image for ${KIND_RELEASE})`}` : `${kind} version failed: ${v.stderr.trim().slice(0, 60)}`,
      blocks: BLOCKS,
      fix: same ? null : KIND_INSTALL_HINT,
      required: false,
    });
  } else {
    results.push({ name: 'kind: kind binary', status: 'missing', detail: 'not on PATH', blocks: BLOCKS, fix: KIND_INSTALL_HINT, required: false });
  }
  // The engine's own rows come from cluster/docker/doctor.ts; here only whether the pinned image is in it.
  const engine = engineUp ?? ((await which('docker')) !== null && (await docker.info().then(() => true, () => false)));
  if (engine) {
    const present = await docker.imageExists(NODE_IMAGE).catch(() => false);
    results.push({
      name: 'kind: pinned node image',
      status: present ? 'ok' : 'warn',
      detail: present ? NODE_IMAGE : `${NODE_IMAGE.split('@')[0]} with the pinned digest is not in the local engine; kind create cluster will pull it`,
      blocks: 'kind create cluster on a machine without registry access',
      fix: present ? null : `docker pull ${NODE_IMAGE}`,
      required: false,
    });
  }
  return results;
}

/** One line for the end of `netlab doctor`: can the kind provider run, and if not, what is missing. */
export function kindVerdict(results: readonly CheckResult[]): string {
  const kindRows = results.filter((r) => r.name.startsWith('kind: ') || r.name === 'docker engine');
  const label = (r: CheckResult) => r.name.replace(/^kind: /, '');
  const missing = kindRows.filter((r) => r.status === 'missing').map(label);
  const warn = kindRows.filter((r) => r.status === 'warn').map(label);
  if (kindRows.length === 0) return 'The kind provider was not checked.';
  if (missing.length) return `The kind provider cannot run here: missing ${missing.join(', ')}.`;
  return warn.length ? `The kind provider can run here, with warnings: ${warn.join(', ')}.` : 'The kind provider can run here.';
}
